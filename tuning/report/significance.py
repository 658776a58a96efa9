"""Tests between strategies: Friedman's over all of them, then Wilcoxon signed-rank per pair, Holm-corrected.

Demšar (2006): compare many methods over many blocks (here: the seeds every
strategy ran) with the Friedman test, then post hoc.  The post hoc is the
Wilcoxon signed-rank test per pair with Holm's step-down correction over all
pairs tested (statsmodels' ``multipletests``), not Nemenyi's mean-rank test:
Benavoli, Corani & Mangili (JMLR 2016) show a mean-rank post hoc makes the
verdict on A against B depend on which other strategies are in the pool.

Effect sizes and equivalence (Lakens 2017): each pair's mean paired
difference gets its 95 % t-interval, and a verdict against a stated margin
``MARGIN`` (0.5 percentage points unless ``--margin`` says otherwise):

* equivalent: the two one-sided t-tests (TOST, statsmodels) reject "the
  difference is at least the margin" on both sides, Holm-corrected over the
  pairs like the Wilcoxon p (a difference inside the margin is, by the
  margin's definition, of no practical consequence, so this verdict comes
  first);
* better / worse: otherwise, the Holm-corrected Wilcoxon p below ``ALPHA``;
* undecided: neither.  "Not significant" is never "equal".

TOST rather than ``baycomp``'s Bayesian signed-rank ROPE: it is a
frequentist test with the same alpha and the same Holm family as the
significance verdict, so one table has one error rate; statsmodels is
already a dependency, while baycomp is a new one with its own prior and
Monte Carlo draws.  The power figures use the paired t-test (statsmodels'
``TTestPower``) at the first Holm step, alpha / pairs, the strictest level
any pair is held to: the smallest difference the seeds detect with 80 %
power, and for an undecided pair the seeds that would decide it at the
observed mean and spread (detect the difference, or show equivalence).

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
from statsmodels.stats.power import TTestPower
from statsmodels.stats.weightstats import DescrStatsW

from tuning.report.load import ResultFile
from tuning.report.statistics import (
    ALPHA,
    BOOTSTRAP_SEED,
    CI,
    CONFIDENCE,
    N_RESAMPLES,
    Interval,
    difference,
    probability_of_improvement,
    rank_matrix,
    resolved,
)

EXACT_MAX = 14  # nonzero pairs up to which the Wilcoxon p enumerates every sign pattern (16,384)
PERMUTATION_MAX_SEEDS = 20  # Friedman: a permutation p up to this many seeds (scipy: chi-square reliable for n > 10)
MARGIN = (
    0.005  # equivalence margin: differences of test accuracy within +-0.5 pp count as equivalent (docs/statistics.md)
)
POWER = 0.8  # the power of the detectable difference and of the seed planner
MAX_SEEDS = 10_000  # the planner's ceiling: beyond it a pair is, in practice, not decidable by more seeds

BETTER, WORSE, EQUIVALENT, UNDECIDED = "better", "worse", "equivalent", "undecided"


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
    difference_interval: Interval = field(default_factory=Interval)  # 95% t-interval of the mean difference
    tost_p: float | None = None
    tost_holm: float | None = None
    margin: float = MARGIN
    detectable: float | None = None  # smallest |mean difference| these seeds detect with POWER at alpha / pairs
    seeds_to_decide: int | None = None  # for an undecided pair: seeds that would decide it (None: not decidable)

    @property
    def verdict(self) -> str:
        """A against B: better, worse, equivalent (within the margin) or undecided."""
        if self.tost_holm is not None and self.tost_holm < ALPHA:
            return EQUIVALENT
        if self.significant and self.mean_difference is not None:
            return BETTER if self.mean_difference > 0 else WORSE
        return UNDECIDED

    @property
    def trivial(self) -> str:
        """For an equivalent pair that the Wilcoxon test also separates: "better" or "worse" by less than the
        margin (Lakens' "statistically different, practically equivalent"); else empty."""
        if self.verdict != EQUIVALENT or not self.significant or self.mean_difference is None:
            return ""
        return BETTER if self.mean_difference > 0 else WORSE

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


def pairwise(runs: Sequence[ResultFile], order: Sequence[str], margin: float = MARGIN) -> list[Pair]:
    """Every pair of strategies (better-ranked first): Wilcoxon p, Holm-corrected over the pairs tested, P(A > B),
    and the effect size: the mean difference's CI, TOST against ``margin``, power and seeds to decide."""
    accuracy = {(r.strategy, r.seed): r.test_accuracy for r in runs}
    seeds_of = {name: sorted(s for (n, s) in accuracy if n == name) for name in order}
    pairs = []
    for a, b in itertools.combinations(order, 2):
        shared = sorted(set(seeds_of[a]) & set(seeds_of[b]))
        diffs = difference([accuracy[a, s] for s in shared], [accuracy[b, s] for s in shared])
        pair = Pair(a, b, shared, [float(d) for d in diffs], margin=margin)
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
    _effect_sizes(pairs, margin)
    return pairs


def mean_interval(differences: Sequence[float]) -> Interval:
    """The 95 % t-interval of the mean of paired differences (scipy); none where there is no spread to scale it."""
    d = np.asarray(differences, dtype=float)
    if len(d) < 2:
        return Interval(why=f"{len(d)} shared seed(s)")
    if np.all(d == d[0]):
        return Interval(why="every difference the same: no spread")
    ci = stats.ttest_1samp(d, 0.0).confidence_interval(CONFIDENCE)
    return Interval(float(ci.low), float(ci.high), CI)


def tost_p(differences: Sequence[float], margin: float) -> float | None:
    """TOST p (statsmodels): the larger one-sided p of "mean <= -margin" and "mean >= +margin"; None without spread."""
    d = np.asarray(differences, dtype=float)
    if len(d) < 2 or np.all(d == d[0]):
        return None
    return float(DescrStatsW(d).ttost_mean(-margin, margin)[0])


def detectable_difference(n: int, sd: float, alpha: float, power: float = POWER) -> float | None:
    """The smallest |mean difference| a two-sided paired t-test at ``alpha`` finds with ``power`` over n seeds."""
    if n < 2 or sd <= 0:
        return None
    effect = TTestPower().solve_power(effect_size=None, nobs=n, alpha=alpha, power=power, alternative="two-sided")
    return float(np.ravel(effect)[0]) * sd  # statsmodels answers some (n, alpha) with a one-element array


def _power_t(n: int, effect: float, alpha: float) -> float:
    return float(TTestPower().power(effect_size=effect, nobs=n, alpha=alpha, alternative="two-sided"))


def _power_tost(n: int, mean: float, sd: float, margin: float, alpha: float) -> float:
    """Power of TOST at the true mean ``mean`` (noncentral t of each one-sided test; their union bound)."""
    if abs(mean) >= margin:
        return 0.0
    df, se = n - 1, sd / np.sqrt(n)
    critical = stats.t.ppf(1 - alpha, df)
    lower = stats.nct.sf(critical, df, (mean + margin) / se)  # rejects mean <= -margin
    upper = stats.nct.sf(critical, df, (margin - mean) / se)  # rejects mean >= +margin
    return float(max(0.0, lower + upper - 1.0))


def seeds_to_decide(mean: float, sd: float, margin: float, alpha: float, power: float = POWER) -> int | None:
    """The fewest seeds (2 to ``MAX_SEEDS``) with which, at the observed mean and spread, a pair would be decided
    with ``power``: its difference detected, or its equivalence shown.  None: not within ``MAX_SEEDS``."""
    if sd <= 0:
        return None

    def decides(n: int) -> bool:
        return (mean != 0 and _power_t(n, abs(mean) / sd, alpha) >= power) or _power_tost(
            n, mean, sd, margin, alpha
        ) >= power

    if not decides(MAX_SEEDS):
        return None
    low, high = 2, MAX_SEEDS  # both powers grow with n: bisect for the first n that decides
    while low < high:
        mid = (low + high) // 2
        low, high = (low, mid) if decides(mid) else (mid + 1, high)
    return low


def _effect_sizes(pairs: Sequence[Pair], margin: float) -> None:
    """Each pair's CI, TOST p (Holm over the pairs with one), detectable difference and, if undecided, seeds needed."""
    alpha = ALPHA / max(1, sum(p.p_value is not None for p in pairs))  # the first Holm step: the strictest level
    for pair in pairs:
        pair.difference_interval = mean_interval(pair.differences)
        pair.tost_p = tost_p(pair.differences, margin)
    tested = [p for p in pairs if p.tost_p is not None]
    if tested:
        corrected = multipletests([p.tost_p for p in tested], alpha=ALPHA, method="holm")[1]
        for pair, p in zip(tested, corrected):
            pair.tost_holm = float(p)
    for pair in pairs:
        sd = float(np.std(pair.differences, ddof=1)) if len(pair.differences) > 1 else 0.0
        pair.detectable = detectable_difference(len(pair.differences), sd, alpha)
        if pair.verdict == UNDECIDED and pair.mean_difference is not None:
            pair.seeds_to_decide = seeds_to_decide(pair.mean_difference, sd, margin, alpha)


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
    # Kendall's W can be one strategy's doing (one always last): the test again without the strategy whose removal
    # lowers W most, so a reader sees whether the seeds agree on the order of the rest.
    without: str | None = None
    without_p: float | None = None
    without_w: float | None = None


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
    if k >= 4:  # without one strategy, 3 or more are left to test
        rest = []
        for i, name in enumerate(order):
            others = np.delete(matrix, i, axis=1)
            if np.all(others == others[:, :1]):
                continue
            test = stats.friedmanchisquare(*others.T)
            rest.append((float(test.statistic) / (n * (k - 2)), float(test.pvalue), name))
        if rest:
            result.without_w, result.without_p, result.without = min(rest)
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
