"""The surrogate's model error is chosen by held-out live searches where there are any.

A blind strategy (random search) proposes the same configurations whatever
it is told, so its held-out live runs, answered by the surrogate trial for
trial, measure the surrogate's best-of-N alone.  These tests answer live
runs from the table's own recordings, where the answer is known exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tuning.cli import main
from tuning.core.records import BestTrial, RunResult, TrialRecord
from tuning.objectives.replay import table, validate
from tuning.problems.mnist_mlp import BUDGETS, SPACE
from tuning.results import RUNS_FILE, write_runs

from replay_tables import synthetic_table

SMOKE = BUDGETS["smoke"]


def _run(seed: int, recordings: list, shift: float = 0.0, pick=np.argmax, strategy: str = "random") -> RunResult:
    """A live run that tried these recordings' configurations and saw exactly their recorded accuracies (+ shift)."""
    e = SMOKE.epochs
    trials = [
        TrialRecord(str(i), r.hyperparameters, [x["val_accuracy"] + shift for x in r.epochs], e)
        for i, r in enumerate(recordings)
    ]
    chosen = int(pick([r.epochs[-1]["val_accuracy"] for r in recordings]))
    best = BestTrial(
        str(chosen),
        recordings[chosen].hyperparameters,
        recordings[chosen].epochs[-1]["val_accuracy"] + shift,
        e,
        recordings[chosen].epochs[-1]["test_accuracy"] + shift,
    )
    return RunResult(strategy, seed, SMOKE, trials, best, 1.0, e * len(trials), None, {})


def _runs(recordings: list, **kwargs) -> list[RunResult]:
    return [_run(seed, recordings[4 * seed : 4 * seed + 4], **kwargs) for seed in range(8)]


@pytest.fixture(scope="module")
def recordings() -> list:
    return synthetic_table(configs=40, seeds=1, replicated=0, noise=0.01)


def test_searches_answered_from_their_own_recordings_are_unbiased(recordings: list) -> None:
    (found,) = validate.live_best_of(recordings, SPACE, "forest", "none", _runs(recordings), draws=5)
    assert found.strategy == "random" and found.seeds == list(range(8))
    assert found.bias == pytest.approx(0.0, abs=1e-12) and found.val_bias == pytest.approx(0.0, abs=1e-12)
    assert found.sd_ratio == pytest.approx(1.0) and found.coverage == 1.0


def test_a_planted_optimism_and_a_wrong_pick_are_found(recordings: list) -> None:
    (shifted,) = validate.live_best_of(recordings, SPACE, "forest", "none", _runs(recordings, shift=-0.005), draws=5)
    assert shifted.bias == pytest.approx(-0.005) and shifted.bias_ci[1] < 0
    # a search that reported its worst trial is what a surrogate answering too high looks like, seed by seed
    (worst,) = validate.live_best_of(recordings, SPACE, "forest", "none", _runs(recordings, pick=np.argmin), draws=5)
    assert worst.bias < 0 and worst.bias_ci[1] < 0


def test_strategies_that_read_scores_are_not_used(recordings: list) -> None:
    assert validate.live_best_of(recordings, SPACE, "forest", "none", _runs(recordings, strategy="tpe")) == []


def test_the_least_biased_error_is_kept_and_none_without_live_searches() -> None:
    def found(bias: float, sd_ratio: float = 1.0) -> list[validate.LiveSearches]:
        return [validate.LiveSearches("random", [0, 1], 5, bias, (bias, bias), 0.0, (0.0, 0.0), sd_ratio, 1.0)]

    assert validate.best_error_live({}) is None and validate.best_error_live({"none": []}) is None
    assert validate.best_error_live({"none": found(-0.002), "oof": found(0.001)}) == "oof"
    assert validate.best_error_live({"none": found(0.001, 0.7), "oof": found(-0.001, 0.9)}) == "oof"


def test_fit_chooses_by_held_out_live_searches_where_there_are_some(tmp_path: Path) -> None:
    """(Without held-out runs, ``best_error_live`` is None and the simulated searches choose, as every other fit
    in the tests does.)"""
    for r in synthetic_table(configs=12, seeds=2, replicated=4):
        table.append(tmp_path / "smoke", r)
    where = ["fit", "--budget", "smoke", "--models", "knn", "--table-dir", str(tmp_path)]
    held = tmp_path / "live" / "mnist-mlp" / "holdout" / "smoke"
    held.mkdir(parents=True)
    write_runs(held / RUNS_FILE, _runs(synthetic_table(configs=40, seeds=1, replicated=0, noise=0.01)[8:]))
    assert main([*where, "--live-dir", str(tmp_path / "live")]) == 0
    fitted = json.loads((tmp_path / "smoke" / "surrogate.json").read_text())
    assert fitted["error_chosen_by"] == "held-out live searches"
    biases = {e: abs(found[0]["bias"]) for e, found in fitted["live_searches"].items()}
    assert set(biases) == set(fitted["searches"]) and biases[fitted["error"]] == min(biases.values())
    assert "## Model error, by held-out live searches" in (tmp_path / "smoke" / "SURROGATE.md").read_text()
