"""The report's statistics against their definitions: brute-force enumerations, scipy, statsmodels, simulation.

Each defect a reviewer found in the old reporter has a test here that the old
code fails: the "95% CI" of 3 runs, Wilcoxon p on unrounded float32
differences, the method left to scipy's version-dependent "auto", no
correction over 15 pairs.
"""

from __future__ import annotations

import itertools
import re
import time
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from tuning.report.anytime import anytime, normalized_regret
from tuning.report.load import ResultFile
from tuning.report.significance import EXACT_MAX, friedman, min_two_sided_p, pairwise, signed_rank_p
from tuning.report.statistics import (
    CI,
    MIN_RUNS_FOR_CI,
    RANGE,
    difference,
    iqm_interval,
    probability_of_improvement,
    rank_matrix,
)

from documents import result_file

ROOT = Path(__file__).resolve().parent.parent


def runs(accuracies: dict[str, list[float]], **kwargs: Any) -> list[ResultFile]:
    """One result file per (strategy, seed), seeds 0..n-1 in list order."""
    return [
        result_file(name, seed, acc, **kwargs) for name, values in accuracies.items() for seed, acc in enumerate(values)
    ]


def exact_signed_rank_p(d: np.ndarray) -> float:
    """The definition: over all 2^n sign patterns of the nonzero |d| (midranks), P(T+ as far from its mean as seen)."""
    d = d[d != 0]
    ranks = stats.rankdata(np.abs(d))
    observed = ranks[d > 0].sum()
    totals = np.array([ranks[list(signs)].sum() for signs in itertools.product([False, True], repeat=len(d))])
    return float(min(1.0, 2 * min(np.mean(totals <= observed), np.mean(totals >= observed))))


# ----------------------------------------------------------------------------- the IQM's interval


def test_few_runs_get_their_range_labelled_as_a_range_not_a_95_ci() -> None:
    """Old: a percentile bootstrap of 3 runs, shown as "95% CI", which is exactly [min, max]."""
    values = [0.9402, 0.9576, 0.9507]
    iqm, interval = iqm_interval(values)
    assert iqm == pytest.approx(np.mean(values)) and interval.kind == RANGE
    assert (interval.low, interval.high) == (min(values), max(values))
    assert iqm_interval([0.9])[1].why == "1 run" and iqm_interval([0.9])[1].kind == ""


def test_enough_runs_get_scipys_percentile_bootstrap_ci() -> None:
    values = np.round(np.random.default_rng(0).normal(0.95, 0.005, MIN_RUNS_FOR_CI + 2), 4)
    iqm, interval = iqm_interval(values)
    expected = stats.bootstrap(
        (values,), lambda x, axis: stats.trim_mean(x, 0.25, axis=axis), n_resamples=9_999, method="percentile", rng=0
    ).confidence_interval
    assert interval.kind == CI and iqm == pytest.approx(stats.trim_mean(values, 0.25))
    assert (interval.low, interval.high) == pytest.approx((expected.low, expected.high))


def test_the_threshold_is_where_the_bootstrap_starts_to_cover() -> None:
    """Simulation: the percentile bootstrap of the IQM covers ~75% with 3 runs, 90%+ from the threshold on."""
    rng = np.random.default_rng(1)

    def coverage(n: int, reps: int = 400, resamples: int = 1_000) -> float:
        truth = 0.95  # normal runs: the population IQM is the mean
        hits = 0
        for _ in range(reps):
            x = rng.normal(truth, 0.006, n)
            boot = stats.trim_mean(x[rng.integers(0, n, (resamples, n))], 0.25, axis=1)
            low, high = np.percentile(boot, [2.5, 97.5])
            hits += low <= truth <= high
        return hits / reps

    assert coverage(3) < 0.85
    assert coverage(MIN_RUNS_FOR_CI) > 0.9


# ----------------------------------------------------------------------------- Wilcoxon


