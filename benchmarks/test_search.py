"""One benchmarked run per (strategy, seed): pytest-benchmark records it, extra_info says what it bought.

The run itself, live or replayed, happens on the session's engine (this
process or a Dask worker); pytest-benchmark is given the run's own
wall-clock where it ran, not the time this test waited for it, through a
timer that replays it.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tuning.execution.engine import Engine, RunFailed, RunSpec

_replay: list[float] = []


def worker_clock() -> float:
    """pytest-benchmark's timer for runs: replays (start, end) of a duration measured on the worker."""
    return _replay.pop(0) if _replay else time.perf_counter()


@pytest.mark.benchmark(timer=worker_clock)
def test_search(benchmark: pytest.FixtureRequest, spec: RunSpec, done_file: Path | None, engine: Engine) -> None:
    if done_file is not None:
        pytest.skip(f"{done_file} is complete (--force reruns it)")
    try:
        outcome = engine.outcome(spec)
    except RunFailed as e:
        pytest.fail(str(e), pytrace=False)
    _replay[:] = [0.0, outcome.seconds]
    benchmark.pedantic(lambda: outcome, rounds=1, iterations=1)
    result, best = outcome.result, outcome.result.best
    benchmark.extra_info.update(
        {
            "strategy": spec.strategy,
            "seed": spec.seed,
            "budget": spec.budget,
            "mode": spec.mode,  # a replay's wall-clock is simulated; its task seconds are real
            "result_file": str(outcome.path),
            "test_accuracy": best.test_accuracy,
            "best_val_accuracy": best.val_accuracy,
            "hyperparameters": best.hyperparameters,
            "epochs_trained": result.epochs_trained,
            "epoch_budget": result.budget.epoch_budget,
            "throughput_samples_per_second": result.throughput_samples_per_second,
            "wall_clock_seconds": result.wall_clock_seconds,
            "task_seconds": outcome.seconds,
            "resumes": result.environment.get("resumes", 0),
            "host": outcome.host,
            "worker": outcome.worker,
            "device": outcome.device,
        }
    )
    assert result.epochs_trained <= result.budget.epoch_budget
    assert Path(outcome.path).is_file()
