"""Optuna's TPE as a Keras Tuner oracle: the space it asks, the seeds, what it is told, resuming, startup."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

optuna = pytest.importorskip("optuna")

import keras_tuner as kt  # noqa: E402
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution  # noqa: E402
from optuna.trial import TrialState  # noqa: E402

from tuning import cli, strategies  # noqa: E402
from tuning.core.budget import Budget  # noqa: E402
from tuning.core.errors import UsageError  # noqa: E402
from tuning.core.records import TrialRecord  # noqa: E402
from tuning.core.space import Config  # noqa: E402
from tuning.execution.loop import SearchLoop  # noqa: E402
from tuning.execution.runner import resolve  # noqa: E402
from tuning.objectives.synthetic import SyntheticObjective  # noqa: E402
from tuning.problems.mnist_mlp import BUDGETS, SPACE  # noqa: E402
from tuning.results import read_result  # noqa: E402
from tuning.strategies.bayesian import initial_points  # noqa: E402
from tuning.strategies.keras_tuner_space import hyperparameters  # noqa: E402
from tuning.strategies.tpe import INSTALL_HINT, TPEOracle, distribution, make_oracle, tpe_oracle  # noqa: E402

BUDGET = Budget("t", n_train=1, n_val=1, epochs=1, trials=10, seeds=(0,))


def search(oracle: TPEOracle, directory: Path, objective: Any = None, overwrite: bool = True) -> SearchLoop:
    return SearchLoop(
        oracle, objective or SyntheticObjective(SPACE), SPACE, BUDGET, str(directory), overwrite=overwrite
    )


def oracle(seed: int, n_startup_trials: int = initial_points(BUDGET), max_trials: int = BUDGET.trials) -> TPEOracle:
    return tpe_oracle(SPACE, seed, max_trials, n_startup_trials)


def proposals(done: SearchLoop) -> list[Config]:
    return [done.oracle.trials[i].hyperparameters.values for i in done.oracle.start_order]


def study_log(study: Any) -> list[tuple[int, str, dict[str, Any], float | None]]:
    return [(t.number, t.state.name, t.params, t.value) for t in study.trials]


# -- the space ----------------------------------------------------------------------------


def test_space_translates_to_optuna_distributions() -> None:
    got = {hp.name: distribution(hp) for hp in hyperparameters(SPACE).space}
    assert got["num_layers"] == IntDistribution(1, 5, step=1)
    for i in range(5):
        assert got[f"units_{i}"] == IntDistribution(32, 512, step=32)
    assert got["optimizer"] == CategoricalDistribution(["adam", "sgd", "rmsprop"])
    assert got["learning_rate"] == FloatDistribution(1e-4, 1e-2, log=True)


def test_other_keras_tuner_types_translate_or_refuse() -> None:
    hp = kt.HyperParameters()
    hp.Boolean("flag")
    hp.Int("log_int", 1, 1000, sampling="log")
    hp.Float("stepped", 0.0, 1.0, step=0.25)
    hp.Int("reverse", 1, 100, sampling="reverse_log")
    hp.Int("geometric", 1, 64, step=2, sampling="log")
    space = {p.name: p for p in hp.space}
    assert distribution(space["flag"]) == CategoricalDistribution([False, True])
    assert distribution(space["log_int"]) == IntDistribution(1, 1000, log=True)
    assert distribution(space["stepped"]) == FloatDistribution(0.0, 1.0, step=0.25)
    with pytest.raises(ValueError, match="reverse_log"):
        distribution(space["reverse"])
    with pytest.raises(ValueError, match="geometric"):
        distribution(space["geometric"])


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_proposals_lie_in_the_space_with_every_active_and_no_inactive_value(tmp_path: Path, seed: int) -> None:
    done = search(oracle(seed), tmp_path)
    done.search()
    assert len(done.records) == BUDGET.trials
    for values, trial in zip(proposals(done), done.oracle.study.trials):
        SPACE.validate(values)  # raises on an inactive width, a missing one or a value out of range
        # Every value came from Optuna: none was filled in by Keras Tuner's unseeded ensure_active_values().
        assert trial.params == values


def test_the_search_is_seeded(tmp_path: Path) -> None:
    runs = {}
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        done = search(oracle(seed), tmp_path / name)
        done.search()
        runs[name] = proposals(done)
    assert runs["a"] == runs["b"]
    assert runs["a"] != runs["c"]
    assert runs["a"][-1] != runs["c"][-1]  # not only the random start: the guided phase too


def test_scores_and_failures_are_told(tmp_path: Path) -> None:
    class FailsSometimes(SyntheticObjective):
        def evaluate(self, trial_id: str, config: Config, *args: Any) -> TrialRecord:
            if trial_id in ("1", "4"):
                raise RuntimeError("out of memory, say")
            return super().evaluate(trial_id, config, *args)

    done = search(oracle(0, max_trials=8), tmp_path, FailsSometimes(SPACE))
    records = {r.trial_id: r for r in done.search()}
    states = {t.number: t for t in done.oracle.study.trials}
    assert len(states) == 8
    for trial_id, record in records.items():
        told = states[int(trial_id)]
        if trial_id in ("1", "4"):
            assert record.status == "FAILED" and told.state == TrialState.FAIL and told.value is None
        else:
            assert record.status == "COMPLETED" and told.state == TrialState.COMPLETE
            assert told.value == record.score


def test_a_trial_the_budget_stops_is_told_failed(tmp_path: Path) -> None:
    """Search stops (never runs) the first trial that would overrun the epoch budget: TPE must not learn from it."""
    small = Budget("small", n_train=1, n_val=1, epochs=1, trials=3, seeds=(0,))
    done = SearchLoop(oracle(0), SyntheticObjective(SPACE), SPACE, small, str(tmp_path))
    done.search()
    assert done.skipped_over_budget == 1
    assert [t.state for t in done.oracle.study.trials] == [TrialState.COMPLETE] * 3 + [TrialState.FAIL]


class Crash(BaseException):
    """Not an Exception: Keras Tuner lets it through, like a killed process."""


class CrashesAt(SyntheticObjective):
    def __init__(self, trial_id: str) -> None:
        super().__init__(SPACE)
        self.at = trial_id

    def evaluate(self, trial_id: str, config: Config, *args: Any) -> TrialRecord:
        if trial_id == self.at:
            raise Crash
        return super().evaluate(trial_id, config, *args)


@pytest.mark.parametrize("interruption", ["killed mid-trial", "stopped between trials"])
def test_a_resumed_search_continues_the_same_study(tmp_path: Path, interruption: str) -> None:
    whole = search(oracle(3), tmp_path / "whole")
    whole.search()

    if interruption == "killed mid-trial":
        with pytest.raises(Crash):
            search(oracle(3), tmp_path / "resumed", CrashesAt("05")).search()
    else:
        search(oracle(3, max_trials=4), tmp_path / "resumed").search()
    resumed = search(oracle(3), tmp_path / "resumed", overwrite=False)  # Keras Tuner reloads the oracle
    first = len(resumed.oracle.trials)
    assert first in (4, 6)
    resumed.search()

    assert proposals(resumed) == proposals(whole)
    assert study_log(resumed.oracle.study) == study_log(whole.oracle.study)
    # The second part ran only what the first had not finished.
    assert [r.trial_id for r in resumed.records] == [f"{i:02d}" for i in range(4 if first == 4 else 5, BUDGET.trials)]


def test_the_resumed_state_is_the_saved_one(tmp_path: Path) -> None:
    """Seed and startup come back from the directory, as Keras Tuner's own seed does."""
    search(oracle(7, n_startup_trials=2, max_trials=3), tmp_path).search()
    again = search(oracle(99, n_startup_trials=5), tmp_path, overwrite=False)
    assert (again.oracle.sampler_seed, again.oracle.n_startup_trials) == (7, 2)
    assert len(again.oracle.study.trials) == 3


