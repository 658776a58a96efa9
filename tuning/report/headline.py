"""The answer on the README's front page: one budget's summary table and a paragraph of what its tests decide,
made from the result files alone (``python -m tuning.report.headline results``), so that it cannot go stale:
``tests/test_readme.py`` checks that the README holds what this makes from the committed files."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from tabulate import tabulate

from tuning.core.errors import UsageError
from tuning.report.command import build
from tuning.report.statistics import ALPHA
from tuning.report.tables import Section, summary_table

BUDGET = "standard"
BEGIN, END = "<!-- headline: begin -->", "<!-- headline: end -->"  # where the README holds it


def _p(p: float | None) -> str:
    return "n/a" if p is None else f"{p:.2g}" if p >= 0.001 else "< 0.001"


def verdict(section: Section) -> str:
    """What the Friedman test and the Holm-corrected pairwise tests decide, in one paragraph."""
    f, names = section.friedman, [r.strategy for r in section.rows]
    seeds = len(f.seeds)
    out = [
        f"Over {seeds} seeds the Friedman test "
        + (
            f"finds the {len(names)} strategies not all equal (p = {_p(f.p_chi2)})."
            if f.p_chi2 is not None and f.p_chi2 < ALPHA
            else f"does not tell the {len(names)} strategies apart (p = {_p(f.p_chi2)})."
        )
    ]
    significant = [p for p in section.pairs if p.significant]
    if significant:
        said = []
        for pair in significant:
            better, worse = (pair.a, pair.b) if (pair.mean_difference or 0) > 0 else (pair.b, pair.a)
            won = max(pair.wins[0], pair.wins[2])
            said.append(f"{better} beats {worse} ({won} of {len(pair.seeds)} seeds, Holm p {_p(pair.p_holm)})")
        out.append(f"Significant after Holm's correction (α = {ALPHA}): {'; '.join(said)}.")
    rest = len(section.pairs) - len(significant)
    if rest:
        out.append(
            f"The other {rest} pair{'s are' if rest != 1 else ' is'} undecided at {seeds} seeds (Holm p ≥ {ALPHA}): "
            "no difference shown, and none shown absent either."
        )
    return " ".join(out)


def headline(directory: Path, budget: str = BUDGET) -> str:
    """The summary table (Markdown) of ``budget``'s live runs under ``directory``, and its verdict."""
    sections = [
        s for s in build(directory, warn=lambda _: None) if s.budget == budget and s.runs[0].result.mode == "live"
    ]
    if not sections:
        raise UsageError(f"no live runs of the {budget} budget under {directory}")
    section = sections[0]
    table = summary_table(section.rows)
    markdown = tabulate(table.rows, table.headers, tablefmt="github", disable_numparse=True, colalign=table.align)
    return f"{markdown}\n\n{verdict(section)}\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tuning.report.headline", description=__doc__.split("\n")[0])
    parser.add_argument("directory", type=Path, help="the result files, e.g. results (the committed reference)")
    parser.add_argument("--budget", default=BUDGET, help=f"default: {BUDGET}")
    args = parser.parse_args(argv)
    try:
        sys.stdout.write(headline(args.directory, args.budget))
    except UsageError as e:
        print(f"tuning: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
