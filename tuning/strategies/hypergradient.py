"""Hypergradient: random search's configurations, with the learning rate then learned while training.

The only gradient-based technique in the comparison.  Layers, units,
optimizer and the *initial* learning rate come from Keras Tuner's
RandomSearchOracle with the same seed as ``random``, so for a given seed
both strategies train the same architectures from the same starting
learning rates: any difference in their results is the hypergradient's.
Each trial then trains with the hypergradient-descent variant of its
optimizer (``tuning.hypergradient``: SGD-HD, Adam-HD, RMSprop-HD), and
records in its ``extra`` the learning rate it started from, the one it
ended with and the value after every epoch.

β (the learning rate's learning rate) is the paper's for MNIST: 1e-3 for
SGD-HD, 1e-7 for Adam-HD, and 1e-7 for RMSprop-HD by the same scale argument
as Adam's; ``tuning.hypergradient`` says why.
"""

from __future__ import annotations

from typing import Any

import keras

from tuning.budget import Budget
from tuning.hypergradient import VARIANTS, LearningRateTrajectory, hypergradient_optimizer
from tuning.space import Space
from tuning.strategies import random_search
from tuning.strategies.base import Strategy


def settings(space: Space, budget: Budget) -> dict[str, Any]:
    return {
        **random_search.settings(space, budget),
        "proposals": "random (RandomSearchOracle, same seed as 'random')",
        "hypergradient_lr": {name: VARIANTS[name].DEFAULT_BETA for name in space.optimizer.options},
    }


def callbacks() -> list[keras.callbacks.Callback]:
    return [LearningRateTrajectory()]


def describe(model: keras.Model, trial_callbacks: list[keras.callbacks.Callback]) -> dict[str, Any]:
    """The trial's learning-rate story, for ``TrialRecord.extra``."""
    trajectory = next(cb for cb in trial_callbacks if isinstance(cb, LearningRateTrajectory))
    optimizer = model.optimizer
    return {
        "optimizer_class": type(optimizer).__name__,
        "hypergradient_lr": optimizer.hypergradient_lr,
        "learning_rate_initial": trajectory.initial,
        "learning_rate_final": trajectory.per_epoch[-1] if trajectory.per_epoch else trajectory.initial,
        "learning_rate_per_epoch": list(trajectory.per_epoch),
    }


STRATEGY = Strategy(
    name="hypergradient",
    summary="random search's configurations; the learning rate then learned by hypergradient descent (Baydin et al. 2018)",
    make_oracle=random_search.make_oracle,
    optimizer=hypergradient_optimizer,
    callbacks=callbacks,
    describe=describe,
    settings=settings,
)
