"""Hyperband: Keras Tuner's Hyperband, its parameters derived from the epoch budget.

Keras Tuner's Hyperband takes no ``max_trials``; what it spends is set by
``max_epochs``, ``factor`` and ``hyperband_iterations``.  We fix
``max_epochs`` to the budget's epochs per trial (the same top fidelity as the
other strategies) and pick, among the plans that fit the epoch budget, the
one with the most brackets (the most successive halving), then the most
epochs used, then the smallest factor.  ``plan`` computes Keras Tuner's own
bracket arithmetic in closed form; a test checks it against the oracle.

  smoke    (2 epochs, budget 6):   factor 3, 1 iteration,  4 epochs (1 bracket: too small to halve)
  standard (3 epochs, budget 24):  factor 3, 2 iterations, 22 epochs
  paper    (10 epochs, budget 100): factor 10, 2 iterations, 78 epochs
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import keras_tuner as kt

from tuning.core.budget import Budget
from tuning.core.space import SearchSpace
from tuning.strategies.base import Strategy
from tuning.strategies.keras_tuner_space import oracle_args


@dataclass(frozen=True)
class Plan:
    max_epochs: int
    factor: int
    iterations: int
    brackets: int
    epochs_per_iteration: int
    trials_per_iteration: int

    @property
    def epochs(self) -> int:
        return self.iterations * self.epochs_per_iteration


def schedule(max_epochs: int, factor: int) -> tuple[int, int, int]:
    """(brackets, epochs trained, trials) of one Hyperband iteration, as Keras Tuner 1.4 runs it."""
    brackets, e = 0, float(max_epochs)
    while e >= 1:
        e /= factor
        brackets += 1
    end_size = math.ceil(1 + math.log(max_epochs, factor))

    def size(s: int, r: int) -> int:
        return math.ceil(end_size / (s + 1) * factor ** (s - r))

    def target(s: int, r: int) -> int:
        return math.ceil(max_epochs / factor ** (s - r))

    epochs = trials = 0
    for s in range(brackets - 1, -1, -1):
        for r in range(s + 1):
            trained = target(s, r) - (target(s, r - 1) if r else 0)
            epochs += size(s, r) * trained
            trials += size(s, r)
    return brackets, epochs, trials


def plan(budget: Budget) -> Plan:
    candidates = []
    for factor in range(2, max(3, budget.epochs) + 1):
        brackets, per_iteration, trials = schedule(budget.epochs, factor)
        iterations = budget.epoch_budget // per_iteration
        if iterations >= 1:
            candidates.append(Plan(budget.epochs, factor, iterations, brackets, per_iteration, trials))
    if not candidates:
        raise ValueError(f"budget {budget.name}: not even one Hyperband bracket fits {budget.epoch_budget} epochs")
    return max(candidates, key=lambda p: (p.brackets, p.epochs, -p.factor))


def settings(space: SearchSpace, budget: Budget) -> dict[str, Any]:
    p = plan(budget)
    return {**asdict(p), "planned_epochs": p.epochs}


def make_oracle(space: SearchSpace, budget: Budget, seed: int) -> kt.Oracle:
    p = plan(budget)
    return kt.oracles.HyperbandOracle(
        max_epochs=p.max_epochs,
        factor=p.factor,
        hyperband_iterations=p.iterations,
        **oracle_args(space, seed),
    )


STRATEGY = Strategy(
    name="hyperband",
    summary="Keras Tuner Hyperband: successive halving over epochs, sized to the epoch budget",
    make_oracle=make_oracle,
    settings=settings,
)
