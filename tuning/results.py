"""Result files: one JSON per (problem, budget, strategy, seed), written atomically, read into the core records.

A problem's runs live under ``<results>/<problem>/<budget>/``, its replays (and
its replay table) under ``<results>/<problem>/replay/<budget>/``, packed into
one runs file (``runs.jsonl.gz``: one result per line), and the live runs
held out to check the replay under ``<results>/<problem>/holdout/<budget>/``,
packed alike.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from tuning.core.budget import Budget
from tuning.core.errors import UsageError
from tuning.core.records import NotARunResult, RecordError, RunResult


class ResultError(ValueError):
    """A file that is not a readable result of this schema; the message names the file."""


class SuiteFile(ResultError):
    """A file the suite itself writes beside result files (``throughput.json``, a side by side): not a result."""


REPLAY_DIR = "replay"  # replays go to <results-dir>/<problem>/replay/<budget>/, beside the budget's replay table
HOLDOUT_DIR = (
    "holdout"  # live runs on seeds the replay table never saw, kept apart: <results>/<problem>/holdout/<budget>/
)
SURROGATE_FILE = "surrogate.json"  # beside a replay table: the model tuning fit kept, and how it chose it
RUNS_FILE = "runs.jsonl.gz"  # many results in one file: one JSON line each, sorted by (strategy, seed)
# One default for everything that writes: this machine's runs go to the git-ignored local folder.  The
# committed reference (live runs, replay tables) is read from results/ by default and written only when named.
REFERENCE_RESULTS = Path("results")
LOCAL_RESULTS = REFERENCE_RESULTS / "local"


def tables_dir(results_dir: Path, problem: str) -> Path:
    """Where a problem's replay tables live under a results folder: ``<results>/<problem>/replay/``."""
    return Path(results_dir) / problem / REPLAY_DIR


def replay_dir(results_dir: Path, problem: str, budget: str) -> Path:
    """Where a problem's replay results under a budget (and, under ``results/``, its table) live."""
    return Path(results_dir) / problem / REPLAY_DIR / budget


def holdout_dir(results_dir: Path, problem: str, budget: str) -> Path:
    """Where a problem's held-out live runs under a budget live (one runs file)."""
    return Path(results_dir) / problem / HOLDOUT_DIR / budget


def result_name(strategy: str, seed: int) -> str:
    return f"{strategy}-seed{seed}.json"


def result_path(results_dir: Path, problem: str, budget: str, strategy: str, seed: int) -> Path:
    return Path(results_dir) / problem / budget / result_name(strategy, seed)


def _replace(path: Path, write: Callable[[BinaryIO], None], mode: int | None = None) -> Path:
    """Write ``path`` through ``write`` into a temporary file beside it, sync, and rename: never half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def write_atomic(path: Path, payload: Any) -> Path:
    """Write JSON to a temporary file beside ``path`` and rename it: never half a file."""
    return _replace(path, lambda f: f.write((json.dumps(payload, indent=2, allow_nan=True) + "\n").encode()))


def write_result(path: Path, result: RunResult) -> Path:
    return write_atomic(path, result.to_json())


def ensure_writable(results_dir: Path) -> None:
    """Fail before any training if results cannot be written there (``UsageError`` naming the folder)."""
    results_dir = Path(results_dir)
    try:
        results_dir.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".probe.", dir=results_dir)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise UsageError(f"cannot write results under {results_dir.parent}: {e.strerror or e}") from None


def read_json(path: Path) -> Any:
    """A JSON file's content; ``ResultError`` names the file when it cannot be read or parsed."""
    try:
        with open(path) as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise ResultError(f"{path}: not JSON ({e.msg} at line {e.lineno})") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ResultError(f"{path}: unreadable ({e})") from None


def read_result(path: Path) -> RunResult:
    """Load and check one result file; ``ResultError`` says which file and what is wrong with it."""
    try:
        return RunResult.from_json(read_json(path))
    except NotARunResult as e:
        raise SuiteFile(f"{path}: {e}") from None
    except RecordError as e:
        raise ResultError(f"{path}: {e}") from None


def completed(path: Path, strategy: str, budget: Budget, seed: int) -> bool:
    """Whether ``path`` holds a complete, readable result of this very run (same budget sizes)."""
    try:
        result = read_result(path)
    except ResultError:
        return False
    sizes = ("name", "n_train", "n_val", "epochs", "trials")
    same_budget = all(getattr(result.budget, k) == getattr(budget, k) for k in sizes)
    return result.strategy == strategy and result.seed == seed and same_budget


def write_runs(path: Path, results: list[RunResult]) -> Path:
    """Many results as one gzip file of JSON lines, sorted by (strategy, seed), gzip without a timestamp (the same
    results give the same bytes), written beside ``path`` and renamed: never half a file."""
    ordered = sorted(results, key=lambda r: (r.strategy, r.seed))

    def write(raw: BinaryIO) -> None:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as f:
            for result in ordered:
                f.write((json.dumps(result.to_json(), separators=(",", ":"), allow_nan=True) + "\n").encode())

    return _replace(path, write, 0o644)


def read_runs(path: Path) -> list[RunResult]:
    """Every result in a runs file; ``ResultError`` names the file and line of the first bad one."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            lines = f.read().split("\n")
    except (OSError, EOFError, UnicodeDecodeError) as e:
        raise ResultError(f"{path}: unreadable ({e})") from None
    results = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            results.append(RunResult.from_json(json.loads(line)))
        except json.JSONDecodeError as e:
            raise ResultError(f"{path}:{number}: not JSON ({e.msg})") from None
        except RecordError as e:
            raise ResultError(f"{path}:{number}: {e}") from None
    return results
