"""The small interface every strategy implements, after Optuna's ``samplers/``.

A strategy is an Oracle factory (what to try, Keras Tuner's job split) plus,
optionally, how it changes training (its own optimizer and callbacks).  It
is one module exposing ``STRATEGY`` and one entry in ``tuning.strategies.REGISTRY``.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any, Callable

from tuning.budget import Budget
from tuning.space import Space

OracleFactory = Callable[[Space, Budget, int], Any]  # -> keras_tuner.Oracle


def oracle_seed(seed: int) -> int:
    """Keras Tuner replaces a falsy seed (0) with a random one; shift by one so seed 0 stays seed 0."""
    return seed + 1


def oracle_args(space: Space, seed: int, *, grid: bool = False) -> dict[str, Any]:
    """What every Keras Tuner oracle here is given: the objective, the whole space up front
    (no new entries, so Keras Tuner never invents or fills a hyperparameter) and the shifted seed."""
    from tuning.search import OBJECTIVE  # keras_tuner is heavy: only when an oracle is made

    return {
        "objective": OBJECTIVE,
        "hyperparameters": space.hyperparameters(grid=grid),
        "seed": oracle_seed(seed),
        "allow_new_entries": False,
        "tune_new_entries": False,
    }


def trial_seed(seed: int, trial_id: str) -> int:
    """A 31-bit seed for one trial of one run, independent across both (weights, shuffling, samplers)."""
    import numpy as np

    return int(np.random.SeedSequence([seed, int(trial_id)]).generate_state(1)[0] & 0x7FFFFFFF)


@dataclass(frozen=True)
class Strategy:
    name: str
    summary: str
    make_oracle: OracleFactory
    stochastic: bool = True  # different seeds give different proposals
    requires: tuple[str, ...] = ()  # modules that must import for it to run
    install_hint: str = ""
    optimizer: Callable[..., Any] | None = None  # (optimizer name, learning rate) -> keras optimizer
    callbacks: Callable[[], list[Any]] | None = None
    describe: Callable[..., dict[str, Any]] | None = None  # (model, callbacks) -> trial extras
    settings: Callable[[Space, Budget], dict[str, Any]] = lambda space, budget: {}  # the oracle's parameters, for provenance

    def missing(self) -> list[str]:
        return [m for m in self.requires if importlib.util.find_spec(m) is None]

    def available(self) -> bool:
        return not self.missing()
