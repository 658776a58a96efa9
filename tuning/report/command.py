"""The ``tuning report`` command: load, compute, render; tables on stdout, notes on stderr."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from tuning.core.errors import UsageError
from tuning.report import FORMATS, TABLES
from tuning.report.compare import SPREAD_PP
from tuning.report.load import by_budget, load
from tuning.report.significance import MARGIN
from tuning.report.tables import RENDERERS, Section


def build(
    directory: Path,
    warn: Callable[[str], None],
    *,
    optimum: Mapping[str, float] | None = None,
    reference: Path | None = None,
    spread_pp: float = SPREAD_PP,
    margin: float = MARGIN,
) -> list[Section]:
    """Load, group by budget, compute: everything but the output format.

    ``optimum`` maps a budget's name to the best validation accuracy possible
    (for normalized regret); ``reference`` is a directory of runs to put these
    beside, budget by budget.
    """
    groups = by_budget(load(directory, warn))
    names = {runs[0].result.budget.name for runs in groups.values()}
    unknown = sorted(set(optimum or {}) - names)
    if unknown:
        raise UsageError(f"--optimum for budget(s) {', '.join(unknown)}, which {directory} has no runs of")
    references = by_budget(load(reference, warn)) if reference is not None else None
    return [
        Section(
            runs,
            optimum=(optimum or {}).get(runs[0].result.budget.name),
            reference=None if references is None else references.get(key, []),
            spread_pp=spread_pp,
            margin=margin,
        )
        for key, runs in groups.items()
    ]


def render(sections: Sequence[Section], fmt: str = "github", table: str = "all") -> str:
    if fmt not in RENDERERS:
        raise UsageError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    if table not in ("all", *TABLES):
        raise UsageError(f"unknown table {table!r}; choose from all, {', '.join(TABLES)}")
    if table == "reference" and all(s.comparison is None for s in sections):
        raise UsageError("the reference table needs --reference DIR")
    return RENDERERS[fmt](sections, table)


def report(
    directory: Path,
    fmt: str = "github",
    plot: Path | None = None,
    *,
    table: str = "all",
    reference: Path | None = None,
    optimum: Mapping[str, float] | None = None,
    spread_pp: float = SPREAD_PP,
    margin: float = MARGIN,
    plan: bool = False,
) -> int:
    """The whole of ``tuning report``: tables (or, with ``plan``, the seed plan) on stdout, skips and plot paths on
    stderr."""

    def warn(message: str) -> None:
        print(f"tuning: {message}", file=sys.stderr)

    if plan and (fmt != "github" or table != "all" or plot is not None):
        raise UsageError("--plan prints the seed plan alone, as Markdown: leave out --format, --table and --plot")
    sections = build(directory, warn, optimum=optimum, reference=reference, spread_pp=spread_pp, margin=margin)
    if plan:
        from tuning.report.plan import plans

        sys.stdout.write(plans(sections))
        return 0
    text = render(sections, fmt, table)  # before any plot: a bad option writes nothing
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
