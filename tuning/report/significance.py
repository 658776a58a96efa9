"""Tests between strategies: Friedman's over all of them, then Wilcoxon signed-rank per pair, Holm-corrected.

Demšar (2006): compare many methods over many blocks (here: the seeds every
strategy ran) with the Friedman test, then post hoc.  The post hoc is the
Wilcoxon signed-rank test per pair with Holm's step-down correction over all
pairs tested (statsmodels' ``multipletests``), not Nemenyi's mean-rank test:
Benavoli, Corani & Mangili (JMLR 2016) show a mean-rank post hoc makes the
verdict on A against B depend on which other strategies are in the pool.

Every p-value's method is explicit, never scipy's ``"auto"`` (whose choice
changed between scipy releases): the Wilcoxon p is exact (all 2**n sign
patterns of the n nonzero differences, ties and all) up to ``EXACT_MAX``
pairs, the normal approximation with tie correction beyond; Friedman's p is
the chi-square approximation, plus a permutation p (within-seed shuffles)
while seeds are few enough for the approximation to be rough.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests

from tuning.report.load import ResultFile
from tuning.report.statistics import (
    ALPHA,
    BOOTSTRAP_SEED,
    N_RESAMPLES,
    Interval,
    difference,
    probability_of_improvement,
    rank_matrix,
    resolved,
)

EXACT_MAX = 14  # nonzero pairs up to which the Wilcoxon p enumerates every sign pattern (16,384)
PERMUTATION_MAX_SEEDS = 20  # Friedman: a permutation p up to this many seeds (scipy: chi-square reliable for n > 10)


def min_two_sided_p(n: int) -> float:
    """The smallest two-sided p an exact Wilcoxon signed-rank test can give with n nonzero pairs: 2 / 2**n."""
    return min(1.0, 2.0 / 2.0**n)


def _positive_rank_sum(d: np.ndarray, axis: int = -1) -> np.ndarray:
    """Wilcoxon's T+: the sum of the ranks of |d| (ties averaged) where d > 0."""
    return np.sum(stats.rankdata(np.abs(d), axis=axis) * (d > 0), axis=axis)


def signed_rank_p(differences: Sequence[float]) -> tuple[float | None, str]:
    """Two-sided Wilcoxon signed-rank p of paired differences, zeros dropped (Wilcoxon's own rule), and its method."""
    d = resolved(differences)
    d = d[d != 0]
    if not len(d):
        return None, ""
    if len(d) == 1:
        return 1.0, "exact"  # both sign patterns are as extreme as the one seen (scipy needs 2 observations)
    if len(d) <= EXACT_MAX:
        # Flipping signs is the signed-rank test's null; n_resamples=inf makes scipy enumerate all 2**n flips.
        result = stats.permutation_test(
            (d,), _positive_rank_sum, permutation_type="samples", vectorized=True, n_resamples=np.inf
        )
        return float(min(1.0, result.pvalue)), "exact"
    return float(stats.wilcoxon(d, method="asymptotic", correction=False).pvalue), "normal approximation"


@dataclass
class Pair:
    """Strategy ``a`` against ``b``: paired on the seeds both ran, and P(A > B) over all their runs."""

    a: str
    b: str
    seeds: list[int]
    differences: list[float]  # a - b per shared seed, rounded (statistics.difference)
    p_value: float | None = None
    method: str = ""
    p_holm: float | None = None
    improvement: float | None = None
    improvement_interval: Interval = field(default_factory=Interval)
    note: str = ""

    @property
    def mean_difference(self) -> float | None:
        return float(np.mean(self.differences)) if self.differences else None

    @property
    def wins(self) -> tuple[int, int, int]:
        """(seeds a beat b, ties, seeds b beat a)."""
        d = np.asarray(self.differences)
        return int((d > 0).sum()), int((d == 0).sum()), int((d < 0).sum())

    @property
    def significant(self) -> bool:
        return self.p_holm is not None and self.p_holm < ALPHA


