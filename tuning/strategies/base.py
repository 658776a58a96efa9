"""The small interface every strategy implements, after Optuna's ``samplers/``.

A strategy decides what to try: it is an Oracle factory (Keras Tuner's job
split) plus what it needs of an objective.  How a configuration is trained is
the objective's business; a strategy that changes training (hypergradient
descent learns the learning rate while training) names the training variant
it needs, and the run refuses an objective that does not offer it.  A
strategy is one module exposing ``STRATEGY`` and one entry in
``tuning.strategies.REGISTRY`` (or, from an outside package, an entry point
in the group ``tuning.strategies``).  A strategy that cannot search some
spaces (the grid needs a finite one) says why in ``cannot_search``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tuning.core.budget import Budget
from tuning.core.space import SearchSpace

OracleFactory = Callable[[Any, Budget, int], Any]  # (space, budget, seed) -> keras_tuner.Oracle


def no_settings(space: Any, budget: Budget) -> dict[str, Any]:
    return {}


def any_space(space: SearchSpace) -> str | None:
    return None


@dataclass(frozen=True)
class Strategy:
    name: str
    summary: str
    make_oracle: OracleFactory
    stochastic: bool = True  # different seeds give different proposals
    requires: tuple[str, ...] = ()  # modules that must import for it to run
    install_hint: str = ""
    training: str | None = None  # a training variant the objective must offer (None: plain training)
    settings: Callable[[Any, Budget], dict[str, Any]] = no_settings  # the oracle's parameters, for provenance
    searches: Callable[[SearchSpace], str | None] = any_space  # why it cannot search a space, or None

    @property
    def needs(self) -> frozenset[str]:
        """The objective capabilities this strategy needs (see ``tuning.objectives.base``)."""
        return frozenset({f"training:{self.training}"} if self.training else ())

    def missing(self) -> list[str]:
        return [m for m in self.requires if importlib.util.find_spec(m) is None]

    def available(self) -> bool:
        return not self.missing()

    def cannot_search(self, space: SearchSpace) -> str | None:
        """Why this strategy cannot search ``space`` (one line), or None when it can."""
        return self.searches(space)
