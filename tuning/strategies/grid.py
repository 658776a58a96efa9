"""Grid search: Keras Tuner's GridSearch over the space's declared grid.

The grid's values and order are declared with the space (``Space.grid_points``):
odometer order with the learning rate fastest, then the optimizer, then the
widths, then depth.  The seed changes nothing: grid search is deterministic.
"""

from __future__ import annotations

from typing import Any

import keras_tuner as kt

from tuning.core.budget import Budget
from tuning.core.space import SearchSpace, SpaceError
from tuning.strategies.base import Strategy
from tuning.strategies.keras_tuner_space import oracle_args


def settings(space: SearchSpace, budget: Budget) -> dict[str, Any]:
    return {"max_trials": budget.trials, "grid_size": space.grid_size()}


def searches(space: SearchSpace) -> str | None:
    """A grid needs a finite set of values for every hyperparameter."""
    try:
        space.grid_size()
    except SpaceError as e:
        return f"no finite grid: {e}"
    return None


def make_oracle(space: SearchSpace, budget: Budget, seed: int) -> kt.Oracle:
    return kt.oracles.GridSearchOracle(
        max_trials=budget.trials,
        **oracle_args(space, seed, grid=True),
    )


STRATEGY = Strategy(
    name="grid",
    summary="Keras Tuner GridSearch over the declared grid, learning rate varying fastest",
    make_oracle=make_oracle,
    stochastic=False,
    settings=settings,
    searches=searches,
)
