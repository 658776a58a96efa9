"""Work folders and checkpoints, without training: a search stopped anywhere continues to the same trials,
a folder from another run is refused in one line, weights are stored in a format that cannot run code.

The searches here use every strategy's real Keras Tuner oracle with the synthetic objective; the kill of
a real training process is ``test_resume.py``'s job.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keras_tuner as kt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tuning import strategies
from tuning.cli import main
from tuning.core.budget import Budget
from tuning.core.errors import UsageError
from tuning.core.records import TrialRecord
from tuning.core.space import Config
from tuning.execution.loop import SearchLoop, StateError
from tuning.execution.runner import run_fingerprint
from tuning.execution.workdir import WorkFolder, work_path
from tuning.objectives.live.weights import TrialWeights
from tuning.objectives.synthetic import SyntheticObjective
from tuning.problems.mnist_mlp import BUDGETS, PROBLEM, SPACE
from tuning.strategies.keras_tuner_space import oracle_args

from documents import result_document
from space_strategies import scaled_examples

NAMES = [n for n in strategies.names() if strategies.get(n).available()]
SMALL = Budget("small", n_train=1, n_val=1, epochs=3, trials=4, seeds=(0,))


class Killed(BaseException):
    """Stands for SIGKILL: not an ``Exception``, so Keras Tuner does not record it as a failed trial."""


class Objective(SyntheticObjective):
    """The synthetic objective; trials in ``failing`` raise (a failed trial), the ``kill_at``-th evaluation dies."""

    def __init__(self, failing: frozenset[str] = frozenset(), kill_at: int | None = None) -> None:
        super().__init__(SPACE)
        self.failing, self.kill_at, self.calls = failing, kill_at, 0

    def evaluate(self, trial_id: str, config: Config, *args: Any, **kwargs: Any) -> TrialRecord:
        self.calls += 1
        if self.calls == self.kill_at:
            raise Killed
        if trial_id in self.failing:
            raise ValueError(f"trial {trial_id} fails")
        return super().evaluate(trial_id, config, *args, **kwargs)


def loop(name: str, budget: Budget, seed: int, directory: Path, objective: Any, saved: list[Any]) -> SearchLoop:
    oracle = strategies.get(name).make_oracle(SPACE, budget, seed)
    keep = lambda state: saved.append(json.loads(json.dumps(state)))  # noqa: E731 - as it would read back from disk
    return SearchLoop(oracle, objective, SPACE, budget, str(directory), checkpoint=keep)


_WHOLE: dict[tuple[Any, ...], SearchLoop] = {}


def uninterrupted(
    name: str, budget: Budget, seed: int, failing: frozenset[str], factory: pytest.TempPathFactory
) -> SearchLoop:
    """The search run through without a kill, once per arguments (examples repeat them)."""
    key = (name, budget, seed, failing)
    if key not in _WHOLE:
        _WHOLE[key] = loop(name, budget, seed, factory.mktemp("whole"), Objective(failing), [])
        _WHOLE[key].search()
    return _WHOLE[key]


def trials(done: SearchLoop) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.to_json().items() if k not in ("seconds", "train_seconds")} for r in done.records]


@settings(max_examples=scaled_examples(0.4), deadline=None)  # a whole search or three per example
@given(
    name=st.sampled_from(NAMES),
    budget=st.sampled_from([BUDGETS["smoke"], SMALL]),
    seed=st.integers(0, 2),
    kill_at=st.integers(1, 12),
    failing=st.frozensets(st.sampled_from(["0", "2", "03"]), max_size=1),
    data=st.data(),
)
def test_a_search_killed_anywhere_continues_to_the_same_trials(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    budget: Budget,
    seed: int,
    kill_at: int,
    failing: frozenset[str],
    data: st.DataObject,
) -> None:
    root = tmp_path_factory.mktemp("search")
    whole = uninterrupted(name, budget, seed, failing, tmp_path_factory)

    saved: list[Any] = []
    first = loop(name, budget, seed, root / "killed", Objective(failing, kill_at), saved)
    try:
        first.search()
    except Killed:
        pass
    # Any checkpoint the run wrote may be the last one on disk (a kill can come right after any write).
    state = data.draw(st.sampled_from(saved)) if saved else None
    resumed = loop(name, budget, seed, root / "resumed", Objective(failing), [])
    if state is not None:
        resumed.restore(state)
    resumed.search()
    assert trials(resumed) == trials(whole)
    assert (resumed.epochs_used, resumed.skipped_over_budget) == (whole.epochs_used, whole.skipped_over_budget)
    best, best_whole = resumed.best(), whole.best()
    assert (best and best.trial_id) == (best_whole and best_whole.trial_id)
    assert sorted(resumed.state()["oracle"]["tried_so_far"]) == sorted(whole.state()["oracle"]["tried_so_far"])


def _settings_of(name: str, **change: Any) -> kt.Oracle:
    """``name``'s oracle for the smoke budget, seed 0, with one constructor argument changed."""
    args = oracle_args(SPACE, 0)
    if name == "hyperband":
        return kt.oracles.HyperbandOracle(**{"max_epochs": 2, "factor": 3, "hyperband_iterations": 1, **args, **change})
    return kt.oracles.RandomSearchOracle(**{"max_trials": 3, **args, **change})


