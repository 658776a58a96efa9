"""Hypergradient: random search's configurations, with the learning rate then learned while training.

The only gradient-based technique in the comparison.  Layers, units,
optimizer and the *initial* learning rate come from Keras Tuner's
RandomSearchOracle with the same seed as ``random``, so for a given seed
both strategies train the same architectures from the same starting
learning rates: any difference in their results is the hypergradient's.
Each trial then trains with the hypergradient-descent variant of its
optimizer (SGD-HD, Adam-HD, RMSprop-HD), which only an objective that really
trains can offer: the strategy names the ``hypergradient`` training variant
(``tuning.objectives.live.variants``), and each trial records the learning
rate it started from, the one it ended with and the value after every epoch.

β (the learning rate's learning rate) is the paper's for MNIST: 1e-3 for
SGD-HD, 1e-7 for Adam-HD, and 1e-7 for RMSprop-HD by the same scale argument
as Adam's; ``tuning.objectives.live.hypergradient_optimizers`` says why.
"""

from __future__ import annotations

from typing import Any

from tuning.core.budget import Budget
from tuning.core.space import SearchSpace
from tuning.strategies import random_search
from tuning.strategies.base import Strategy


def settings(space: SearchSpace, budget: Budget) -> dict[str, Any]:
    return {
        **random_search.settings(space, budget),
        "proposals": "random (RandomSearchOracle, same seed as 'random')",
    }


STRATEGY = Strategy(
    name="hypergradient",
    summary="random search's configurations; the learning rate then learned by hypergradient descent (Baydin et al. 2018)",
    make_oracle=random_search.make_oracle,
    training="hypergradient",
    settings=settings,
)
