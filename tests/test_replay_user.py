"""A user's own model replayed: recorded with real training, fitted, replayed through the one run path; refused
without a table; and the surrogate's generic encoding of a space it knows nothing about."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras_tuner as kt
import numpy as np
import pytest

from tuning import problems
from tuning.cli import main
from tuning.core.records import RunResult
from tuning.objectives.replay import surrogate as surrogate_module
from tuning.objectives.replay import table
from tuning.objectives.replay.surrogate import features
from tuning.problems.keras_space import KerasTunerSpace
from tuning.problems.mnist_mlp import SPACE
from tuning.results import RUNS_FILE, read_runs

from test_problems import USER_MODULE, run_cli, write_module

RECORD = ["--budget", "smoke", "--configs", "6", "--seeds", "2"]  # 6 Sobol points, the first 2 with seeds 0 and 1


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(the user's module, its smoke table's root, an empty live folder): recorded and fitted through the commands."""
    root = tmp_path_factory.mktemp("user")
    module = write_module(root, USER_MODULE.format(extra="NAME = 'toy'"))
    tables, no_live = root / "tables", root / "no-live-runs"
    where = ["--problem", str(module), "--table-dir", str(tables), "--live-dir", str(no_live)]
    assert main(["record", *RECORD, "--workers", "2", *where]) == 0  # trained on two Dask workers
    assert main(["fit", "--budget", "smoke", "--models", "knn", *where]) == 0
    return module, tables, no_live


