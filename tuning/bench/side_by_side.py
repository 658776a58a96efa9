"""The side-by-side comparison: the suite's own run against the seed example's code path, same configurations.

``compare`` runs the suite's random strategy (its real run: search loop,
oracle, live objective), hands the configurations it trained to the
example's code path (``tuning.bench.example``, in its own process and
backend), and trains the same configurations once more with the suite's
objective under another seed, to know what "agree within seed noise" means:
the example's validation accuracies are compared with ours beside the
differences that only a new seed makes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tuning.bench.example import run_example_process
from tuning.core.budget import Budget
from tuning.execution.runner import execute
from tuning.objectives.live import live_objective
from tuning.problems.mnist_mlp import SPACE
from tuning.strategies import get

KIND = "side-by-side"
NOISE_SEED_OFFSET = 10_000  # the second, independent seed stream of the noise estimate


def _gaps(a: list[float], b: list[float]) -> dict[str, float]:
    d = np.abs(np.asarray(a) - np.asarray(b))
    return {"mean_abs": float(d.mean()), "median_abs": float(np.median(d)), "max_abs": float(d.max())}


def compare(budget: Budget, seed: int) -> dict[str, Any]:
    """Both code paths on the same configurations; wall-clocks, their ratio, and the validation accuracies."""
    ours = execute(get("random"), budget, seed)
    configs = [t.hyperparameters for t in ours.trials]
    ours_val = [t.score for t in ours.trials]
    theirs = run_example_process(configs, budget.name, seed)
    again = live_objective(budget, seed + NOISE_SEED_OFFSET, None, SPACE)
    reseeded = [again.evaluate(str(i), c, budget.epochs, 0, None).score for i, c in enumerate(configs)]
    return {
        "kind": KIND,
        "budget": budget.to_json(),
        "seed": seed,
        "configurations": configs,
        "ours": {
            "backend": ours.environment["versions"]["backend"],
            "wall_clock_seconds": ours.wall_clock_seconds,
            "train_seconds": ours.train_seconds,
            "val_accuracy_final": ours_val,
            "test_accuracy": ours.best.test_accuracy,
        },
        "example": theirs,
        "ratio": theirs["wall_clock_seconds"] / ours.wall_clock_seconds,
        "val_accuracy_gap_example_vs_ours": _gaps(theirs["val_accuracy_final"], ours_val),
        "val_accuracy_gap_reseeded_vs_ours": _gaps(reseeded, ours_val),
        "val_accuracy_reseeded": reseeded,
        "device": ours.environment["device"],
    }


def summary(doc: dict[str, Any]) -> list[str]:
    """The lines the bench prints."""
    ex, ours = doc["example"], doc["ours"]
    gap, noise = doc["val_accuracy_gap_example_vs_ours"], doc["val_accuracy_gap_reseeded_vs_ours"]
    return [
        f"budget {doc['budget']['name']}, seed {doc['seed']}, {len(doc['configurations'])} configurations, "
        f"on {doc['device']['kind']} {doc['device']['name']}",
        f"example's code path ({ex['backend']}): {ex['wall_clock_seconds']:.1f} s;  "
        f"the suite ({ours['backend']}): {ours['wall_clock_seconds']:.1f} s;  ratio {doc['ratio']:.2f}x",
        f"final validation accuracy, |example - ours|: mean {gap['mean_abs']:.4f}, max {gap['max_abs']:.4f};  "
        f"same configurations reseeded, |ours' - ours|: mean {noise['mean_abs']:.4f}, max {noise['max_abs']:.4f}",
    ]
