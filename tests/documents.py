"""Result documents for tests: minimal-but-valid files of the schema ``tuning run`` writes, numbers known in advance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tuning.core.records import SCHEMA_VERSION, RunResult
from tuning.problems.mnist_mlp import BUDGETS
from tuning.report.load import ResultFile


def result_document(
    strategy: str,
    seed: int,
    test_accuracy: float,
    *,
    budget: str = "smoke",
    scores: tuple[float | None, ...] = (0.80, 0.85, 0.83),
    device: str = "Test CPU",
    commit: str = "0123456789abcdef0123456789abcdef01234567",
    dirty: bool = False,
    numpy_version: str = "2.0.0",
    timings: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """A minimal result document of the schema ``tuning run`` writes; trials take 2 epochs and 1.5 s each,
    1.0 s of them training steps; ``timings`` adds each trial's (compile, validation) seconds."""
    trials = [
        {
            "trial_id": str(i),
            "hyperparameters": {"num_layers": 1, "units_0": 32, "optimizer": "adam", "learning_rate": 1e-3},
            "val_accuracy": [] if s is None else [s],
            "epochs": 2,
            "initial_epoch": 0,
            "resumed_from": None,
            "seconds": 1.5,
            "train_seconds": 1.0,
            "samples": 4000,
            "status": "FAILED" if s is None else "COMPLETED",
            "extra": {},
            "val_accuracy_final": s,
        }
        | ({} if timings is None else {"compile_seconds": timings[0], "validation_seconds": timings[1]})
        for i, s in enumerate(scores)
    ]
    best = max((t for t in trials if t["val_accuracy_final"] is not None), key=lambda t: t["val_accuracy_final"])
    return {
        "schema_version": SCHEMA_VERSION,
        "strategy": strategy,
        "seed": seed,
        "budget": BUDGETS[budget].to_json(),
        "strategy_settings": {},
        "split": {
            "dataset": "MNIST",
            "source": "synthetic",
            "train": "images 0..1",
            "validation": "images 2..3",
            "test": "all 10000 test images",
            "preprocessing": "float32 /255",
        },
        "trials": trials,
        "best": {
            "trial_id": best["trial_id"],
            "hyperparameters": best["hyperparameters"],
            "val_accuracy": best["val_accuracy_final"],
            "epochs": 2,
            "test_accuracy": test_accuracy,
            "test_loss": 0.3,
            "parameters": 25_450,
        },
        "wall_clock_seconds": 10.0 + seed,
        "epochs_trained": 2 * len(trials),
        "samples_trained": 4000 * len(trials),
        "train_seconds": 1.0 * len(trials),
        "throughput_samples_per_second": 4000.0,
        "environment": {
            "versions": {"python": "3.11.7", "numpy": numpy_version, "torch": None, "tuning": "0.1.0"},
            "device": {"kind": "CPU", "name": device, "count": 1},
            "threads": {"cpu_count": 2},
            "platform": "Linux-test",
            "git": {"commit": commit, "dirty": dirty},
            "created": f"2026-01-0{1 + seed % 9}T00:00:00+00:00",
        },
    }


def result_file(strategy: str, seed: int, test_accuracy: float, **kwargs: Any) -> ResultFile:
    """``result_document`` read as the report reads a file (in memory, no file written)."""
    document = result_document(strategy, seed, test_accuracy, **kwargs)
    return ResultFile(Path(f"{strategy}-seed{seed}.json"), RunResult.from_json(document))


TIMINGS = {
    "seconds",
    "train_seconds",
    "compile_seconds",
    "validation_seconds",
}  # what a trial record measures rather than computes


def outcome(result: dict[str, Any]) -> dict[str, Any]:
    """What a run computed, timings left out: two runs of one (strategy, budget, seed) on one machine
    agree on all of it, however often either was interrupted."""
    trials = [{k: v for k, v in t.items() if k not in TIMINGS} for t in result["trials"]]
    kept = ("strategy", "seed", "budget", "strategy_settings", "split", "best", "epochs_trained", "samples_trained")
    return {"trials": trials, "skipped": result["trials_skipped_over_budget"], **{k: result[k] for k in kept}}