def test_float32_differences_are_rounded_before_ranking() -> None:
    """Old: 0.9627-0.9607 and 0.9663-0.9643 (float32) got different ranks; p 0.094 instead of the exact 0.156."""
    a = np.float32([0.9627, 0.9589, 0.9541, 0.9416, 0.9663, 0.9684])
    b = np.float32([0.9607, 0.9549, 0.9501, 0.9436, 0.9643, 0.9664])
    raw = a.astype(float) - b.astype(float)
    assert len(set(np.abs(raw))) == 4  # unrounded, 2 distinct differences look like 4
    d = difference(a, b)
    assert sorted(np.abs(d)) == [0.002, 0.002, 0.002, 0.002, 0.004, 0.004]
    p, method = signed_rank_p(d)
    assert method == "exact" and p == pytest.approx(exact_signed_rank_p(d)) == pytest.approx(0.15625)
    assert stats.wilcoxon(raw).pvalue == pytest.approx(0.09375)  # what the old report printed
    (pair,) = pairwise(runs({"a": [float(x) for x in a], "b": [float(x) for x in b]}), ["a", "b"])
    assert pair.p_value == pytest.approx(0.15625)


@given(
    st.lists(st.integers(-6, 6), min_size=1, max_size=EXACT_MAX + 2).filter(lambda d: any(d)),
)
def test_wilcoxon_p_is_the_exact_sign_flip_p_with_zeros_and_ties(counts: list[int]) -> None:
    """Zeros dropped, ties at midranks, every sign pattern counted; never below the smallest exact p, 2/2^n."""
    d = np.array(counts) / 1e4
    p, method = signed_rank_p(d)
    n = int(np.count_nonzero(d))
    assert p is not None and p >= min_two_sided_p(n) - 1e-12
    if n <= EXACT_MAX:
        assert method == "exact" and p == pytest.approx(exact_signed_rank_p(d))
    else:
        assert method == "normal approximation"
        assert p == pytest.approx(stats.wilcoxon(d[d != 0], method="asymptotic").pvalue)


