"""Statistics across seeds: robust aggregates, ranks and paired tests, from ``scipy.stats``."""

from __future__ import annotations

import inspect
import itertools
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from tuning.report.load import ResultFile

CONFIDENCE = 0.95
N_RESAMPLES = 9_999
BOOTSTRAP_SEED = 0  # fixed, so the same files always give the same table
ALPHA = 0.05  # only to say when a Wilcoxon test cannot reach significance at all


def iqm_ci(values: Sequence[float]) -> tuple[float, float | None, float | None, str | None]:
    """Interquartile mean and its 95 % percentile-bootstrap CI; (iqm, low, high, why-no-CI).

    The IQM (``trim_mean(..., 0.25)``) is the robust aggregate of Agarwal et
    al. (2021, rliable); with fewer than 4 runs it trims nothing and equals the
    mean.  The bootstrap needs two runs that differ; otherwise the CI is n/a.
    """
    x = np.asarray(values, dtype=float)
    iqm = float(stats.trim_mean(x, 0.25))
    if len(x) < 2:
        return iqm, None, None, "1 run"
    if np.unique(x).size < 2:
        return iqm, None, None, "all runs equal"
    result = stats.bootstrap(
        (x,),
        lambda sample, axis: stats.trim_mean(sample, 0.25, axis=axis),
        vectorized=True,
        n_resamples=N_RESAMPLES,
        confidence_level=CONFIDENCE,
        method="percentile",
        **_seeded(stats.bootstrap),
    )
    return iqm, float(result.confidence_interval.low), float(result.confidence_interval.high), None


def _seeded(function: Callable[..., Any]) -> dict[str, Any]:
    """The fixed seed under the name this scipy takes (``rng`` since 1.15, ``random_state`` before)."""
    name = "rng" if "rng" in inspect.signature(function).parameters else "random_state"
    return {name: BOOTSTRAP_SEED}


def mean_ranks(runs: Sequence[ResultFile]) -> dict[str, float]:
    """Each strategy's rank by test accuracy (1 = best, ties averaged) on each seed, averaged over its seeds."""
    by_seed: dict[int, list[ResultFile]] = {}
    for run in runs:
        by_seed.setdefault(run.seed, []).append(run)
    ranks: dict[str, list[float]] = {}
    for seed_runs in by_seed.values():
        for run, rank in zip(seed_runs, stats.rankdata([-r.test_accuracy for r in seed_runs], method="average")):
            ranks.setdefault(run.strategy, []).append(float(rank))
    return {name: float(np.mean(r)) for name, r in ranks.items()}


@dataclass
class Row:
    """One strategy's line of the summary table, as numbers (formatting comes later)."""

    strategy: str
    seeds: list[int]
    test_mean: float
    test_std: float | None
    iqm: float
    iqm_low: float | None
    iqm_high: float | None
    iqm_note: str | None
    val_mean: float
    epochs_mean: float
    wall_median: float
    throughput_median: float | None
    mean_rank: float


def summarise(runs: Sequence[ResultFile]) -> list[Row]:
    """The summary table's rows, best mean rank first (then higher mean accuracy, then name)."""
    ranks = mean_ranks(runs)
    rows = []
    for name in sorted({r.strategy for r in runs}):
        mine = sorted((r for r in runs if r.strategy == name), key=lambda r: r.seed)
        acc = np.array([r.test_accuracy for r in mine])
        iqm, low, high, note = iqm_ci(acc)
        throughputs = [r.result.throughput_samples_per_second for r in mine]
        throughputs = [t for t in throughputs if t is not None]
        rows.append(
            Row(
                strategy=name,
                seeds=[r.seed for r in mine],
                test_mean=float(np.mean(acc)),
                test_std=float(np.std(acc, ddof=1)) if len(acc) > 1 else None,
                iqm=iqm,
                iqm_low=low,
                iqm_high=high,
                iqm_note=note,
                val_mean=float(np.mean([r.val_accuracy for r in mine])),
                epochs_mean=float(np.mean([r.result.epochs_trained for r in mine])),
                wall_median=float(np.median([r.result.wall_clock_seconds for r in mine])),
                throughput_median=float(np.median(throughputs)) if throughputs else None,
                mean_rank=ranks[name],
            )
        )
    return sorted(rows, key=lambda row: (row.mean_rank, -row.test_mean, row.strategy))


def min_two_sided_p(n: int) -> float:
    """The smallest two-sided p an exact Wilcoxon signed-rank test can give with n nonzero pairs: 2 / 2**n."""
    return min(1.0, 2.0 / 2.0**n)


@dataclass
class Pair:
    """Strategy ``a`` against ``b`` on the seeds both ran."""

    a: str
    b: str
    seeds: list[int]
    differences: list[float]  # a - b, per shared seed
    p_value: float | None
    note: str = ""

    @property
    def mean_difference(self) -> float | None:
        return float(np.mean(self.differences)) if self.differences else None

    @property
    def wins(self) -> tuple[int, int, int]:
        """(seeds a beat b, ties, seeds b beat a)."""
        d = np.asarray(self.differences)
        return int((d > 0).sum()), int((d == 0).sum()), int((d < 0).sum())


def pairwise(runs: Sequence[ResultFile], order: Sequence[str]) -> list[Pair]:
    """Every pair of strategies (better-ranked first) over their shared seeds, with Wilcoxon's p."""
    accuracy = {(r.strategy, r.seed): r.test_accuracy for r in runs}
    seeds_of = {name: {s for (n, s) in accuracy if n == name} for name in order}
    pairs = []
    for a, b in itertools.combinations(order, 2):
        shared = sorted(seeds_of[a] & seeds_of[b])
        diffs = [accuracy[a, s] - accuracy[b, s] for s in shared]
        pair = Pair(a, b, shared, diffs, None)
        nonzero = sum(1 for d in diffs if d != 0)
        if not shared:
            pair.note = "no seeds in common: nothing to pair"
        elif nonzero == 0:
            pair.note = f"identical on all {len(shared)} shared seeds: no test"
        else:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                pair.p_value = float(stats.wilcoxon(diffs).pvalue)
            notes = []
            if nonzero < len(diffs):
                notes.append(f"{len(diffs) - nonzero} zero difference(s) dropped")
            if min_two_sided_p(nonzero) > ALPHA:
                notes.append(
                    f"too few pairs to test (n={nonzero}): the smallest possible p is "
                    f"{min_two_sided_p(nonzero):.4g} > {ALPHA}"
                )
            notes += [f"scipy: {w.message}" for w in caught]
            pair.note = "; ".join(notes)
        pairs.append(pair)
    return pairs
