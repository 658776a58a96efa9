"""Training variants: how a strategy may change training itself, offered by the live objective.

Hypergradient descent learns the learning rate while the model trains, so
the hypergradient strategy cannot be served by an objective that only looks
results up.  The strategy names the variant (``Strategy.training``); this
module says what the variant means for Keras training: its optimizer, its
callbacks, what each trial records, and its parameters for provenance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras

from tuning.core.space import Space
from tuning.objectives.live.hypergradient_optimizers import (
    VARIANTS as HD_OPTIMIZERS,
)
from tuning.objectives.live.hypergradient_optimizers import (
    LearningRateTrajectory,
    hypergradient_optimizer,
)
from tuning.objectives.live.model import OptimizerFactory

Callbacks = list[keras.callbacks.Callback]


@dataclass(frozen=True)
class TrainingVariant:
    name: str
    optimizer: OptimizerFactory  # (optimizer name, learning rate) -> keras optimizer
    callbacks: Callable[[], Callbacks]
    trial_extras: Callable[[keras.Model, Callbacks], dict[str, Any]]
    settings: Callable[[Space], dict[str, Any]]


def _hd_trial_extras(model: keras.Model, trial_callbacks: Callbacks) -> dict[str, Any]:
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


HYPERGRADIENT = TrainingVariant(
    name="hypergradient",
    optimizer=hypergradient_optimizer,
    callbacks=lambda: [LearningRateTrajectory()],
    trial_extras=_hd_trial_extras,
    settings=lambda space: {
        "hypergradient_lr": {name: HD_OPTIMIZERS[name].DEFAULT_BETA for name in space.optimizer.options}
    },
)

VARIANTS: dict[str, TrainingVariant] = {v.name: v for v in (HYPERGRADIENT,)}
