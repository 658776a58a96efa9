"""Issue 20: effect sizes with intervals, equivalence verdicts, power, the seed planner, and the report's defects.

Each defect test fails on the code before it (noted in its docstring): a
collapsed interval printed as a "95% CI", Kendall's W shown without saying
one strategy drives it, anytime ranks that count "none yet" as last, a
wall-clock axis of trial seconds only, ranks over unequal seed sets.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.power import TTestPower
from statsmodels.stats.weightstats import ttost_paired

from tuning.cli import main
from tuning.report.anytime import RUN_SECONDS, anytime, run_timeline, strategy_curve
from tuning.report.provenance import files
from tuning.report.significance import (
    BETTER,
    EQUIVALENT,
    MARGIN,
    UNDECIDED,
    WORSE,
    _power_t,
    _power_tost,
    friedman,
    pairwise,
    seeds_to_decide,
)
from tuning.report.statistics import iqm_interval, mean_ranks, probability_of_improvement

from documents import result_document, result_file


def runs(accuracies: dict[str, list[float]]) -> list:
    return [result_file(name, seed, acc) for name, values in accuracies.items() for seed, acc in enumerate(values)]


def write(directory: Path, accuracies: dict[str, list[float]]) -> None:
    for name, values in accuracies.items():
        for seed, acc in enumerate(values):
            path = directory / "smoke" / f"{name}-seed{seed}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(result_document(name, seed, acc)))


RNG = np.random.default_rng(20)
BASE = np.round(RNG.normal(0.95, 0.004, 10), 4)
NOISE = np.round(RNG.normal(0.0, 0.004, 10), 4)


# ----------------------------------------------------------------------------- effect sizes and verdicts


def test_each_pair_has_the_mean_difference_with_scipys_t_interval_and_statsmodels_tost() -> None:
    a, b = BASE + NOISE, BASE
    (pair,) = pairwise(runs({"a": list(a), "b": list(b)}), ["a", "b"])
    d = np.round(np.round(a, 6) - np.round(b, 6), 6)
    ci = stats.ttest_1samp(d, 0).confidence_interval(0.95)
    assert (pair.difference_interval.low, pair.difference_interval.high) == pytest.approx((ci.low, ci.high))
    assert pair.difference_interval.low < pair.mean_difference < pair.difference_interval.high
    assert pair.tost_p == pytest.approx(ttost_paired(np.round(a, 6), np.round(b, 6), -MARGIN, MARGIN)[0], abs=1e-9)
    expected = TTestPower().solve_power(nobs=10, alpha=0.05, power=0.8) * np.std(d, ddof=1)
    assert pair.detectable == pytest.approx(expected)  # one pair: Holm's first step is alpha itself


def test_verdicts_better_worse_equivalent_undecided() -> None:
    tiny = list(BASE + np.round(NOISE / 10, 4))  # within 0.1 pp of BASE on every seed: equivalent
    big = list(BASE + 0.02 + np.round(NOISE / 4, 4))  # 2 pp above on every seed: better
    noisy = list(BASE + np.round(NOISE * 3, 4))  # +-1.2 pp either way: neither shown
    pairs = {
        (p.a, p.b): p
        for p in pairwise(
            runs({"big": big, "base": list(BASE), "tiny": tiny, "noisy": noisy}), ["big", "base", "tiny", "noisy"]
        )
    }
    assert pairs["base", "tiny"].verdict == EQUIVALENT
    assert pairs["big", "base"].verdict == BETTER
    assert pairs["base", "noisy"].verdict == UNDECIDED and pairs["base", "noisy"].seeds_to_decide is not None
    # Better-ranked first is the usual order; the verdict reads A against B whichever comes first.
    (reverse,) = pairwise(runs({"base": list(BASE), "big": big}), ["base", "big"])
    assert reverse.verdict == WORSE


def test_not_significant_is_not_equivalent() -> None:
    """The old table's only verdict was "Holm p < 0.05" or nothing, which read as "equal": noisy pairs are undecided."""
    noisy = list(BASE + np.round(NOISE * 3, 4))
    (pair,) = pairwise(runs({"a": list(BASE), "b": noisy}), ["a", "b"])
    assert not pair.significant and pair.verdict == UNDECIDED
    assert pair.difference_interval.low < -MARGIN or pair.difference_interval.high > MARGIN


