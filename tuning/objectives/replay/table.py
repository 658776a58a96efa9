"""The replay table: one JSON line per (configuration, seed) trained under a budget's protocol.

A line is one live trial, exactly as ``tuning run`` would have trained it
(run seed ``seed``, trial id ``trial_id``: the same weights and shuffling),
with its learning curves kept whole: per epoch the validation accuracy and
loss, the test accuracy and loss, and the seconds of training steps,
validation and test scoring (``tuning.objectives.live.curves``); the trial's
wall-clock (build, compile, training, validation; test scoring excluded);
which plan entries asked for the configuration; and the recording's
provenance (versions, device, commit, when).

On disk, under ``results/<problem>/replay/<budget>/``: ``table.jsonl.gz``, the sealed
table (sorted, gzip without a timestamp, so the same lines give the same
bytes), and ``table.pending.jsonl``, the lines recorded since the last seal,
appended and synced one by one so that a killed recording loses only the
trial it was training.  Readers read both; ``seal`` folds the second into
the first.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tuning.core.budget import Budget
from tuning.core.records import is_number
from tuning.core.space import Config, SearchSpace, SpaceError

TABLE_FORMAT = 1
SEALED = "table.jsonl.gz"
PENDING = "table.pending.jsonl"
EPOCH_KEYS = (
    "val_accuracy",
    "val_loss",
    "test_accuracy",
    "test_loss",
    "train_seconds",
    "validation_seconds",
    "test_seconds",
)
PROTOCOL = ("name", "n_train", "n_val", "epochs")  # what a line must share with the budget it answers for


class TableError(ValueError):
    """A table that cannot be read, or one recorded under another protocol; the message says which and why."""


@dataclass(frozen=True)
class Recording:
    """One configuration trained once, with one seed, for the budget's full epochs."""

    key: str  # Space.key(hyperparameters)
    hyperparameters: Config
    seed: int  # the run seed the live objective was given
    trial_id: str  # and the trial id: together they fix the weights and the shuffling
    budget: Budget
    epochs: list[dict[str, Any]]  # LearningCurves' per-epoch entries
    seconds: float  # the trial's wall-clock: build, compile, training steps, validation
    sources: list[str] = field(default_factory=list)  # why it was recorded: grid, sobol, live:<strategy>
    provenance: dict[str, Any] = field(default_factory=dict)

    def column(self, name: str) -> np.ndarray:
        """One per-epoch quantity as an array (a missing loss is NaN)."""
        return np.array([np.nan if e[name] is None else e[name] for e in self.epochs], dtype=float)

    @property
    def build_seconds(self) -> float:
        """What the trial cost besides training steps and validation: building, compiling, setting up ``fit``."""
        spent = sum(e["train_seconds"] + e["validation_seconds"] for e in self.epochs)
        return max(0.0, self.seconds - spent)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": TABLE_FORMAT,
            "key": self.key,
            "hyperparameters": self.hyperparameters,
            "seed": self.seed,
            "trial_id": self.trial_id,
            "budget": self.budget.to_json(),
            "sources": self.sources,
            "seconds": self.seconds,
            "epochs": self.epochs,
            "provenance": self.provenance,
        }

    @classmethod
    def from_json(cls, data: Any, where: str, space: SearchSpace) -> Recording:
        if not isinstance(data, dict):
            raise TableError(f"{where}: not a JSON object")
        if data.get("format") != TABLE_FORMAT:
            raise TableError(f"{where}: table format {data.get('format')!r}, this version reads {TABLE_FORMAT}")
        try:
            config = space.validate(data["hyperparameters"])
            budget = Budget.from_json(data["budget"], TableError)
            epochs = data["epochs"]
            if not isinstance(epochs, list) or len(epochs) != budget.epochs:
                raise TableError(
                    f"{len(epochs) if isinstance(epochs, list) else 'no'} epochs, expected {budget.epochs}"
                )
            for e in epochs:
                for name in EPOCH_KEYS:
                    if not (e.get(name) is None and name.endswith("loss")) and not is_number(e.get(name)):
                        raise TableError(f"epoch {e.get('epoch')}: {name} is {e.get(name)!r}")
            if space.key(config) != data["key"]:
                raise TableError(f"key {data['key']!r} does not name its hyperparameters {config}")
            if not is_number(data["seconds"]) or not isinstance(data["seed"], int):
                raise TableError("seconds or seed is not a number")
            return cls(
                data["key"],
                config,
                data["seed"],
                str(data["trial_id"]),
                budget,
                epochs,
                float(data["seconds"]),
                list(data.get("sources", [])),
                dict(data.get("provenance", {})),
            )
        except (KeyError, TypeError, AttributeError) as e:
            raise TableError(f"{where}: missing or malformed {e}") from None
        except (TableError, SpaceError) as e:
            raise TableError(f"{where}: {e}") from None


