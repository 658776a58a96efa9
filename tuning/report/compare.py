"""This machine's runs beside the committed reference: same budget, strategy and seed, run against run.

On one machine a run is bit-for-bit reproducible; on another CPU the
floating-point order changes, a validation score moves in the 3rd or 4th
digit, and now and then that changes which trial a search keeps or what a
sequential strategy (TPE, Bayesian) proposes next.  Measured on this project:
the 18 standard runs of ``results/standard`` (made on an Intel Xeon) rerun
with the same code on an AMD EPYC (``tox -e bench``, then ``tuning report
results/local --reference results``): 5 of 18 runs identical in every trial,
15 of 18 chose the same configuration, test accuracies apart by at most
0.76 points (TPE seed 0, whose proposals diverged after its first trials),
mean difference -0.04 points, Wilcoxon p = 0.81 over the 18 pairs.
``SPREAD_PP`` is that largest difference: a local run further from its
reference than any run of that measurement, or a strategy whose differences
lean one way (the signed-rank test over its seeds, and over all runs), is
worth a look; within it, the machines agree as well as machines do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tuning.report.load import ResultFile
from tuning.report.provenance import provenance, seed_list
from tuning.report.significance import signed_rank_p
from tuning.report.statistics import ALPHA, DECIMALS, difference, resolved

SPREAD_PP = 0.76  # the largest test-accuracy difference, in points, between two CPU kinds on the same runs (above)

NOTES = (
    "Each local run against the reference run of the same budget, strategy and seed. Identical: every trial's "
    f"configuration and validation score, and the test accuracy, equal (to {DECIMALS} decimals): what the same kind "
    "of machine gives. Same choice: the same configuration chosen. Local − ref.: test accuracy, percentage points. "
    "Cross-machine spread: ±{spread} pp (the default is the largest difference measured between an Intel Xeon and "
    "an AMD EPYC over the standard budget's 18 reference runs; tuning/report/compare.py); a run beyond it is named "
    "under Verdict. "
    "Wilcoxon p: the signed-rank test of the differences (exact up to 14 nonzero differences), "
    f"a systematic shift if p < {ALPHA}."
)


def identical(a: ResultFile, b: ResultFile) -> bool:
    """Same trials (configurations and validation scores) and the same test accuracy, at the report's resolution."""
    ta, tb = a.result.trials, b.result.trials
    return (
        len(ta) == len(tb)
        and all(x.hyperparameters == y.hyperparameters for x, y in zip(ta, tb))
        and np.array_equal(
            resolved([np.nan if t.val_accuracy_final is None else t.val_accuracy_final for t in ta]),
            resolved([np.nan if t.val_accuracy_final is None else t.val_accuracy_final for t in tb]),
            equal_nan=True,
        )
        and difference([a.test_accuracy], [b.test_accuracy])[0] == 0
    )


@dataclass
class Line:
    """One strategy (or all of them) local against reference."""

    strategy: str
    seeds: list[int]
    differences: list[float]  # local - reference test accuracy, per seed
    identical: int
    same_choice: int
    p_value: float | None
    outside: list[int]  # seeds whose |difference| exceeds the spread

    @property
    def mean(self) -> float:
        return float(np.mean(self.differences))

    @property
    def largest(self) -> float:
        return float(np.max(np.abs(self.differences)))


@dataclass
class Comparison:
    lines: list[Line]
    spread_pp: float
    local_only: list[str]
    reference_only: list[str]
    provenance: list[tuple[str, str]] = field(default_factory=list)

    @property
    def empty(self) -> str:
        return "No run here has a reference run of the same budget, strategy and seed."


def _line(name: str, pairs: Sequence[tuple[ResultFile, ResultFile]], spread_pp: float) -> Line:
    d = difference([a.test_accuracy for a, _ in pairs], [b.test_accuracy for _, b in pairs])
    return Line(
        strategy=name,
        seeds=[a.seed for a, _ in pairs],
        differences=[float(x) for x in d],
        identical=sum(identical(a, b) for a, b in pairs),
        same_choice=sum(a.result.best.hyperparameters == b.result.best.hyperparameters for a, b in pairs),
        p_value=signed_rank_p(d)[0],
        outside=[a.seed for (a, _), x in zip(pairs, d) if abs(100 * x) > spread_pp + 10 ** -(DECIMALS - 2)],
    )


def compare(local: Sequence[ResultFile], reference: Sequence[ResultFile], spread_pp: float = SPREAD_PP) -> Comparison:
    """Local runs against the reference runs of the same budget, strategy and seed."""
    key = {(r.strategy, r.seed): r for r in reference}
    pairs = sorted(
        ((r, key[r.strategy, r.seed]) for r in local if (r.strategy, r.seed) in key),
        key=lambda p: (p[0].strategy, p[0].seed),
    )
    names = sorted({a.strategy for a, _ in pairs})
    lines = [_line(n, [p for p in pairs if p[0].strategy == n], spread_pp) for n in names]
    if len(names) > 1:
        lines.append(_line("all strategies", pairs, spread_pp))
    matched = {(a.strategy, a.seed) for a, _ in pairs}
    local_only = sorted(f"{r.strategy} seed {r.seed}" for r in local if (r.strategy, r.seed) not in matched)
    reference_only = sorted(f"{r.strategy} seed {r.seed}" for r in reference if (r.strategy, r.seed) not in matched)
    result = Comparison(lines, spread_pp, local_only, reference_only)
    result.provenance = [(f"Local {label.lower()}", text) for label, text in provenance(local)]
    if reference:
        result.provenance += [(f"Reference {label.lower()}", text) for label, text in provenance(reference)]
    return result


def _verdict(line: Line, spread_pp: float) -> str:
    if line.identical == len(line.seeds):
        return "identical"
    parts = []
    if line.outside:
        parts.append(f"beyond ±{spread_pp:g} pp on seed(s) {seed_list(line.outside)}")
    if line.p_value is not None and line.p_value < ALPHA:
        parts.append(f"shifted (p < {ALPHA})")
    return "; ".join(parts) or "within the cross-machine spread"


def table(c: Comparison) -> tuple[list[str], list[list[str]], list[str], list[list[Any]]]:
    """(display headers, display rows, CSV headers, CSV rows)."""
    headers = [
        "Strategy",
        "Seeds",
        "Identical runs",
        "Same choice",
        "Mean local − ref. (pp)",
        "Largest |local − ref.| (pp)",
        "Wilcoxon p",
        "Verdict",
    ]
    display = [
        [
            line.strategy,
            f"{len(line.seeds)} ({seed_list(line.seeds)})"
            if line.strategy != "all strategies"
            else str(len(line.seeds)),
            f"{line.identical}/{len(line.seeds)}",
            f"{line.same_choice}/{len(line.seeds)}",
            f"{100 * line.mean:+.2f}",
            f"{100 * line.largest:.2f}",
            "n/a" if line.p_value is None else f"{line.p_value:.4f}",
            _verdict(line, c.spread_pp),
        ]
        for line in c.lines
    ]
    csv_headers = [
        "strategy",
        "seeds",
        "n_runs",
        "identical_runs",
        "same_choice",
        "mean_difference",
        "largest_abs_difference",
        "wilcoxon_p",
        "spread_pp",
        "verdict",
    ]
    body = [
        [
            line.strategy,
            " ".join(map(str, line.seeds)),
            len(line.seeds),
            line.identical,
            line.same_choice,
            line.mean,
            line.largest,
            "" if line.p_value is None else line.p_value,
            c.spread_pp,
            _verdict(line, c.spread_pp),
        ]
        for line in c.lines
    ]
    return headers, display, csv_headers, body