def test_scipy_is_pinned_to_the_release_the_explicit_methods_need() -> None:
    """Old: scipy>=1.11 allowed, whose wilcoxon switched to the normal approximation when a zero was present."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (scipy,) = [d for d in project["dependencies"] if re.match(r"scipy\b", d)]
    low = tuple(int(x) for x in re.search(r">=\s*([\d.]+)", scipy).group(1).split(".")[:2])  # type: ignore[union-attr]
    assert low >= (1, 15), scipy  # method="asymptotic", PermutationMethod in wilcoxon, rng= in bootstrap


# ----------------------------------------------------------------------------- Holm, Friedman, P(A > B)


def test_pairwise_p_values_are_holm_corrected_over_all_pairs_tested() -> None:
    """Old: up to 15 raw p-values, no correction."""
    rng = np.random.default_rng(2)
    base = rng.normal(0.95, 0.004, 12)
    accuracies = {
        name: list(np.round(base + shift + rng.normal(0, 0.002, 12), 4))
        for name, shift in (("a", 0.006), ("b", 0.003), ("c", 0.0), ("d", 0.0))
    }
    pairs = pairwise(runs(accuracies), list(accuracies))
    raw = np.array([p.p_value for p in pairs])
    order = np.argsort(raw)
    m = len(raw)
    holm = np.minimum(1, np.maximum.accumulate((m - np.arange(m)) * raw[order]))  # Holm (1979), by hand
    assert [p.p_holm for p in pairs] == pytest.approx(list(holm[np.argsort(order)]))
    assert all(p.p_holm >= p.p_value for p in pairs)
    assert any(p.significant for p in pairs) and not all(p.significant for p in pairs)


def test_friedman_equals_scipy_and_its_permutation_p_is_exact_when_small() -> None:
    accuracies = {"a": [0.95, 0.96, 0.97], "b": [0.94, 0.93, 0.95], "c": [0.90, 0.94, 0.92]}
    f = friedman(runs(accuracies), list(accuracies))
    expected = stats.friedmanchisquare(*accuracies.values())
    assert (f.statistic, f.p_chi2) == pytest.approx((expected.statistic, expected.pvalue))
    assert f.kendall_w == pytest.approx(expected.statistic / (3 * 2))
    # 3!^3 = 216 arrangements: enumerate them by hand.
    matrix = np.array(list(accuracies.values())).T
    stats_all = [
        stats.friedmanchisquare(*np.array([row[list(p)] for row, p in zip(matrix, perms)]).T).statistic
        for perms in itertools.product(itertools.permutations(range(3)), repeat=3)
    ]
    assert f.permutation == "exact"
    assert f.p_permutation == pytest.approx(np.mean(np.array(stats_all) >= expected.statistic - 1e-9))
    assert f.mean_ranks == pytest.approx({"a": 1.0, "b": 7 / 3, "c": 8 / 3})


def test_friedman_needs_three_strategies_and_two_common_seeds() -> None:
    assert "needs 3 or more" in friedman(runs({"a": [0.9, 0.8], "b": [0.7, 0.6]}), ["a", "b"]).note
    only_one = runs({"a": [0.9], "b": [0.8], "c": [0.7]})
    assert "needs 2 or more" in friedman(only_one, ["a", "b", "c"]).note
    tied = friedman(runs({"a": [0.9, 0.8], "b": [0.9, 0.8], "c": [0.9, 0.8]}), ["a", "b", "c"])
    assert tied.statistic is None and "ties on every seed" in tied.note


def test_probability_of_improvement_is_mann_whitney_and_its_ci_is_the_bootstrap() -> None:
    rng = np.random.default_rng(3)
    x, y = np.round(rng.normal(0.951, 0.004, 12), 4), np.round(rng.normal(0.949, 0.004, 11), 4)
    estimate, interval = probability_of_improvement(x, y)
    assert estimate == pytest.approx(stats.mannwhitneyu(x, y).statistic / (12 * 11))

    def naive(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
        return ((a[..., :, None] > b[..., None, :]) + 0.5 * (a[..., :, None] == b[..., None, :])).mean(axis=(-1, -2))

    expected = stats.bootstrap((x, y), naive, n_resamples=9_999, method="percentile", rng=0).confidence_interval
    assert interval.kind == CI and (interval.low, interval.high) == pytest.approx((expected.low, expected.high))
    assert probability_of_improvement(x[:3], y)[1].kind == ""  # too few runs: no interval


# ----------------------------------------------------------------------------- ranks, anytime, regret


def test_ranks_treat_equal_float32_accuracies_as_ties_and_no_score_as_last() -> None:
    scores = np.array([np.float32(0.9785) + 0.0, 0.9785, np.nan, 0.97])
    assert list(rank_matrix(scores)) == [1.5, 1.5, 4.0, 3.0]


def test_anytime_ranks_and_normalized_regret_along_the_epochs() -> None:
    # Trials take 2 epochs: a leads after the first (0.90 against 0.85), b after the second (0.95).
    files = [result_file("a", 0, 0.9, scores=(0.90, 0.70, 0.80)), result_file("b", 0, 0.8, scores=(0.85, 0.95, 0.60))]
    a = anytime(files, ["a", "b"], optimum=1.0)
    assert a is not None and list(a.grid) == [0, 2, 4, 6]
    # Before any trial ends there is nothing to rank (no rank, not a tie).
    np.testing.assert_array_equal(a.ranks, [[np.nan, 1.0, 2.0, 2.0], [np.nan, 2.0, 1.0, 1.0]])
    assert a.at(a.ranks, 0.5).tolist() == [1.0, 2.0]  # half of the 6-epoch smoke budget: 3 epochs
    # Averaged over where ranks exist: epochs 2 to 6.
    assert a.over_budget(a.ranks).tolist() == pytest.approx([(1.0 * 2 + 2.0 * 2) / 4] * 2)
    assert a.ranked_from == 2.0
    assert a.worst == 0.6 and a.regret is not None
    assert a.regret[:, -1].tolist() == pytest.approx([(1 - 0.9) / 0.4, (1 - 0.95) / 0.4])
    assert normalized_regret(np.array([np.nan, 1.0]), 1.0, 0.5).tolist() == [1.0, 0.0]


def test_an_optimum_below_a_real_score_is_refused() -> None:
    from tuning.core.errors import UsageError

    with pytest.raises(UsageError, match="above the optimum"):
        anytime(runs({"a": [0.9], "b": [0.8]}), ["a", "b"], optimum=0.84)


# ----------------------------------------------------------------------------- hundreds of seeds


def test_statistics_scale_to_hundreds_of_seeds() -> None:
    """Replay mode brings 200 seeds a strategy: the statistics grow with the runs, not with their square."""
    from tuning.report.tables import Section

    rng = np.random.default_rng(4)

    def seconds(n: int) -> float:
        accuracies = {
            name: list(np.round(rng.normal(0.95 + 0.001 * k, 0.005, n), 4)) for k, name in enumerate("abcdef")
        }
        files = runs(accuracies)
        start = time.perf_counter()
        Section(files)
        return time.perf_counter() - start

    seconds(10)  # warm-up: first calls pay for imports
    small, large = seconds(20), seconds(200)
    assert large < 25 * small, (small, large)  # 10x the runs: linear is <= 10x; an n^2 statistic per resample ~100x
