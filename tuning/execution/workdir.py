"""A run's work folder: what a killed run needs to continue where it stopped, beside its result file.

``<results>/<budget>/.work/<strategy>-seed<N>/`` holds

* ``run.json``: which run the folder belongs to (``fingerprint``).  A folder
  left by another budget, strategy settings, seed, space, library versions,
  result schema or harness code is refused with one line naming what
  differs and how to discard it (``--fresh``); it is never mixed in.
* ``checkpoint.json``: the search after its last finished trial, written
  atomically (a temporary file, fsync, rename) after every trial: Keras
  Tuner's oracle state and trials, the harness's trial records, epochs spent
  and seconds elapsed (``SearchLoop.state``).
* ``weights/``: each finished trial's weights (``tuning.objectives.live.weights``).
* ``keras_tuner/``: Keras Tuner's own project files, scratch: rebuilt from
  the checkpoint on resume.
* ``.lock``: held (``flock``) while a process works here, so two processes
  never share a folder; the kernel releases it when its holder dies.

Why a checkpoint of our own instead of Keras Tuner's reload: Keras Tuner
rewrites ``oracle.json`` and each ``trial.json`` in place (a kill mid-write
leaves a truncated file) and in separate steps (a kill between them leaves a
trial file the oracle does not know of, and the next trial then takes
another id, hence another seed), and the harness's records live elsewhere.
One document replaced atomically keeps all of it consistent; the trial that
was running when the process died is not in it, so the oracle proposes it
again with the same id and the same seed.  Everything here is JSON or plain
arrays: nothing that can run code when it is read.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

from tuning import __version__
from tuning.core.budget import Budget
from tuning.core.errors import UsageError
from tuning.core.records import SCHEMA_VERSION
from tuning.results import read_json, result_path, write_atomic

WORK_FORMAT = 1
WORK_DIR = ".work"  # hidden: the report and the gates never read inside it
DISCARD_HINT = "rerun with --fresh to discard it"
_PACKAGE = Path(__file__).resolve().parents[1]
# The parts whose code decides a run's numbers; the report, the gates and the CLI do not.
_DECIDING = ("core", "objectives", "problems", "strategies", "execution")

try:
    import fcntl
except ImportError:  # not on a POSIX system: no locking
    fcntl = None  # type: ignore[assignment]


def work_path(results_dir: Path, problem: str, budget: str, strategy: str, seed: int) -> Path:
    """``<results>/<problem>/<budget>/.work/<strategy>-seed<N>``: beside the result file it will become."""
    result = result_path(results_dir, problem, budget, strategy, seed)
    return result.parent / WORK_DIR / result.stem


def code_digest() -> str:
    """SHA-256 of the harness's sources that decide a run's numbers (a resumed run must use the same)."""
    digest = hashlib.sha256()
    for part in _DECIDING:
        for path in sorted((_PACKAGE / part).rglob("*.py")):
            digest.update(path.relative_to(_PACKAGE).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def fingerprint(
    strategy: str,
    budget: Budget,
    seed: int,
    problem: dict[str, Any],
    space: dict[str, Any],
    settings: dict[str, Any],
    versions: dict[str, Any],
) -> dict[str, Any]:
    """What a run's work folder must agree on before its state may be continued: the problem (a user's
    module by its file's hash) and its space among them."""
    doc = {
        "work_format": WORK_FORMAT,
        "schema_version": SCHEMA_VERSION,
        "problem": problem,
        "strategy": strategy,
        "budget": budget.to_json(),
        "seed": seed,
        "strategy_settings": settings,
        "space": space,
        "versions": {**versions, "tuning": __version__},
        "code": code_digest(),
    }
    return json.loads(json.dumps(doc))  # as it will read back (tuples become lists)


