"""Each finished trial's weights: what Hyperband continues from and what the chosen trial is tested with.

Kept in memory; with a directory (a run's work folder) also written to
``<directory>/<trial id>.npz`` as each trial ends, so a run resumed in another
process still has them.  The format cannot run code when read: plain arrays
written by ``np.savez`` and read with ``np.load(..., allow_pickle=False)``
(no pickles, unlike Keras Tuner's or Optuna's own recipes).  Each file is
written beside its final name, flushed to disk and renamed into place, so a
killed process never leaves half a file under a trial's name.  Each file's
SHA-256 is kept (``digests``) for the run's checkpoint, so that a resumed run
finds a file that went missing or was damaged since (a partial copy, a full
disk) before it needs it (``damaged``), and trains that trial again.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

Weights = list[np.ndarray]


class TrialWeights:
    """Trial id -> the weights the trial ended with (``keras.Model.get_weights()`` order)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else None
        self._memory: dict[str, Weights] = {}
        self.digests: dict[str, str] = {}  # trial id -> SHA-256 of its file, as written

    def path(self, trial_id: str) -> Path | None:
        return self.directory / f"{trial_id}.npz" if self.directory is not None else None

    def put(self, trial_id: str, weights: Weights) -> None:
        self._memory[trial_id] = weights
        if self.directory is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        np.savez(buffer, *weights)
        data = buffer.getvalue()
        fd, tmp = tempfile.mkstemp(prefix=f".{trial_id}.", suffix=".tmp", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path(trial_id))  # type: ignore[arg-type]
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        self.digests[trial_id] = hashlib.sha256(data).hexdigest()

    def damaged(self, digests: Mapping[str, str]) -> list[str]:
        """The trials of ``digests`` (trial id -> SHA-256, as a checkpoint kept them) whose file is missing
        or no longer has that digest; the others' digests are kept for the next checkpoint."""
        bad = []
        for trial_id, digest in digests.items():
            path = self.path(trial_id)
            try:
                ok = path is not None and hashlib.sha256(path.read_bytes()).hexdigest() == digest
            except OSError:
                ok = False
            if ok:
                self.digests[trial_id] = digest
            else:
                bad.append(trial_id)
                self._memory.pop(trial_id, None)
        return bad

    def get(self, trial_id: str) -> Weights:
        """The trial's weights, from memory or else from its file; ``KeyError`` when neither has them."""
        if trial_id in self._memory:
            return self._memory[trial_id]
        path = self.path(trial_id)
        if path is None or not path.is_file():
            raise KeyError(f"no weights for trial {trial_id}")
        with np.load(path, allow_pickle=False) as stored:
            weights = [stored[f"arr_{i}"] for i in range(len(stored.files))]
        self._memory[trial_id] = weights
        return weights
