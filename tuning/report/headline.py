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
from tuning.core.points import points
from tuning.report.command import build
from tuning.report.significance import BETTER, EQUIVALENT, UNDECIDED, WORSE, Pair
from tuning.report.statistics import ALPHA
from tuning.report.tables import Section, summary_table

BUDGET = "standard"
PROBLEM = "mnist-mlp"
BEGIN, END = "<!-- headline: begin -->", "<!-- headline: end -->"  # where the README holds it


def markers(budget: str = BUDGET) -> tuple[str, str]:
    """Where the README holds the headline of ``budget``: the default budget's markers name none."""
    if budget == BUDGET:
        return BEGIN, END
    return f"<!-- headline {budget}: begin -->", f"<!-- headline {budget}: end -->"


def _p(p: float | None) -> str:
    return "n/a" if p is None else f"{p:.2g}" if p >= 0.001 else "< 0.001"


def _ci(pair: Pair, sign: int = 1) -> str:
    """``+1.54 [+1.20, +1.88]``: the mean paired difference and its 95 % interval, in points (``sign`` -1: B - A)."""
    low, high = pair.difference_interval.low, pair.difference_interval.high
    if low is None or high is None or pair.mean_difference is None:
        return points(None if pair.mean_difference is None else sign * pair.mean_difference, signed=True)
    a, b = sorted((sign * low, sign * high))
    return f"{points(sign * pair.mean_difference, signed=True)} [{points(a, signed=True)}, {points(b, signed=True)}]"


def verdict(section: Section) -> str:
    """What the tests decide, in one paragraph: the Friedman test, then every pair as better, equivalent
    (within the margin) or undecided, each difference with its 95 % interval (``docs/statistics.md``)."""
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
    if not section.pairs:
        return out[0]
    margin = 100 * section.pairs[0].margin
    out.append(
        f"Each pair is judged against a margin of ±{margin:.1f} accuracy points (Holm over the "
        f"{len(section.pairs)} pairs; differences are test-accuracy points, A − B, with 95 % intervals)."
    )
    better = [p for p in section.pairs if p.verdict in (BETTER, WORSE)]
    if better:
        said = []
        for pair in better:
            sign = 1 if pair.verdict == BETTER else -1
            winner, loser = (pair.a, pair.b) if sign > 0 else (pair.b, pair.a)
            said.append(f"{winner} over {loser} {_ci(pair, sign)}")
        out.append(f"Better: {'; '.join(said)}.")
    equivalent = [p for p in section.pairs if p.verdict == EQUIVALENT]
    if equivalent:
        said = [
            f"{p.a} and {p.b} {_ci(p)}" + (f" ({p.trivial} by less than the margin)" if p.trivial else "")
            for p in equivalent
        ]
        out.append(f"Equivalent within the margin: {'; '.join(said)}.")
    undecided = [p for p in section.pairs if p.verdict == UNDECIDED]
    if undecided:
        lows = [p.difference_interval.low for p in undecided if p.difference_interval.low is not None]
        highs = [p.difference_interval.high for p in undecided if p.difference_interval.high is not None]
        detectable = [p.detectable for p in undecided if p.detectable is not None]
        needed = [p.seeds_to_decide for p in undecided if p.seeds_to_decide is not None]
        other = "the other " if len(undecided) < len(section.pairs) else "all "
        sentence = f"Undecided, not equal: {other}{len(undecided)} pair{'s' if len(undecided) != 1 else ''}"
        if lows and highs:
            sentence += f", whose intervals reach from {points(min(lows), signed=True)} to {points(max(highs), signed=True)} points"
        if detectable:
            sentence += (
                f"; {seeds} seeds detect only differences of {100 * min(detectable):.2f} to "
                f"{100 * max(detectable):.2f} points"
            )
        if needed:
            sentence += (
                f", and deciding every one at the observed spread would take up to {max(needed)} seeds per strategy"
            )
        out.append(sentence + " (`tuning report DIR --plan`).")
    return " ".join(out)


def headline(directory: Path, budget: str = BUDGET, problem: str = PROBLEM, table: bool = True) -> str:
    """The summary table (Markdown) of ``problem``'s live runs under ``directory`` at ``budget``, and its verdict
    (the verdict alone without ``table``: a second budget's answer on a front page that has room for one table)."""
    sections = [
        s
        for s in build(directory, warn=lambda _: None)
        if s.budget == budget and s.problem == problem and s.runs[0].result.mode == "live"
    ]
    if not sections:
        raise UsageError(f"no live runs of problem {problem} at the {budget} budget under {directory}")
    section = sections[0]
    if not table:
        return f"{verdict(section)}\n"
    summary = summary_table(section.rows)
    markdown = tabulate(summary.rows, summary.headers, tablefmt="github", disable_numparse=True, colalign=summary.align)
    return f"{markdown}\n\n{verdict(section)}\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tuning.report.headline", description=__doc__.split("\n")[0])
    parser.add_argument("directory", type=Path, help="the result files, e.g. results (the committed reference)")
    parser.add_argument("--budget", default=BUDGET, help=f"default: {BUDGET}")
    parser.add_argument("--problem", default=PROBLEM, help=f"default: {PROBLEM}")
    parser.add_argument("--verdict-only", action="store_true", help="the paragraph without the summary table")
    args = parser.parse_args(argv)
    try:
        sys.stdout.write(headline(args.directory, args.budget, args.problem, table=not args.verdict_only))
    except UsageError as e:
        print(f"tuning: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
