"""The ``tuning report`` command: load, compute, render; tables on stdout, notes on stderr."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from tuning.core.errors import UsageError
from tuning.report import FORMATS
from tuning.report.load import by_budget, load
from tuning.report.tables import RENDERERS, Section


def build(directory: Path, warn: Callable[[str], None]) -> list[Section]:
    """Load, group by budget, compute: everything but the output format."""
    return [Section(runs) for runs in by_budget(load(directory, warn)).values()]


def render(sections: Sequence[Section], fmt: str = "github") -> str:
    if fmt not in RENDERERS:
        raise UsageError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    return RENDERERS[fmt](sections)


def report(directory: Path, fmt: str = "github", plot: Path | None = None) -> int:
    """The whole of ``tuning report``: tables on stdout, skips and plot paths on stderr."""

    def warn(message: str) -> None:
        print(f"tuning: {message}", file=sys.stderr)

    sections = build(directory, warn)
    text = render(sections, fmt)
    if plot is not None:
        from tuning.report.plots import plot_sections

        try:
            written = plot_sections(sections, plot)
        except OSError as e:
            raise UsageError(f"cannot write the plot {plot}: {e.strerror or e}") from None
        for path in written:
            warn(f"wrote {path}")
    sys.stdout.write(text)
    return 0
