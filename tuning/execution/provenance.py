"""Where a result came from: versions, device, threads and commit, for every table that cites it."""

from __future__ import annotations

import datetime as _dt
import platform
import subprocess
from pathlib import Path
from typing import Any

from tuning import __version__
from tuning.objectives.live import backend


def git_commit() -> dict[str, Any]:
    """The checkout's commit and whether it had uncommitted changes (``None`` outside git)."""
    root = Path(__file__).resolve().parents[2]

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def environment() -> dict[str, Any]:
    return {
        "versions": {**backend.versions(), "tuning": __version__},
        "device": backend.device(),
        "threads": backend.threads(),
        "platform": platform.platform(),
        "git": git_commit(),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