def test_seeds_to_decide_is_the_first_n_with_the_power() -> None:
    mean, sd, alpha = 0.0015, 0.004, 0.05 / 15
    n = seeds_to_decide(mean, sd, MARGIN, alpha)
    assert n is not None and n > 2

    def power(k: int) -> float:
        return max(_power_t(k, mean / sd, alpha), _power_tost(k, mean, sd, MARGIN, alpha))

    assert power(n) >= 0.8 > power(n - 1)
    # Simulated: TOST at n seeds shows equivalence of a true 0.15 pp difference at least ~80% of the time.
    rng = np.random.default_rng(0)
    shown = 0
    for _ in range(400):
        d = rng.normal(mean, sd, n)
        shown += ttost_paired(d, np.zeros(n), -MARGIN, MARGIN)[0] < alpha
    assert shown / 400 > 0.7


# ----------------------------------------------------------------------------- defects


def test_an_interval_that_collapses_to_a_point_is_not_a_95_ci(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Old: P(A > B) = 1.00 [1.00, 1.00] "95% CI" when every run of A beat every run of B."""
    high, low = [0.95 + i / 10_000 for i in range(10)], [0.93 + i / 10_000 for i in range(10)]
    estimate, interval = probability_of_improvement(high, low)
    assert estimate == 1.0 and interval.kind == "" and interval.why
    assert iqm_interval([0.9] * 10)[1].kind == ""  # ten equal runs: no bootstrap "CI" of one point either
    write(tmp_path, {"a": high, "b": low})
    assert main(["report", str(tmp_path)]) == 0
    assert "[1.00, 1.00]" not in capsys.readouterr().out


def test_kendalls_w_is_shown_without_the_strategy_that_drives_it(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Old: W = 0.37 read as agreement on the order, although without grid (always last) W was 0.01."""
    rng = np.random.default_rng(1)
    scores = {name: list(np.round(rng.normal(0.95, 0.004, 10), 4)) for name in ("a", "b", "c", "d")}
    scores["grid"] = [0.90] * 10
    result = friedman(runs(scores), sorted(scores))
    assert result.kendall_w is not None and result.kendall_w > 0.3
    assert result.without == "grid" and result.without_w is not None and result.without_w < result.kendall_w / 2
    write(tmp_path, scores)
    assert main(["report", str(tmp_path), "--table", "friedman"]) == 0
    out = capsys.readouterr().out
    assert "without grid" in out and "agreement between seeds on the order" not in out


def test_anytime_columns_say_they_rank_validation_accuracy(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Old: "Mean rank at 100%" beside a summary rank on test accuracy, without saying which."""
    write(tmp_path, {"a": [0.9, 0.8], "b": [0.7, 0.75]})
    assert main(["report", str(tmp_path), "--table", "anytime"]) == 0
    out = capsys.readouterr().out
    assert "Mean rank (val. acc.) at 100%" in out and "Mean rank at" not in out


def test_none_yet_is_not_ranked_last() -> None:
    """Old: a strategy with no score yet ranked last, so one scoring early (Hyperband's first rung) ranked first."""
    early = result_file("hyperband", 0, 0.9, scores=(0.50, 0.60, 0.70))
    late = result_file("random", 0, 0.9, scores=(None, 0.95, 0.96))  # its first trial gave no score
    a = anytime([early, late], ["hyperband", "random"])
    assert a is not None and list(a.grid) == [0, 2, 4, 6]
    assert np.isnan(a.ranks[:, 1]).all()  # at epoch 2 only hyperband has a score: nothing to compare
    assert a.ranks[:, 2].tolist() == [2.0, 1.0] and a.ranked_from == 4.0


def test_the_wall_clock_axis_is_the_runs_own_timeline() -> None:
    """Old: trial seconds summed (4.5 s here) although the run took 12 s: the decisions' time was left out."""
    run = result_file("bayesian", 0, 0.9)
    run.result.wall_clock_seconds = 12.0
    timeline = run_timeline(run)
    assert timeline[-1] == pytest.approx(12.0) and np.all(np.diff(timeline) > 0)
    grid, *_ = strategy_curve([run], RUN_SECONDS)
    assert grid[-1] == pytest.approx(12.0)
    from tuning.report.plots import AXES

    assert AXES[1][0] == RUN_SECONDS


def test_ranks_use_only_the_seeds_every_strategy_ran() -> None:
    """Old: on a seed only a ran, a ranked 1 of 1, so extra seeds bought rank."""
    files = runs({"a": [0.5, 0.5, 0.9, 0.9], "b": [0.9, 0.9]})
    assert mean_ranks(files) == {"a": 2.0, "b": 1.0}
    assert mean_ranks(runs({"a": [0.9]}) + [result_file("b", 1, 0.8)]) == {"a": None, "b": None}


def test_files_are_a_pattern_and_a_count() -> None:
    text = files(runs({"a": [0.9] * 10, "b": [0.8] * 10}))
    assert text == "./: 20 files {strategy}-seed{seed}.json (a, b; seeds 0-9)"


# ----------------------------------------------------------------------------- the seed planner


def test_plan_prints_seeds_and_wall_clock_for_each_undecided_pair(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    write(tmp_path, {"a": list(BASE), "b": list(BASE + np.round(NOISE * 3, 4))})
    assert main(["report", str(tmp_path), "--plan"]) == 0
    out = capsys.readouterr().out
    assert "## Seed plan, problem mnist-mlp, budget smoke" in out and "| a " in out and "Seeds to add" in out
    assert main(["report", str(tmp_path), "--plan", "--margin", "5"]) == 0  # 5 pp: equivalent now
    assert "Every pair is decided" in capsys.readouterr().out
    assert main(["report", str(tmp_path), "--plan", "--format", "csv"]) == 2  # the plan is Markdown only
    err = capsys.readouterr().err
    assert "--plan prints the seed plan alone" in err and len(err.strip().splitlines()) == 1


def test_a_bad_margin_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    write(tmp_path, {"a": [0.9], "b": [0.8]})
    with pytest.raises(SystemExit) as e:
        main(["report", str(tmp_path), "--margin", "-1"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_real_difference_below_the_margin_is_equivalent_and_says_it_is_real() -> None:
    """Replay's random - Bayesian: +0.23 [+0.09, +0.37] pp, Holm-significant and within +-0.5 pp."""
    steady = list(BASE + 0.002 + np.round(NOISE / 8, 4))  # 0.2 pp above BASE on every seed
    (pair,) = pairwise(runs({"a": steady, "b": list(BASE)}), ["a", "b"])
    assert pair.significant and pair.verdict == EQUIVALENT and pair.trivial == BETTER
    (other,) = pairwise(runs({"a": list(BASE), "b": list(BASE + np.round(NOISE / 10, 4))}), ["a", "b"])
    assert other.trivial == ""


def test_the_detectable_difference_is_a_number_where_statsmodels_answers_with_an_array() -> None:
    """statsmodels' solve_power answers some (seeds, alpha) with a one-element array (40 seeds at a Holm step of
    0.05 / 21 among seven strategies): the report took 40 seeds of seven strategies down with a TypeError."""
    from tuning.report.significance import detectable_difference

    alpha = 0.05 / 21
    raw = TTestPower().solve_power(effect_size=None, nobs=40, alpha=alpha, power=0.8, alternative="two-sided")
    found = detectable_difference(40, 0.01, alpha)
    assert isinstance(found, float) and found == pytest.approx(float(np.ravel(raw)[0]) * 0.01)
    assert 0.002 < found < 0.01