@pytest.mark.parametrize(
    ("name", "change", "named"),
    [("hyperband", {"factor": 2}, "factor"), ("random", {"seed": 7}, "seed"), ("random", {"max_trials": 5}, None)],
)
def test_a_checkpoint_from_other_oracle_settings_is_refused(
    tmp_path: Path, name: str, change: dict[str, Any], named: str | None
) -> None:
    """Keras Tuner's ``set_state`` would silently adopt the saved factor, seed, ... over the constructor's."""
    saved: list[Any] = []
    loop(name, BUDGETS["smoke"], 0, tmp_path / "a", Objective(), saved).search()
    other = SearchLoop(_settings_of(name, **change), Objective(), SPACE, BUDGETS["smoke"], str(tmp_path / "b"))
    if named is None:  # max_trials is not part of a Keras Tuner state; the budget in run.json guards it
        other.restore(saved[-1])
        return
    with pytest.raises(StateError, match=named):
        other.restore(saved[-1])


# -- work folders ---------------------------------------------------------------------


def _fingerprint(name: str = "random", budget: str = "smoke", seed: int = 0) -> dict[str, Any]:
    return run_fingerprint(strategies.get(name), BUDGETS[budget], seed, PROBLEM)


def test_a_folder_left_by_another_run_is_refused_in_one_line_and_fresh_discards_it(tmp_path: Path) -> None:
    with WorkFolder.open(tmp_path / "w", _fingerprint(budget="standard")) as work:
        work.save({"format": 1})
    with pytest.raises(UsageError) as refused:
        WorkFolder.open(tmp_path / "w", _fingerprint())
    message = str(refused.value)
    assert "\n" not in message and "budget" in message and "--fresh" in message and str(tmp_path / "w") in message
    with WorkFolder.open(tmp_path / "w", _fingerprint(), fresh=True) as work:
        assert work.load() is None
        assert json.loads(work.manifest.read_text()) == _fingerprint()


def test_a_changed_library_or_harness_is_named(tmp_path: Path) -> None:
    current = _fingerprint()
    stale = {**current, "versions": {**current["versions"], "keras": "0.0"}, "code": "0" * 64}
    WorkFolder.open(tmp_path / "w", stale).close()
    with pytest.raises(UsageError, match=r"code, versions\.keras differ"):
        WorkFolder.open(tmp_path / "w", current)


def test_a_folder_in_use_is_refused(tmp_path: Path) -> None:
    with WorkFolder.open(tmp_path / "w", _fingerprint()):
        with pytest.raises(UsageError, match="in use by another process"):
            WorkFolder.open(tmp_path / "w", _fingerprint())
    WorkFolder.open(tmp_path / "w", _fingerprint()).close()  # released with its holder


def test_a_corrupt_checkpoint_is_refused(tmp_path: Path) -> None:
    with WorkFolder.open(tmp_path / "w", _fingerprint()) as work:
        work.checkpoint.write_text('{"format": 1, "orac')
        with pytest.raises(UsageError, match="not JSON.*--fresh"):
            work.load()


def test_cli_refuses_a_foreign_work_folder_before_training(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    WorkFolder.open(work_path(tmp_path, "mnist-mlp", "smoke", "random", 0), _fingerprint(seed=1)).close()
    args = ["run", "--strategy", "random", "--seed", "0", "--budget", "smoke", "--results-dir", str(tmp_path)]
    assert main(args) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("tuning")]
    assert len(lines) == 1 and "seed differ" in lines[0] and "--fresh" in lines[0], lines
    assert not (tmp_path / "mnist-mlp" / "smoke" / "random-seed0.json").exists()


def test_cli_skips_a_complete_result_and_removes_its_leftover_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mnist-mlp" / "smoke" / "random-seed0.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(result_document("random", 0, 0.9)))
    before = path.read_text()
    leftover = work_path(tmp_path, "mnist-mlp", "smoke", "random", 0)
    WorkFolder.open(leftover, _fingerprint()).close()  # a run killed after writing its file, before removing this
    args = ["run", "--strategy", "random", "--seed", "0", "--budget", "smoke", "--results-dir", str(tmp_path)]
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert out.strip() == str(path) and "not run again (--force reruns it)" in err
    assert path.read_text() == before and not leftover.exists() and not leftover.parent.exists()


# -- trial weights ---------------------------------------------------------------------


def test_weights_round_trip_through_the_folder(tmp_path: Path) -> None:
    weights = [np.arange(6, dtype=np.float32).reshape(2, 3), np.ones(3, dtype=np.float32)]
    TrialWeights(tmp_path).put("04", weights)
    again = TrialWeights(tmp_path).get("04")  # another process: nothing in memory
    assert [w.dtype for w in again] == [np.float32, np.float32]
    assert all(np.array_equal(a, b) for a, b in zip(again, weights))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["04.npz"]  # no temporary file left
    with pytest.raises(KeyError):
        TrialWeights(tmp_path).get("05")


def test_a_weights_file_holding_a_pickle_is_refused(tmp_path: Path) -> None:
    """A planted file with an object array (a pickle: code) is not loaded."""
    np.savez(tmp_path / "04.npz", np.array([{"x": 1}], dtype=object))
    with pytest.raises(ValueError, match="allow_pickle"):
        TrialWeights(tmp_path).get("04")
