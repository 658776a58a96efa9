"""Statistics across seeds: accuracies at their real resolution, robust aggregates with honest intervals, ranks.

Every number here comes from ``scipy.stats``; this module decides only which
estimate a table may show.  Two rules, each fixing a defect a reviewer found:

* Accuracies are float32 counts over a test set (steps of 1e-4 for 10,000
  images), so ``0.9785 - 0.9765`` and ``0.9593 - 0.9573`` differ in the 8th
  digit.  Everything that compares accuracies (ranks, paired differences,
  ties) sees them rounded to ``DECIMALS`` places first.
* A percentile bootstrap with 3 runs returns exactly [min, max] and covers the
  IQM ~75 % of the time (simulated below).  Below ``MIN_RUNS_FOR_CI`` runs a
  table shows the range and calls it a range; from there on the bootstrap CI.

Simulated coverage of the 95 % percentile-bootstrap CI of the IQM (1,000
samples each, 2,000 resamples; ``tests/test_statistics.py`` re-checks the two
ends): normal runs 0.78 (3 runs), 0.90 (5), 0.94 (8), 0.93 (10), 0.95 (20);
skewed runs (a tail of bad seeds) 0.73, 0.89, 0.93, 0.94, 0.94.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from tuning.report.load import ResultFile

CONFIDENCE = 0.95
N_RESAMPLES = 9_999
BOOTSTRAP_SEED = 0  # fixed, so the same files always give the same table
ALPHA = 0.05  # the significance level of every test and of the critical-difference diagram
MIN_RUNS_FOR_CI = 10  # fewer runs: the range, not a bootstrap "95% CI" (see the module's docstring)
DECIMALS = 6  # accuracies and their differences are compared at this resolution (float32 noise is ~1e-7)

CI = "95% CI"
RANGE = "range"
COLLAPSED = "no spread to resample"  # every resample gives one value: not certainty, no interval


def resolved(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Accuracies (or differences of accuracies) rounded to ``DECIMALS``: equal counts compare equal."""
    return np.round(np.asarray(values, dtype=float), DECIMALS)


