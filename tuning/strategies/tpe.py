"""TPE: Optuna's Tree-structured Parzen Estimator as a Keras Tuner Oracle (ask/tell).

The oracle is ``tuning.strategies.optuna_oracle.OptunaOracle`` (the space's
translation, seeds, telling, resuming); this module only chooses the sampler.

* ``n_startup_trials`` is bayesian.py's ``initial_points`` (a third of the
  trials, at least 2: smoke 2, standard 3, paper 4), the same random phase as
  the Gaussian process gets.  Optuna's default of 10 would make every budget
  we run (3, 8, 10 trials) pure random search.
* ``multivariate=True`` is Optuna's default for one objective since 5.0,
  passed explicitly so older Optuna versions sample the same way.  The
  conditional widths outside the always-present parameters are sampled by
  univariate TPE, as Optuna does for a dynamic space.
* Seeds: trial k is asked with ``TPESampler(seed=trial_seed(seed, k))``.

Optuna is optional (``pip install .[optuna]``): it is imported only when an
oracle is made, so the strategy lists, as unavailable, without it.
"""

from __future__ import annotations

from typing import Any

from tuning.core.budget import Budget
from tuning.core.space import SearchSpace
from tuning.strategies.base import Strategy
from tuning.strategies.bayesian import initial_points
from tuning.strategies.optuna_oracle import (
    INSTALL_HINT,
    SAMPLER_SEED,
    OptunaOracle,
    distribution,
    optuna_module,
    optuna_oracle,
)

__all__ = ["INSTALL_HINT", "STRATEGY", "TPEOracle", "distribution", "make_oracle", "settings", "tpe_oracle"]


class TPEOracle(OptunaOracle):
    """The Optuna oracle with ``TPESampler``; its state keeps the key and settings it always had."""

    STATE_KEY = "tpe"

    def __init__(self, *args: Any, n_startup_trials: int = 10, **kwargs: Any) -> None:
        self.n_startup_trials = int(n_startup_trials)
        kwargs.setdefault("make_sampler", self.tpe_sampler)
        kwargs.setdefault("options", {"n_startup_trials": self.n_startup_trials})
        super().__init__(*args, **kwargs)

    def tpe_sampler(self, run_seed: int, seed: int) -> Any:
        return optuna_module("tpe").samplers.TPESampler(
            seed=seed, n_startup_trials=self.n_startup_trials, multivariate=True
        )

    def restore_options(self, saved: dict[str, Any]) -> None:
        self.n_startup_trials = saved["n_startup_trials"]
        self.options = {"n_startup_trials": self.n_startup_trials}


def tpe_sampler_settings(budget: Budget) -> dict[str, Any]:
    return {
        "sampler": "optuna.samplers.TPESampler",
        "n_startup_trials": initial_points(budget),
        "multivariate": True,
        "sampler_seed": SAMPLER_SEED,
    }


def settings(space: SearchSpace, budget: Budget) -> dict[str, Any]:
    return {"max_trials": budget.trials, **tpe_sampler_settings(budget)}


def tpe_oracle(space: SearchSpace, seed: int, max_trials: int, n_startup_trials: int, **kwargs: Any) -> TPEOracle:
    """A TPE oracle given what every oracle here is given (``oracle_args``); ``kwargs`` go to the oracle
    (a pruner and the last epoch, for the multi-fidelity strategies)."""
    optuna_module("tpe")  # the install hint names this strategy
    return optuna_oracle(space, seed, max_trials, TPEOracle, n_startup_trials=n_startup_trials, **kwargs)


def make_oracle(space: SearchSpace, budget: Budget, seed: int) -> TPEOracle:
    return tpe_oracle(space, seed, budget.trials, initial_points(budget))


STRATEGY = Strategy(
    name="tpe",
    summary="Optuna's TPESampler (multivariate) as a Keras Tuner oracle, a third of trials random first",
    make_oracle=make_oracle,
    requires=("optuna",),
    install_hint=INSTALL_HINT,
    settings=settings,
)
