"""The seed planner (``tuning report DIR --plan``): what more seeds would cost to decide each undecided pair.

For each pair the pairwise table calls undecided, the seeds per strategy
with which the pair would be decided at its observed mean and spread
(``significance.seeds_to_decide``), the runs that adds to both strategies,
and their wall-clock at the median run time these files recorded (the
machine that ran them, named under the table).  Seeds are shared: running
the most any pair needs on every strategy decides them all, at the cost of
the last line.
"""

from __future__ import annotations

from collections.abc import Sequence

from tabulate import tabulate

from tuning.report.significance import MAX_SEEDS, POWER, UNDECIDED
from tuning.report.tables import Section, _interval, _signed_pct


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def plan(section: Section) -> str:
    """One budget's plan as Markdown: a row per undecided pair, then the cost of deciding every one."""
    wall = {r.strategy: r.wall_median for r in section.rows}
    undecided = [p for p in section.pairs if p.verdict == UNDECIDED and p.seeds]
    head = f"## Seed plan, problem {section.problem}, budget {section.budget}\n\n"
    if not section.pairs:
        return head + "One strategy only: no pairs to decide.\n"
    if not undecided:
        return head + "Every pair is decided (better, worse or equivalent): no seeds to add.\n"
    rows, most = [], 0
    for p in undecided:
        now = len(p.seeds)
        needed = p.seeds_to_decide
        if needed is None:
            rows.append(
                [
                    p.a,
                    p.b,
                    f"{_signed_pct(p.mean_difference)} {_interval(p.difference_interval, _signed_pct)}",
                    now,
                    f"> {MAX_SEEDS:,}",
                    "",
                    "not decidable by seeds in practice",
                ]
            )
            continue
        extra = max(0, needed - now)
        most = max(most, needed)
        seconds = extra * (wall[p.a] + wall[p.b])
        rows.append(
            [
                p.a,
                p.b,
                f"{_signed_pct(p.mean_difference)} {_interval(p.difference_interval, _signed_pct)}",
                now,
                needed,
                extra,
                _duration(seconds),
            ]
        )
    table = tabulate(
        rows,
        ["A", "B", "Mean A − B (pp) [95% CI]", "Seeds now", "Seeds to decide", "Seeds to add", "Wall-clock (A + B)"],
        tablefmt="github",
        disable_numparse=True,
    )
    device = dict(section.provenance).get("Device", "unknown")
    total = sum(max(0, most - len(r.seeds)) * r.wall_median for r in section.rows)
    margin = f"{100 * section.margin:g}"
    notes = (
        f"Seeds to decide: the seeds per strategy with which, at the pair's observed mean difference and spread, "
        f"the difference is detected (paired t-test) or the equivalence within ±{margin} pp shown (TOST) with "
        f"{POWER:.0%} power, at alpha / pairs (Holm's strictest step). Wall-clock: the added seeds times the two "
        f"strategies' median run times in these files, one run at a time, on the machine that ran them ({device}). "
        f"Every strategy to {most} seeds, which decides every pair above that can be decided: "
        f"{_duration(total)} of runs."
    )
    return head + table + "\n\n" + notes + "\n"


def plans(sections: Sequence[Section]) -> str:
    return "\n".join(plan(s) for s in sections)
