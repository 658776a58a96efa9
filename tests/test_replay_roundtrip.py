"""Record -> fit -> replay on a handful of real smoke-budget trainings, through the commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuning.cli import main
from tuning.objectives.live import live_objective
from tuning.objectives.replay import table
from tuning.problems.mnist_mlp import BUDGETS, SPACE
from tuning.results import RUNS_FILE, read_runs

SMOKE = BUDGETS["smoke"]


@pytest.mark.training
def test_record_fit_replay_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tables, results = tmp_path / "tables", tmp_path / "results"
    record = [
        "record",
        "--budget",
        "smoke",
        "--configs",
        "2",
        "--seeds",
        "2",
        "--grid",
        "2",
        "--workers",
        "2",
        "--table-dir",
        str(tables),
        "--live-dir",
        str(tmp_path / "no-live-runs"),
    ]
    assert main(record) == 0
    lines = table.read_table(tables / "smoke", SMOKE, SPACE)
    # grid points 2 x 2 seeds, the first Sobol point (a quarter of 2, rounded up) x 2, the second x 1
    assert len(lines) == 7 and (tables / "smoke" / table.SEALED).exists()
    assert {r.seed for r in lines} == {0, 1}

    # Each line is the live trial it names, trained in a worker process: the same numbers here.
    for line in (lines[0], lines[-1]):
        objective = live_objective(SMOKE, line.seed, None, SPACE)
        trial = objective.evaluate(line.trial_id, line.hyperparameters, SMOKE.epochs, 0, None)
        assert trial.val_accuracy == list(line.column("val_accuracy"))
        assert objective.test(line.trial_id, line.hyperparameters)[1] == line.column("test_accuracy")[-1]
        assert 0 < line.seconds and all(e["train_seconds"] > 0 for e in line.epochs)

    capsys.readouterr()
    assert main(record) == 0  # resumable: nothing left to record
    assert "recorded 0 " in capsys.readouterr().err
    assert len(table.read_table(tables / "smoke", SMOKE, SPACE)) == 7

    assert (
        main(
            [
                "fit",
                "--budget",
                "smoke",
                "--models",
                "forest,knn",
                "--table-dir",
                str(tables),
                "--live-dir",
                str(tmp_path / "no-live-runs"),
            ]
        )
        == 0
    )
    assert (tables / "smoke" / "SURROGATE.md").exists()
    replay = [
        "replay",
        "--budget",
        "smoke",
        "--seeds",
        "0-2",
        "--strategies",
        "grid,random,hyperband",
        "--table-dir",
        str(tables),
        "--results-dir",
        str(results),
        "--quiet",
    ]
    assert main(replay) == 0
    runs = results / "mnist-mlp" / "replay" / "smoke" / RUNS_FILE
    first = {f"{r.strategy}-seed{r.seed}": r.to_json() for r in read_runs(runs)}
    assert len(first) == 9
    for doc in first.values():
        assert doc["mode"] == "replay" and doc["replay"]["table_summary"]["recordings"] == 7
        assert doc["epochs_trained"] <= SMOKE.epoch_budget
    grid = first["grid-seed0"]
    assert grid["replay"]["answers"]["recorded"] == 2  # the grid's first two points are in the table
    assert main(replay) == 0
    again = {f"{r.strategy}-seed{r.seed}": r.to_json() for r in read_runs(runs)}
    for name, doc in first.items():  # a replay is a function of its seed: everything but the measured clock
        assert [(t["hyperparameters"], t["val_accuracy"], t["seconds"]) for t in doc["trials"]] == [
            (t["hyperparameters"], t["val_accuracy"], t["seconds"]) for t in again[name]["trials"]
        ]
        assert doc["best"] == again[name]["best"]
    assert "# Replay of the smoke budget" in (results / "mnist-mlp" / "replay" / "smoke" / "REPLAY.md").read_text()