def test_startup_trials_are_random_then_tpe_takes_over(tmp_path: Path) -> None:
    k = 3
    tpe = search(oracle(0, n_startup_trials=k), tmp_path / "tpe")
    tpe.search()
    random_only = search(oracle(0, n_startup_trials=10**6), tmp_path / "random")
    random_only.search()
    ours, theirs = proposals(tpe), proposals(random_only)
    assert ours[:k] == theirs[:k]  # the same random draws while fewer than k trials are complete
    assert ours[k] != theirs[k]  # then the model proposes


def test_the_strategy_sets_startup_like_bayesian() -> None:
    for budget in BUDGETS.values():
        made = make_oracle(SPACE, budget, 0)
        assert made.n_startup_trials == initial_points(budget) < 10
        assert made.sampler(0)._n_startup_trials == initial_points(budget)
    assert [initial_points(b) for b in BUDGETS.values()] == [2, 3, 4]


# -- without Optuna ------------------------------------------------------------------------


def test_without_optuna_it_is_listed_unavailable_and_the_rest_works(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "optuna", None)  # import optuna now raises ImportError
    monkeypatch.delitem(sys.modules, "tuning.strategies.tpe")
    tpe = strategies.get("tpe")  # the module imports without Optuna
    assert not tpe.available() and tpe.missing() == ["optuna"]
    others = [s for s in strategies.all_strategies() if "optuna" not in s.requires]  # every module imported
    assert all(s.available() for s in others if not s.requires)  # Keras Tuner's own need nothing more
    assert all("optuna" not in s.missing() for s in others)  # SMAC's lack only SMAC, where it is missing

    assert cli.main(["strategies"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("tpe "))
    assert f"[unavailable: {INSTALL_HINT}]" in line

    with pytest.raises(UsageError, match=re.escape(INSTALL_HINT)):
        resolve("tpe", "smoke", 0)
    with pytest.raises(ImportError, match=re.escape(INSTALL_HINT)):
        tpe.make_oracle(SPACE, BUDGETS["smoke"], 0)
    for other in strategies.all_strategies():  # every Optuna strategy lists, unavailable, and says how to install
        if "optuna" in other.requires:
            assert "optuna" in other.missing() and other.install_hint
            with pytest.raises(ImportError, match=re.escape(other.install_hint)):
                other.make_oracle(SPACE, BUDGETS["smoke"], 0)


# -- the real thing, at the smoke budget -----------------------------------------------------


@pytest.mark.training
def test_smoke_run_writes_a_valid_reproducible_result(tmp_path: Path) -> None:
    results = []
    for name in ("a", "b"):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "tuning",
                "run",
                "--strategy",
                "tpe",
                "--budget",
                "smoke",
                "--seed",
                "0",
                "--results-dir",
                str(tmp_path / name),
                "--quiet",
            ],
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        results.append(read_result(Path(done.stdout.strip().splitlines()[-1])).to_json())
    first, second = results
    assert first["strategy"] == "tpe" and first["strategy_settings"]["n_startup_trials"] == 2
    assert len(first["trials"]) == 3
    for trial in first["trials"]:
        SPACE.validate(trial["hyperparameters"])
    assert [(t["hyperparameters"], t["val_accuracy"]) for t in first["trials"]] == [
        (t["hyperparameters"], t["val_accuracy"]) for t in second["trials"]
    ]
    assert first["best"] == second["best"]