@pytest.mark.backend
@pytest.mark.training
def test_a_users_model_is_recorded_as_the_live_trials_it_names(
    recorded: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    module, tables, no_live = recorded
    problem = problems.get(str(module))
    smoke = problem.budget("smoke")
    lines = table.read_table(tables / "smoke", smoke, problem.space)
    assert len(lines) == 8 and (tables / "smoke" / table.SEALED).exists()  # 6 points + 2 of them again
    assert {r.seed for r in lines} == {0, 1} and all(r.sources == ["sobol"] for r in lines)
    assert all(len(r.epochs) == smoke.epochs and r.epochs[-1]["val_loss"] is not None for r in lines)

    # A line is the live trial it names, trained in a worker process: the same numbers when trained again here.
    line = lines[0]
    objective = problem.live(smoke, line.seed)
    trial = objective.evaluate(line.trial_id, line.hyperparameters, smoke.epochs, 0, None)
    assert trial.val_accuracy == list(line.column("val_accuracy"))
    assert objective.test(line.trial_id, line.hyperparameters)[1] == line.column("test_accuracy")[-1]

    capsys.readouterr()
    where = ["--problem", str(module), "--table-dir", str(tables), "--live-dir", str(no_live)]
    assert main(["record", *RECORD, *where]) == 0  # resumable: nothing left to record
    assert "recorded 0 " in capsys.readouterr().err
    assert json.loads((tables / "smoke" / "surrogate.json").read_text())["model"] == "knn"
    # Its error tail is explained in the problem's own words (none given: the generic ones), never the seed's.
    report = (tables / "smoke" / "SURROGATE.md").read_text()
    assert problem.steep is None and "plain SGD" not in report
    assert "whose few epochs end far apart" in report and problems.get("mnist-mlp").steep.startswith("plain SGD")


@pytest.mark.backend
@pytest.mark.training
def test_a_users_model_replays_two_strategies_as_a_function_of_the_seed(
    recorded: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module, tables, _ = recorded
    argv = ["replay", "--problem", str(module), "--budget", "smoke", "--seeds", "0-2", "--strategies", "random,tpe"]
    argv += ["--table-dir", str(tables), "--results-dir", str(tmp_path), "--quiet"]
    runs = tmp_path / "toy" / "replay" / "smoke" / RUNS_FILE

    def replayed() -> dict[str, dict[str, Any]]:
        assert main(argv) == 0, capsys.readouterr().err
        return {f"{r.strategy}-seed{r.seed}": r.to_json() for r in read_runs(runs)}

    first, again = replayed(), replayed()
    assert sorted(first) == [f"{s}-seed{n}" for s in ("random", "tpe") for n in range(3)]
    for name, doc in first.items():
        assert doc["problem"] == "toy" and doc["mode"] == "replay" and doc["split"]["dataset"] == "toy, replayed"
        assert doc["replay"]["table_summary"]["recordings"] == 8
        assert [(t["hyperparameters"], t["val_accuracy"], t["seconds"]) for t in doc["trials"]] == [
            (t["hyperparameters"], t["val_accuracy"], t["seconds"]) for t in again[name]["trials"]
        ]
        assert doc["best"] == again[name]["best"]
    assert first["random-seed0"]["trials"] != first["random-seed1"]["trials"]  # the seed matters
    assert "# Replay of the smoke budget" in (runs.parent / "REPLAY.md").read_text()


@pytest.mark.backend
@pytest.mark.training
def test_a_users_replay_is_a_run_of_the_engine_and_of_the_benchs_replay_mode(
    recorded: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    from tuning.execution.engine import RunSpec, make_engine

    module, tables, _ = recorded
    spec = RunSpec("random", "smoke", 0, str(module), mode="replay", table_root=str(tables))
    engine = make_engine(tmp_path / "engine", write=False)
    try:
        result = engine.outcome(spec).result
    finally:
        engine.close()
    assert result.problem == "toy" and result.mode == "replay"

    done = subprocess.run(
        [sys.executable, "-m", "pytest", "benchmarks", "-p", "no:cacheprovider", "--mode", "replay"]
        + ["--problem", str(module), "--budget", "smoke", "--seeds", "0", "--strategies", "random,hypergradient"]
        + ["--table-dir", str(tables), "--results-dir", str(tmp_path / "bench"), "-k", "test_search", "-rs"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "1 passed, 1 skipped" in done.stdout, done.stdout[-3000:]
    bench = RunResult.from_json(
        json.loads((tmp_path / "bench" / "toy" / "replay" / "smoke" / "random-seed0.json").read_text())
    )
    assert [(t.hyperparameters, t.val_accuracy) for t in bench.trials] == [
        (t.hyperparameters, t.val_accuracy) for t in result.trials
    ]


@pytest.mark.backend  # builds the user's model to find its space
def test_replaying_a_users_model_without_a_table_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = write_module(tmp_path, USER_MODULE.format(extra="NAME = 'toy'"))
    empty, results = tmp_path / "no-tables", tmp_path / "results"
    for argv in (
        ["replay", "--seeds", "0-2", "--strategies", "random,tpe", "--results-dir", str(results)],
        ["fit", "--live-dir", str(tmp_path / "no-live-runs")],
        ["agreement", "--results-dir", str(results)],
    ):
        code, _, err = run_cli(
            [*argv, "--problem", str(module), "--budget", "smoke", "--table-dir", str(empty)], capsys
        )
        lines = [line for line in err.splitlines() if line.strip()]
        assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
        if argv[0] == "agreement":
            assert f"tuning replay --problem {module} --budget smoke --seeds 0-199" in err
        else:
            assert (
                f"no replay table in {empty / 'smoke'}; record one with: tuning record --problem {module.resolve()}"
                in err
            )
    assert not empty.exists() and not results.exists()  # nothing written


# -- the generic encoding -----------------------------------------------------------------


def conditional_space() -> KerasTunerSpace:
    """A mixed, conditional space: a choice that switches a log-sampled float and an int on, and a boolean."""
    hp = kt.HyperParameters()
    hp.Choice("kind", ["plain", "tuned"])
    with hp.conditional_scope("kind", ["tuned"]):
        hp.Float("rate", 1e-4, 1e-1, sampling="log")
        hp.Int("size", 1, 9)
    hp.Boolean("shuffle")
    return KerasTunerSpace(hp)


def check_encoding(encode: Callable[[list[dict[str, Any]], Any], np.ndarray]) -> None:
    """What the generic encoding must do: log-scaled numbers, one-hot choices, booleans as 0/1, an inactive
    hyperparameter as 0 with its indicator off (columns: kind one-hot, rate, on?, size, on?, shuffle)."""
    space = conditional_space()
    configs: list[dict[str, Any]] = [
        {"kind": "plain", "shuffle": False},
        {"kind": "tuned", "rate": 1e-4, "size": 1, "shuffle": True},
        {"kind": "tuned", "rate": 10**-2.5, "size": 5, "shuffle": False},
        {"kind": "tuned", "rate": 1e-1, "size": 9, "shuffle": True},
    ]
    x = encode([space.validate(c) for c in configs], space)
    assert x.shape == (4, 7), x.shape
    np.testing.assert_allclose(x[0], [1, 0, 0, 0, 0, 0, 0])  # inactive: 0 and the indicator off
    np.testing.assert_allclose(x[1:, :2], [[0, 1]] * 3)  # a choice is one-hot, not a magnitude
    np.testing.assert_allclose(x[1:, 2], [0.0, 0.5, 1.0], atol=1e-12)  # a decade counts alike: log-scaled
    np.testing.assert_allclose(x[1:, [3, 5]], [[1, 1]] * 3)  # active: the indicators on
    np.testing.assert_allclose(x[1:, 4], [0.0, 0.5, 1.0])  # an int on its range
    np.testing.assert_allclose(x[:, 6], [0, 1, 0, 1])  # a boolean as 0/1


def test_the_generic_encoding_scales_one_hots_and_marks_inactive_hyperparameters() -> None:
    check_encoding(features)


def test_a_broken_generic_encoding_fails_its_check(monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as m:  # the log scale forgotten
        m.setattr(surrogate_module, "_log_sampled", lambda space: set())
        with pytest.raises(AssertionError):
            check_encoding(features)
    with monkeypatch.context() as m:  # every hyperparameter taken as always active: no indicators
        m.setattr(surrogate_module, "_conditional", lambda space: set())
        with pytest.raises(AssertionError):
            check_encoding(features)

    def collapsed(configs: list[dict[str, Any]], space: Any) -> np.ndarray:
        """Categoricals as their option's index (a magnitude they do not have), the rest as it should be."""
        x = features(configs, space)
        return np.column_stack([x[:, 1], np.zeros(len(x)), x[:, 2:]])

    with pytest.raises(AssertionError):
        check_encoding(collapsed)


def test_the_seed_space_keeps_its_architecture_features() -> None:
    """The seed problem's surrogate is unchanged: depth, widths, log10 learning rate, optimizer, log10 parameters."""
    config = {"num_layers": 2, "units_0": 32, "units_1": 64, "optimizer": "sgd", "learning_rate": 1e-3}
    parameters = 784 * 32 + 32 + 32 * 64 + 64 + 64 * 10 + 10
    expected = [2, 32, 64, 0, 0, 0, -3.0, 0, 1, 0, np.log10(parameters)]
    np.testing.assert_array_equal(features([config], SPACE)[0], expected)
