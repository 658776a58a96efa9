"""Anytime performance: the best validation accuracy so far along the budget, the mean rank along it, and regret.

A seed's best-so-far is a step function (it changes only when a trial ends),
so seeds are read exactly on the union of all their steps - no resampling
error - and a seed that has finished keeps its final best to the right.
Validation accuracy is what a strategy sees while it searches; the test
accuracy exists only for the trial it finally chose.

* The band around a strategy's mean says what it is: the range (min, max)
  over its seeds below ``MIN_RUNS_FOR_CI`` seeds, the 95 % t-interval of the
  mean from there on (the rule of the summary table's interval); one seed
  has no band, only its points.
* The mean rank along the budget (1 = best): on each seed every strategy is
  ranked by its best validation accuracy so far, then ranks are averaged
  over the seeds every strategy ran.  Ranks start where every strategy has a
  score on every seed: counting "none yet" as last made Hyperband, whose
  first rung scores early, rank first while the others were still training.
* Normalized regret, where the best score possible is known (a replay table
  knows it): (optimum - best so far) / (optimum - worst trial score of the
  budget), 0 at the optimum, 1 at the worst; as HPOBench and YAHPO Gym
  normalize per task.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from tuning.core.errors import UsageError
from tuning.report.load import ResultFile
from tuning.report.statistics import MIN_RUNS_FOR_CI, rank_matrix

FRACTIONS = (0.25, 0.5, 0.75, 1.0)  # of the epoch budget: where the anytime table reads the curves
RANGE_BAND = "range (min, max) over seeds"
T_BAND = "95% t-interval of the mean over seeds"


RUN_SECONDS = "run_seconds"  # best_so_far's axis on the run's own clock (``run_timeline``)


def run_timeline(run: ResultFile) -> np.ndarray:
    """When each trial ended on the run's wall-clock, as far as the record tells.

    Trials record their own seconds only; the rest of the run (the strategy's
    decisions, Keras Tuner's bookkeeping, start-up) is ``wall_clock_seconds``
    minus their sum.  It is spread evenly before each trial, so the last trial
    ends at the run's wall-clock: summing trial seconds alone ended Bayesian's
    curve near 8 s although its median run takes 11.5 s.
    """
    seconds = np.array([float(t.seconds) for t in run.result.trials])
    rest = max(0.0, float(run.result.wall_clock_seconds) - float(seconds.sum()))
    return np.cumsum(seconds + (rest / len(seconds) if len(seconds) else 0.0))


def best_so_far(run: ResultFile, axis: str) -> tuple[np.ndarray, np.ndarray]:
    """(cumulative epochs, trial seconds or run seconds (``RUN_SECONDS``) at each trial's end, best validation
    accuracy so far).

    A trial without a score (failed) moves the x-axis on but not the best;
    before the first scored trial the best is NaN.
    """
    trials = run.result.trials
    if axis == RUN_SECONDS:
        x = run_timeline(run)
    else:
        x = np.cumsum([float(getattr(t, axis)) for t in trials])
    scores = np.array([np.nan if t.val_accuracy_final is None else float(t.val_accuracy_final) for t in trials])
    return x, np.fmax.accumulate(scores) if len(scores) else scores


def on_grid(x: np.ndarray, y: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """A step function (value y[i] from x[i] on) read at ``grid``; NaN before its first step."""
    index = np.searchsorted(x, grid, side="right") - 1
    out = np.full(np.shape(grid), np.nan)
    ok = index >= 0
    out[ok] = np.asarray(y)[index[ok]]
    return out


def band_kind(n: int) -> str:
    """What the band around a mean of n seeds is (empty: no band, one seed)."""
    return "" if n < 2 else RANGE_BAND if n < MIN_RUNS_FOR_CI else T_BAND


def band(curves: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over seeds (rows) and its band (``band_kind``): the range below ``MIN_RUNS_FOR_CI`` seeds, else a t-interval."""
    n = len(curves)
    mean = curves.mean(axis=0)
    if n < 2:
        return mean, mean, mean
    if n < MIN_RUNS_FOR_CI:
        return mean, curves.min(axis=0), curves.max(axis=0)
    half = stats.t.ppf(0.975, n - 1) * curves.std(axis=0, ddof=1) / np.sqrt(n)
    return mean, np.clip(mean - half, 0.0, 1.0), np.clip(mean + half, 0.0, 1.0)


def strategy_curve(runs: Sequence[ResultFile], axis: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(grid, mean, low, high) for one strategy's seeds along ``axis``, from where every seed has a score."""
    steps = [best_so_far(r, axis) for r in runs]
    grid = np.unique(np.concatenate([x for x, _ in steps])) if steps else np.array([])
    curves = np.vstack([on_grid(x, y, grid) for x, y in steps]) if len(grid) else np.empty((0, 0))
    # Start where every seed has a score: a mean over a changing set of seeds can fall, which a best-so-far cannot.
    complete = ~np.isnan(curves).any(axis=0)
    return (grid[complete], *band(curves[:, complete]))


@dataclass
class Anytime:
    """Mean rank (and mean normalized regret) of each strategy along the epochs, over the seeds all of them ran."""

    strategies: list[str]
    seeds: list[int]
    epoch_budget: int
    grid: np.ndarray  # cumulative epochs, starting at 0
    ranks: np.ndarray  # strategies x grid
    regret: np.ndarray | None = None  # strategies x grid, where the optimum is known
    optimum: float | None = None
    worst: float | None = None

    def at(self, values: np.ndarray, fraction: float) -> np.ndarray:
        """Each strategy's value at ``fraction`` of the epoch budget."""
        return np.array([on_grid(self.grid, row, np.array([fraction * self.epoch_budget]))[0] for row in values])

    def over_budget(self, values: np.ndarray) -> np.ndarray:
        """Each strategy's value averaged over the epoch budget where it is defined (the area under its step curve
        / that length): ranks from the first point where every strategy has a score on every seed."""
        edges = np.clip(np.append(self.grid, self.epoch_budget), 0, self.epoch_budget)
        widths = np.where(np.isnan(values), 0.0, np.diff(edges))
        length = widths.sum(axis=1)
        area = (np.where(widths > 0, values, 0.0) * widths).sum(axis=1)
        return np.where(length > 0, area / np.where(length > 0, length, 1.0), np.nan)

    @property
    def ranked_from(self) -> float | None:
        """Epochs from which every strategy has a score on every seed (ranks exist); None if never."""
        defined = ~np.isnan(self.ranks).any(axis=0)
        return float(self.grid[defined][0]) if defined.any() else None


def normalized_regret(best: np.ndarray, optimum: float, worst: float) -> np.ndarray:
    """(optimum - best so far) / (optimum - worst); no score yet counts as the worst (1)."""
    return np.where(np.isnan(best), 1.0, (optimum - best) / (optimum - worst))


def regret_scale(runs: Sequence[ResultFile], optimum: float, budget: str) -> float:
    """The worst trial score of a budget's runs, after checking that ``optimum`` is above every score."""
    scores = [t.val_accuracy_final for r in runs for t in r.result.trials if t.val_accuracy_final is not None]
    if not scores:
        raise UsageError(f"budget {budget}: no scored trial, so no regret")
    if max(scores) > optimum:
        raise UsageError(
            f"budget {budget}: a trial scored {max(scores):.6g}, above the optimum {optimum:.6g}; "
            "the optimum must be the best validation accuracy possible"
        )
    if min(scores) >= optimum:
        raise UsageError(f"budget {budget}: every trial scored the optimum {optimum:.6g}: regret is 0/0")
    return float(min(scores))


def anytime(runs: Sequence[ResultFile], order: Sequence[str], optimum: float | None = None) -> Anytime | None:
    """Mean rank along the epochs over the seeds every strategy ran; ``None`` when no seed is shared by all."""
    by_key = {(r.strategy, r.seed): r for r in runs}
    seeds = sorted(set.intersection(*({s for (n, s) in by_key if n == name} for name in order)))
    if not seeds:
        return None
    budget = runs[0].result.budget
    steps = {key: best_so_far(by_key[key], "epochs") for key in by_key if key[1] in seeds and key[0] in order}
    grid = np.unique(np.concatenate([[0.0], *(x for x, _ in steps.values())]))
    curves = np.stack([[on_grid(*steps[name, s], grid) for name in order] for s in seeds])  # seeds x k x grid
    per_seed = rank_matrix(np.swapaxes(curves, 1, 2))  # seeds x grid x k: rank among strategies
    # No rank where a strategy has no score yet on that seed (see the module's docstring); NaN spreads to the mean.
    per_seed[np.isnan(np.swapaxes(curves, 1, 2)).any(axis=-1)] = np.nan
    ranks = per_seed.mean(axis=0).T
    result = Anytime(list(order), seeds, budget.epoch_budget, grid, ranks)
    if optimum is not None:
        result.optimum, result.worst = optimum, regret_scale(runs, optimum, budget.name)
        result.regret = normalized_regret(curves, optimum, result.worst).mean(axis=0)
    return result