def pairwise(runs: Sequence[ResultFile], order: Sequence[str]) -> list[Pair]:
    """Every pair of strategies (better-ranked first): Wilcoxon p, Holm-corrected over the pairs tested, and P(A > B)."""
    accuracy = {(r.strategy, r.seed): r.test_accuracy for r in runs}
    seeds_of = {name: sorted(s for (n, s) in accuracy if n == name) for name in order}
    pairs = []
    for a, b in itertools.combinations(order, 2):
        shared = sorted(set(seeds_of[a]) & set(seeds_of[b]))
        diffs = difference([accuracy[a, s] for s in shared], [accuracy[b, s] for s in shared])
        pair = Pair(a, b, shared, [float(d) for d in diffs])
        pair.improvement, pair.improvement_interval = probability_of_improvement(
            [accuracy[a, s] for s in seeds_of[a]], [accuracy[b, s] for s in seeds_of[b]]
        )
        nonzero = int(np.count_nonzero(diffs))
        if not shared:
            pair.note = "no seeds in common: nothing to pair"
        elif nonzero == 0:
            pair.note = f"identical on all {len(shared)} shared seeds: no test"
        else:
            pair.p_value, pair.method = signed_rank_p(diffs)
            notes = [f"{len(diffs) - nonzero} zero difference(s) dropped"] if nonzero < len(diffs) else []
            if min_two_sided_p(nonzero) > ALPHA:
                notes.append(
                    f"too few pairs to test (n={nonzero}): the smallest possible p is "
                    f"{min_two_sided_p(nonzero):.4g} > {ALPHA}"
                )
            pair.note = "; ".join(notes)
        pairs.append(pair)
    tested = [p for p in pairs if p.p_value is not None]
    if tested:
        corrected = multipletests([p.p_value for p in tested], alpha=ALPHA, method="holm")[1]
        for pair, p in zip(tested, corrected):
            pair.p_holm = float(p)
    return pairs


def holm_matrix(pairs: Sequence[Pair], order: Sequence[str]) -> np.ndarray:
    """Holm-corrected p of every pair as a symmetric matrix in ``order`` (1 where a pair has no test)."""
    index = {name: i for i, name in enumerate(order)}
    matrix = np.ones((len(order), len(order)))
    for p in pairs:
        if p.p_holm is not None:
            matrix[index[p.a], index[p.b]] = matrix[index[p.b], index[p.a]] = p.p_holm
    return matrix


@dataclass
class Friedman:
    """The Friedman test over the seeds every strategy ran (complete blocks), with each strategy's mean rank there."""

    strategies: list[str]
    seeds: list[int]
    mean_ranks: dict[str, float]
    statistic: float | None = None
    p_chi2: float | None = None
    p_permutation: float | None = None
    permutation: str = ""
    kendall_w: float | None = None
    note: str = ""


def _friedman_statistic(*samples: np.ndarray, axis: int = -1) -> np.ndarray:
    return stats.friedmanchisquare(*samples, axis=axis).statistic


def friedman(runs: Sequence[ResultFile], order: Sequence[str]) -> Friedman:
    """Friedman's chi-square (scipy, tie-corrected), Kendall's W = chi2 / (n (k - 1)), and a permutation p."""
    accuracy = {(r.strategy, r.seed): r.test_accuracy for r in runs}
    seeds = sorted(set.intersection(*({s for (n, s) in accuracy if n == name} for name in order)))
    k, n = len(order), len(seeds)
    matrix = resolved([[accuracy[name, s] for name in order] for s in seeds]).reshape(n, k)
    ranks = rank_matrix(matrix).mean(axis=0) if n else np.full(k, np.nan)
    result = Friedman(list(order), seeds, {name: float(r) for name, r in zip(order, ranks)})
    if k < 3:
        result.note = (
            "One strategy only: nothing to test."
            if k == 1
            else "2 strategies: the Friedman test needs 3 or more; the pairwise Wilcoxon test compares them."
        )
        return result
    if n < 2:
        result.note = f"{n} seed(s) run by every strategy: the Friedman test needs 2 or more"
        return result
    if np.all(matrix == matrix[:, :1]):
        result.note = "every strategy ties on every seed: no test"
        return result
    chi2 = stats.friedmanchisquare(*matrix.T)
    result.statistic, result.p_chi2 = float(chi2.statistic), float(chi2.pvalue)
    result.kendall_w = result.statistic / (n * (k - 1))
    if n <= PERMUTATION_MAX_SEEDS:
        # Shuffling the strategies' scores within each seed is the null of the Friedman test.
        arrangements = math.factorial(k) ** n
        permuted = stats.permutation_test(
            tuple(matrix.T),
            _friedman_statistic,
            permutation_type="samples",
            vectorized=True,
            n_resamples=N_RESAMPLES,
            alternative="greater",
            rng=BOOTSTRAP_SEED,
        )
        result.p_permutation = float(permuted.pvalue)
        result.permutation = "exact" if arrangements <= N_RESAMPLES else "Monte Carlo"
    else:
        result.note = f"{n} seeds: the chi-square approximation is reliable (scipy: n > 10); no permutation p"
    return result