def _lines(path: Path, tolerate_torn_tail: bool) -> Iterator[tuple[str, Any]]:
    """(where, parsed line) for each line; a pending file's last line may have been cut by a kill: skipped."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as f:
            text = f.read()
    except (OSError, EOFError, UnicodeDecodeError) as e:
        raise TableError(f"{path}: unreadable ({e})") from None
    lines = text.split("\n")
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield f"{path}:{number}", json.loads(line)
        except json.JSONDecodeError as e:
            if tolerate_torn_tail and number == len(lines):  # no newline after it: never finished
                return
            raise TableError(f"{path}:{number}: not JSON ({e.msg})") from None


def read_table(directory: Path, budget: Budget, space: SearchSpace) -> list[Recording]:
    """Every recording under ``directory`` (sealed, then pending), the first of each (configuration, seed).

    ``TableError`` when a line is malformed or was recorded under another protocol than ``budget``'s."""
    directory = Path(directory)
    recordings: list[Recording] = []
    seen: set[tuple[str, int]] = set()
    for name, torn in ((SEALED, False), (PENDING, True)):
        path = directory / name
        if not path.is_file():
            continue
        for where, data in _lines(path, torn):
            recording = Recording.from_json(data, where, space)
            mine, theirs = (tuple(getattr(b, k) for k in PROTOCOL) for b in (budget, recording.budget))
            if mine != theirs:
                raise TableError(
                    f"{where}: recorded under {dict(zip(PROTOCOL, theirs))}, not budget {budget.name}'s "
                    f"{dict(zip(PROTOCOL, mine))}"
                )
            if (recording.key, recording.seed) not in seen:
                seen.add((recording.key, recording.seed))
                recordings.append(recording)
    return recordings


def recorded_keys(directory: Path) -> set[str]:
    """The configurations (``Space.key``) a table under ``directory`` holds, read without checking each line
    (``read_table`` checks; this only asks whether a configuration was recorded)."""
    keys: set[str] = set()
    for name, torn in ((SEALED, False), (PENDING, True)):
        path = Path(directory) / name
        if path.is_file():
            keys.update(str(data.get("key")) for _, data in _lines(path, torn) if isinstance(data, dict))
    return keys


def _canonical(recording: Recording) -> str:
    return json.dumps(recording.to_json(), allow_nan=False, separators=(",", ":"))


def _ordered(recordings: Iterable[Recording]) -> list[Recording]:
    return sorted(recordings, key=lambda r: (r.key, r.seed))


def digest(recordings: Iterable[Recording]) -> str:
    """SHA-256 of the table's content, whatever order or file it was read from (a surrogate names its table by it)."""
    h = hashlib.sha256()
    for recording in _ordered(recordings):
        h.update(_canonical(recording).encode())
        h.update(b"\n")
    return h.hexdigest()


def append(directory: Path, recording: Recording) -> None:
    """Add one line to the pending file and sync it: once this returns, a kill cannot lose it."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    line = _canonical(recording) + "\n"
    with open(directory / PENDING, "a", encoding="utf-8") as f:
        f.write(line)
        f.flush()
        os.fsync(f.fileno())


def seal(directory: Path, budget: Budget, space: SearchSpace) -> int:
    """Fold the pending lines into the sealed table (atomically, sorted, reproducible bytes); return its size."""
    directory = Path(directory)
    pending = directory / PENDING
    recordings = _ordered(read_table(directory, budget, space))
    if not pending.exists():
        return len(recordings)
    fd, tmp = tempfile.mkstemp(prefix=f".{SEALED}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as raw:
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as f:
                for recording in recordings:
                    f.write((_canonical(recording) + "\n").encode())
            raw.flush()
            os.fsync(raw.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, directory / SEALED)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    pending.unlink()  # a kill before this only leaves lines that the next read skips as duplicates
    return len(recordings)
