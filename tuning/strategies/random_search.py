"""Random search: Keras Tuner's RandomSearch, the seed example's own strategy."""

from __future__ import annotations

from typing import Any

import keras_tuner as kt

from tuning.core.budget import Budget
from tuning.core.space import SearchSpace
from tuning.strategies.base import Strategy
from tuning.strategies.keras_tuner_space import oracle_args


def settings(space: SearchSpace, budget: Budget) -> dict[str, Any]:
    return {"max_trials": budget.trials}


def make_oracle(space: SearchSpace, budget: Budget, seed: int) -> kt.Oracle:
    return kt.oracles.RandomSearchOracle(
        max_trials=budget.trials,
        **oracle_args(space, seed),
    )


STRATEGY = Strategy(
    name="random",
    summary="Keras Tuner RandomSearch: independent draws from the space (the seed example)",
    make_oracle=make_oracle,
    settings=settings,
)