def differences(saved: Any, current: dict[str, Any]) -> list[str]:
    """The keys (``versions.keras``) where a saved fingerprint differs from the current one."""
    if not isinstance(saved, dict):
        return ["everything (run.json is not an object)"]
    out = []
    for key in sorted(set(saved) | set(current)):
        a, b = saved.get(key), current.get(key)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            out += [f"{key}.{k}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
        else:
            out.append(key)
    return out


class WorkFolder:
    """One run's work folder, locked for as long as it is open (``with WorkFolder.open(...) as work``)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock: int | None = None

    @property
    def weights(self) -> Path:
        return self.path / "weights"

    @property
    def tuner(self) -> Path:
        return self.path / "keras_tuner"

    @property
    def manifest(self) -> Path:
        return self.path / "run.json"

    @property
    def checkpoint(self) -> Path:
        return self.path / "checkpoint.json"

    @classmethod
    def open(cls, path: Path, run: dict[str, Any], fresh: bool = False) -> WorkFolder:
        """Create or reopen ``path`` for the run ``run`` (a ``fingerprint``); ``UsageError`` when it
        cannot be used: unwritable, in use by another process, or left by another run (unless ``fresh``)."""
        work = cls(path)
        try:
            work.path.mkdir(parents=True, exist_ok=True)
            work._acquire()
        except OSError as e:
            raise UsageError(f"cannot use work folder {work.path}: {e.strerror or e}") from None
        try:
            if fresh:
                work.clear()
            elif work.manifest.exists():
                saved = work._read(work.manifest)
                changed = differences(saved, run)
                if changed:
                    raise UsageError(
                        f"work folder {work.path} was left by another run ({', '.join(changed[:4])}"
                        f"{', ...' if len(changed) > 4 else ''} differ); {DISCARD_HINT}"
                    )
            elif work.checkpoint.exists():
                raise UsageError(f"work folder {work.path} has a checkpoint but no run.json; {DISCARD_HINT}")
            if not work.manifest.exists():
                write_atomic(work.manifest, run)
        except BaseException:
            work.close()
            raise
        return work

    def _acquire(self) -> None:
        fd = os.open(self.path / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
                os.close(fd)
                raise UsageError(
                    f"work folder {self.path} is in use by another process (pid {holder}); "
                    "wait for it to finish or stop it"
                ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock = fd

    def close(self) -> None:
        """Release the lock (the folder stays: a later run continues from it)."""
        if self._lock is not None:
            os.close(self._lock)  # closing the descriptor releases the flock
            self._lock = None

    def __enter__(self) -> WorkFolder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read(self, path: Path) -> Any:
        try:
            return read_json(path)
        except ValueError as e:  # ResultError names the file
            raise UsageError(f"work folder {self.path}: {e}; {DISCARD_HINT}") from None

    def load(self) -> dict[str, Any] | None:
        """The last checkpoint, or None when no trial has finished yet."""
        if not self.checkpoint.exists():
            return None
        state = self._read(self.checkpoint)
        if not isinstance(state, dict):
            raise UsageError(f"work folder {self.path}: checkpoint.json is not an object; {DISCARD_HINT}")
        return state

    def save(self, state: dict[str, Any]) -> None:
        write_atomic(self.checkpoint, state)

    def clear(self) -> None:
        """Empty the folder (``--fresh``), keeping the lock this process holds."""
        for entry in self.path.iterdir():
            if entry.name == ".lock":
                continue
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()

    def discard(self) -> None:
        """Remove the folder once its result file is written (and ``.work`` when it is left empty)."""
        self.close()
        discard(self.path)


def discard(path: Path) -> None:
    """Remove a work folder and, when it is left empty, the ``.work`` folder above it."""
    path = Path(path)
    shutil.rmtree(path, ignore_errors=True)
    try:
        path.parent.rmdir()
    except OSError:  # not empty (other runs' folders), or already gone
        pass


def discard_idle(path: Path) -> bool:
    """Remove a work folder that no process holds (one left by a run killed after writing its result)."""
    path = Path(path)
    if not path.is_dir():
        return False
    try:
        work = WorkFolder(path)
        work._acquire()
    except (OSError, UsageError):  # in use, or unreadable: leave it
        return False
    work.discard()
    return True