def difference(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> np.ndarray:
    """Paired differences ``a - b``, rounded after subtracting (rounding the operands alone is not enough)."""
    return resolved(resolved(a) - resolved(b))


@dataclass(frozen=True)
class Interval:
    """An interval around an estimate and what it is: ``CI`` (bootstrap), ``RANGE`` (min, max) or none (``why``)."""

    low: float | None = None
    high: float | None = None
    kind: str = ""
    why: str = ""


def bootstrap_ci(
    data: tuple[np.ndarray, ...], statistic: Callable[..., np.ndarray], *, paired: bool = False
) -> Interval:
    """scipy's percentile bootstrap (the method rliable uses), seeded; every sample resampled on its own.

    With one task, rliable's stratified bootstrap (resample runs within each
    task) is this: the runs of each strategy are resampled.
    """
    result = stats.bootstrap(
        data,
        statistic,
        vectorized=True,
        paired=paired,
        n_resamples=N_RESAMPLES,
        confidence_level=CONFIDENCE,
        method="percentile",
        rng=BOOTSTRAP_SEED,
    )
    return Interval(float(result.confidence_interval.low), float(result.confidence_interval.high), CI)


def _iqm(sample: np.ndarray, axis: int = -1) -> np.ndarray:
    return stats.trim_mean(sample, 0.25, axis=axis)


def iqm_interval(values: Sequence[float]) -> tuple[float, Interval]:
    """The interquartile mean (Agarwal et al. 2021) and its interval.

    ``trim_mean(x, 0.25)`` trims nothing below 4 runs (it is the mean there).
    From ``MIN_RUNS_FOR_CI`` runs on, the 95 % percentile-bootstrap CI; below,
    the range of the runs, labelled as such.
    """
    x = resolved(values)
    iqm = float(_iqm(x))
    if len(x) < 2:
        return iqm, Interval(why="1 run")
    if len(x) < MIN_RUNS_FOR_CI:
        return iqm, Interval(float(x.min()), float(x.max()), RANGE)
    if np.unique(x).size < 2:
        # Every resample is the same number: a "95% CI" of one point would claim a certainty 10 runs cannot give.
        return iqm, Interval(why=COLLAPSED)
    return iqm, bootstrap_ci((x,), _iqm)


def _draw_counts(index: np.ndarray, size: int) -> np.ndarray:
    """How often each of ``size`` runs was drawn in each resample (the rows of ``index``)."""
    rows = np.asarray(index, dtype=np.int64).reshape(-1, index.shape[-1])
    flat = rows + size * np.arange(len(rows))[:, None]
    return np.bincount(flat.ravel(), minlength=size * len(rows)).reshape(*index.shape[:-1], size)


def probability_of_improvement(a: Sequence[float], b: Sequence[float]) -> tuple[float, Interval]:
    """P(a run of A scores above a run of B), ties counting half: the Mann-Whitney U / (n m) of rliable.

    Over all runs of each strategy, unpaired, as rliable defines it.  Its CI
    resamples A's and B's runs independently (with ``MIN_RUNS_FOR_CI`` runs of
    each, else none); each resample's statistic is counts @ kernel @ counts,
    so 200 runs a side take milliseconds, not an n x m comparison per resample.
    """
    x, y = resolved(a), resolved(b)
    kernel = (x[:, None] > y[None, :]) + 0.5 * (x[:, None] == y[None, :])
    estimate = float(kernel.mean())
    if min(len(x), len(y)) < MIN_RUNS_FOR_CI:
        return estimate, Interval(why=f"fewer than {MIN_RUNS_FOR_CI} runs")
    if np.all(kernel == kernel.flat[0]):
        # Every run of one above (or tied with) every run of the other: each resample gives the same value, and a
        # "95% CI" of [1.00, 1.00] would claim certainty that 10 runs a side cannot give.
        return estimate, Interval(why=COLLAPSED)

    def statistic(ix: np.ndarray, iy: np.ndarray, axis: int = -1) -> np.ndarray:
        cx, cy = _draw_counts(ix, len(x)), _draw_counts(iy, len(y))
        return ((cx @ kernel) * cy).sum(axis=-1) / (len(x) * len(y))

    return estimate, bootstrap_ci((np.arange(len(x)), np.arange(len(y))), statistic)


def rank_matrix(scores: np.ndarray) -> np.ndarray:
    """Ranks within each row (1 = highest score, ties averaged); NaN (no score) ranks below every score."""
    s = resolved(scores)
    return stats.rankdata(-np.where(np.isnan(s), -np.inf, s), axis=-1, method="average")


def common_seeds(runs: Sequence[ResultFile]) -> list[int]:
    """The seeds every strategy ran: ranks are only comparable among the same strategies on the same seeds."""
    seeds: dict[str, set[int]] = {}
    for run in runs:
        seeds.setdefault(run.strategy, set()).add(run.seed)
    return sorted(set.intersection(*seeds.values())) if seeds else []


def mean_ranks(runs: Sequence[ResultFile]) -> dict[str, float | None]:
    """Each strategy's rank by test accuracy (1 = best, ties averaged) on each seed every strategy ran, averaged.

    Only the common seeds count: on a seed that fewer strategies ran, rank 1 of 2 is not rank 1 of 6, and a
    strategy with extra seeds would collect easy ranks.  ``None`` for every strategy when no seed is common.
    """
    names = sorted({r.strategy for r in runs})
    seeds = common_seeds(runs)
    if not seeds:
        return dict.fromkeys(names)
    accuracy = {(r.strategy, r.seed): r.test_accuracy for r in runs}
    ranks = rank_matrix(np.array([[accuracy[name, s] for name in names] for s in seeds])).mean(axis=0)
    return {name: float(rank) for name, rank in zip(names, ranks)}


@dataclass
class Row:
    """One strategy's line of the summary table, as numbers (formatting comes later)."""

    strategy: str
    seeds: list[int]
    test_mean: float
    test_std: float | None
    iqm: float
    iqm_interval: Interval
    val_mean: float
    epochs_mean: float
    wall_median: float
    throughput_median: float | None
    mean_rank: float | None  # over the seeds every strategy ran (``common_seeds``); None when there is none


def summarise(runs: Sequence[ResultFile]) -> list[Row]:
    """The summary table's rows, by name: every mean-rank gap may be far below the critical difference, so an order
    by rank would read as a ranking the data do not support (the rank stands beside each name)."""
    ranks = mean_ranks(runs)
    rows = []
    for name in sorted({r.strategy for r in runs}):
        mine = sorted((r for r in runs if r.strategy == name), key=lambda r: r.seed)
        acc = resolved([r.test_accuracy for r in mine])
        iqm, interval = iqm_interval(acc)
        throughputs = [r.result.throughput_samples_per_second for r in mine]
        throughputs = [t for t in throughputs if t is not None]
        rows.append(
            Row(
                strategy=name,
                seeds=[r.seed for r in mine],
                test_mean=float(np.mean(acc)),
                test_std=float(np.std(acc, ddof=1)) if len(acc) > 1 else None,
                iqm=iqm,
                iqm_interval=interval,
                val_mean=float(np.mean([r.val_accuracy for r in mine])),
                epochs_mean=float(np.mean([r.result.epochs_trained for r in mine])),
                wall_median=float(np.median([r.result.wall_clock_seconds for r in mine])),
                throughput_median=float(np.median(throughputs)) if throughputs else None,
                mean_rank=ranks[name],
            )
        )
    return rows


def rank_order(rows: Sequence[Row]) -> list[str]:
    """Strategies by mean rank (then higher mean accuracy, then name): which is A in a pair, the CD diagram's order."""
    ranked = sorted(rows, key=lambda r: (np.inf if r.mean_rank is None else r.mean_rank, -r.test_mean, r.strategy))
    return [r.strategy for r in ranked]
