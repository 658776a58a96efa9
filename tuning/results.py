"""Result files: one JSON per (budget, strategy, seed), written atomically, read defensively."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
REQUIRED = (
    "schema_version",
    "strategy",
    "seed",
    "budget",
    "trials",
    "best",
    "wall_clock_seconds",
    "epochs_trained",
    "throughput_samples_per_second",
    "environment",
)


class ResultError(ValueError):
    """A file that is not a readable result of this schema."""


def result_path(results_dir: Path, budget: str, strategy: str, seed: int) -> Path:
    return Path(results_dir) / budget / f"{strategy}-seed{seed}.json"


def write_atomic(path: Path, payload: Any) -> Path:
    """Write JSON to a temporary file beside ``path`` and rename it: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(payload, f, indent=2, sort_keys=False, allow_nan=True)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def check_writable(results_dir: Path) -> None:
    """Fail before any training if results cannot be written there (raises OSError)."""
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    fd, probe = tempfile.mkstemp(prefix=".probe.", dir=results_dir)
    os.close(fd)
    os.unlink(probe)


def read_result(path: Path) -> dict[str, Any]:
    """Load and check one result file; ``ResultError`` says what is wrong with it."""
    try:
        with open(path) as f:
            data = json.load(f)
    except json.JSONDecodeError as e:
        raise ResultError(f"{path}: not JSON ({e.msg} at line {e.lineno})") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ResultError(f"{path}: unreadable ({e})") from None
    if not isinstance(data, dict):
        raise ResultError(f"{path}: not a result (a JSON {type(data).__name__}, expected an object)")
    if "kind" in data and "schema_version" not in data:  # the suite's throughput and baseline files
        raise ResultError(f"{path}: a {data['kind']} file, not a run result")
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise ResultError(f"{path}: not a result (missing {', '.join(missing)})")
    if data["schema_version"] != SCHEMA_VERSION:
        raise ResultError(f"{path}: schema_version {data['schema_version']!r}, this reader knows {SCHEMA_VERSION}")
    return data
