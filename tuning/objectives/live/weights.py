"""Each finished trial's weights: what Hyperband continues from and what the chosen trial is tested with.

Kept in memory; with a directory (a run's work folder) also written to
``<directory>/<trial id>.npz`` as each trial ends, so a run resumed in another
process still has them.  The format cannot run code when read: plain arrays
written by ``np.savez`` and read with ``np.load(..., allow_pickle=False)``
(no pickles, unlike Keras Tuner's or Optuna's own recipes).  Each file is
written beside its final name, flushed to disk and renamed into place, so a
killed process never leaves half a file under a trial's name.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

Weights = list[np.ndarray]


class TrialWeights:
    """Trial id -> the weights the trial ended with (``keras.Model.get_weights()`` order)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else None
        self._memory: dict[str, Weights] = {}

    def path(self, trial_id: str) -> Path | None:
        return self.directory / f"{trial_id}.npz" if self.directory is not None else None

    def put(self, trial_id: str, weights: Weights) -> None:
        self._memory[trial_id] = weights
        if self.directory is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{trial_id}.", suffix=".tmp", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, *weights)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path(trial_id))  # type: ignore[arg-type]
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

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
