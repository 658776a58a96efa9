"""How a file is named in what the suite writes down: so that a committed file names it as a clone does."""

from __future__ import annotations

from pathlib import Path


def portable(path: Path | str) -> str:
    """``path`` relative to the working directory when it lies below it, else absolute: a result made in one
    clone then names its table or module as every other clone would, not by this machine's folders."""
    resolved, here = Path(path).resolve(), Path.cwd().resolve()
    return str(resolved.relative_to(here)) if resolved.is_relative_to(here) else str(resolved)
