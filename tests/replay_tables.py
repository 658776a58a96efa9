"""Replay tables for tests: recordings of a known function of the configuration, with known seed noise.

Accuracy follows ``SyntheticObjective`` (so the best configurations are
known), plus a seed's noise of standard deviation ``noise``; seconds follow
the parameter count.  No training: the surrogate, its validation and the
replay objective can be tested in milliseconds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from tuning.core.budget import Budget
from tuning.core.space import Config
from tuning.execution.record import sobol_configs
from tuning.objectives.replay.table import Recording
from tuning.objectives.synthetic import SyntheticObjective
from tuning.problems.mnist_mlp import BUDGETS, SPACE


def recording(
    config: Config, seed: int, budget: Budget, noise: float = 0.005, accuracy_shift: float = 0.0
) -> Recording:
    """One (configuration, seed) line; the same arguments give the same line."""
    key = SPACE.key(config)
    rng = np.random.default_rng([seed, int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "little")])
    truth = SyntheticObjective(SPACE)
    offset = float(rng.normal(0.0, noise))
    per_param = 1e-6 * SPACE.parameter_count(config)
    epochs = []
    for e in range(1, budget.epochs + 1):
        val = min(1.0, max(0.0, truth.accuracy(config, e) + offset + accuracy_shift))
        epochs.append(
            {
                "epoch": e,
                "val_accuracy": val,
                "val_loss": 1.0 - val,
                "test_accuracy": min(1.0, max(0.0, val - 0.01)),
                "test_loss": 1.01 - val,
                "train_seconds": (2.0 if e == 1 else 1.0) * (0.1 + per_param) * float(rng.uniform(0.95, 1.05)),
                "validation_seconds": 0.01,
                "test_seconds": 0.02,
            }
        )
    seconds = 0.5 + sum(x["train_seconds"] + x["validation_seconds"] for x in epochs)
    return Recording(
        key, config, seed, "1", budget, epochs, seconds, ["sobol"], {"device": {"kind": "CPU", "name": "test"}}
    )


def synthetic_table(
    configs: int = 64,
    seeds: int = 3,
    replicated: int = 16,
    budget: Budget = BUDGETS["smoke"],
    extra: Sequence[Config] = (),
    noise: float = 0.005,
) -> list[Recording]:
    """``configs`` Sobol configurations (the first ``replicated`` with ``seeds`` seeds) plus ``extra`` ones
    with every seed."""
    chosen = [*extra, *sobol_configs(configs, SPACE)]
    many = len(extra) + replicated
    return [
        recording(config, seed, budget, noise)
        for i, config in enumerate(chosen)
        for seed in range(seeds if i < many else 1)
    ]
