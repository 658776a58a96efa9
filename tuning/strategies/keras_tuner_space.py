"""The one place the space becomes Keras Tuner: its hyperparameters, the objective, and oracle arguments.

Every oracle here is given the same things: the objective (validation
accuracy, maximised), the whole space up front with no new entries (so Keras
Tuner never invents or fills a hyperparameter) and the shifted seed.
"""

from __future__ import annotations

from typing import Any

import keras_tuner as kt

from tuning.core.seeds import oracle_seed
from tuning.core.space import Choice, Config, Float, Int, Param, SearchSpace, Space, grid_values

OBJECTIVE = kt.Objective("val_accuracy", direction="max")


def declare(space: Space, hp: kt.HyperParameters, *, grid: bool = False) -> Config:
    """Declare ``space`` on a ``keras_tuner.HyperParameters``; return the active values.

    With ``grid=True`` each hyperparameter is declared as an ordered ``Choice``
    over its grid values, so Keras Tuner's GridSearch walks exactly
    ``space.grid_points()`` in the same order.
    """

    def one(p: Param) -> Any:
        if grid:
            return hp.Choice(p.name, list(grid_values(p)), ordered=not isinstance(p, Choice))
        if isinstance(p, Int):
            return hp.Int(p.name, p.low, p.high, step=p.step)
        if isinstance(p, Float):
            return hp.Float(p.name, p.low, p.high, sampling="log" if p.log else "linear")
        return hp.Choice(p.name, list(p.options))

    depth, width = space.depth, space.width
    config: Config = {depth.name: one(depth)}
    depth_values = list(grid_values(depth) if grid else depth.values())
    for i in range(depth.high):
        # Entered for every layer some depth reaches: the width is declared (so
        # the oracle knows it) but only active, sampled and reported when depth > i.
        reaching = [d for d in depth_values if d > i]
        if not reaching:  # a depth grid short of depth.high: no deeper width can be active
            break
        with hp.conditional_scope(depth.name, reaching):
            value = one(Int(space.width_name(i), width.low, width.high, width.step, width.grid))
        if value is not None and i < config[depth.name]:
            config[space.width_name(i)] = value
    config[space.optimizer.name] = one(space.optimizer)
    config[space.learning_rate.name] = one(space.learning_rate)
    return config


def hyperparameters(space: SearchSpace, *, grid: bool = False) -> kt.HyperParameters:
    """A fresh ``keras_tuner.HyperParameters`` holding the whole space: the space's own declaration where it
    has one (a space discovered from a user's ``build_model``), else ``declare``'s."""
    own = getattr(space, "keras_tuner_hyperparameters", None)
    if own is not None:
        return own(grid=grid)
    assert isinstance(space, Space), f"{type(space).__name__} has no Keras Tuner declaration"
    hp = kt.HyperParameters()
    declare(space, hp, grid=grid)
    return hp


def oracle_args(space: SearchSpace, seed: int, *, grid: bool = False) -> dict[str, Any]:
    """What every Keras Tuner oracle here is given (the TPE oracle shifts the seed itself)."""
    return {
        "objective": OBJECTIVE,
        "hyperparameters": hyperparameters(space, grid=grid),
        "seed": oracle_seed(seed),
        "allow_new_entries": False,
        "tune_new_entries": False,
    }
