"""One benchmarked run per (strategy, seed): pytest-benchmark times it, extra_info says what it bought."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tuning.execution.runner import run_to_file
from tuning.results import read_result


def test_search(
    benchmark: pytest.FixtureRequest, strategy_name: str, seed: int, budget_name: str, results_dir: Path, selection: Any
) -> None:
    if selection.mode == "replay":
        from tuning.execution.replay import live_only, replay_to_file

        if strategy_name in live_only():
            pytest.skip(f"{strategy_name}: {live_only()[strategy_name]}")
        run, args = replay_to_file, (strategy_name, seed, budget_name, results_dir, selection.table_dir)
    else:
        run, args = run_to_file, (strategy_name, seed, budget_name, results_dir)
    path = benchmark.pedantic(run, args=args, rounds=1, iterations=1)
    result = read_result(path)
    best = result.best
    benchmark.extra_info.update(
        {
            "strategy": strategy_name,
            "seed": seed,
            "budget": budget_name,
            "mode": result.mode,
            "result_file": str(path),
            "test_accuracy": best.test_accuracy,
            "best_val_accuracy": best.val_accuracy,
            "hyperparameters": best.hyperparameters,
            "epochs_trained": result.epochs_trained,
            "epoch_budget": result.budget.epoch_budget,
            "throughput_samples_per_second": result.throughput_samples_per_second,
            "wall_clock_seconds": result.wall_clock_seconds,
            "device": result.environment["device"]["name"],
        }
    )
    assert result.epochs_trained <= result.budget.epoch_budget
