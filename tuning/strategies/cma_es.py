"""CMA-ES: Optuna's ``CmaEsSampler`` (the ``cmaes`` library's CMA-ES) as a Keras Tuner oracle.

* Optuna's relative space for CMA-ES is the intersection of the completed
  trials' parameters, ints and floats only.  CMA-ES keeps one optimizer of
  fixed dimension: asked only for active widths, the space shrinks as soon as
  a trial has fewer layers than the first, and Optuna then falls back to
  random sampling for the rest of the run.  So the oracle asks for every width
  on every trial (``fixed_space``), and Keras Tuner trains only the active
  ones: CMA-ES searches ``num_layers``, ``units_0..4`` and the learning rate
  (log-scaled by Optuna's transform), a width being ignored where its layer
  does not exist.  The categorical optimizer is not in the space (Optuna's
  CMA-ES takes ints and floats): the sampler's ``independent_sampler``,
  ``RandomSampler`` (its default, passed seeded), draws it.
* ``popsize`` is 4: Optuna's default, 4 + floor(3 ln 3) = 7, would leave the
  standard budget's 8 trials (one startup trial, then 7) a single generation,
  so the distribution would never be updated.  4 is the smallest population
  whose rank-mu update is defined (mu = popsize // 2 >= 2; at mu = 1 the
  ``cmaes`` library divides by a zero learning rate): at standard, trials 2-5
  are the first generation and 6-8 come from the updated mean; at paper,
  two updates.
"""

from __future__ import annotations

from typing import Any

from tuning.core.budget import Budget
from tuning.core.space import SearchSpace
from tuning.strategies.base import Strategy
from tuning.strategies.optuna_oracle import SAMPLER_SEED, OptunaOracle, optuna_module, optuna_oracle, random_sampler

INSTALL_HINT = "pip install .[optuna,cmaes]"
STARTUP = 1  # Optuna's default n_startup_trials for CMA-ES


POPSIZE = 4


def popsize(budget: Budget) -> int:
    return POPSIZE


def settings(space: SearchSpace, budget: Budget) -> dict[str, Any]:
    return {
        "max_trials": budget.trials,
        "sampler": "optuna.samplers.CmaEsSampler",
        "popsize": popsize(budget),
        "n_startup_trials": STARTUP,
        "relative_space": "num_layers, every units_i (asked on every trial, trained where active), learning_rate",
        "independent_sampler": "optuna.samplers.RandomSampler (the optimizer: categorical)",
        "sampler_seed": SAMPLER_SEED,
    }


def make_oracle(space: SearchSpace, budget: Budget, seed: int, **kwargs: Any) -> OptunaOracle:
    samplers = optuna_module("cmaes", INSTALL_HINT).samplers
    size = popsize(budget)

    def sampler(run_seed: int, trial_seed: int) -> Any:
        return samplers.CmaEsSampler(
            seed=trial_seed,
            popsize=size,
            n_startup_trials=STARTUP,
            independent_sampler=random_sampler(trial_seed),
            warn_independent_sampling=False,
        )

    options = {"popsize": size, "fixed_space": True}
    return optuna_oracle(space, seed, budget.trials, make_sampler=sampler, options=options, fixed_space=True, **kwargs)


STRATEGY = Strategy(
    name="cmaes",
    summary="Optuna's CmaEsSampler: CMA-ES over depth, widths and learning rate (population 4), the optimizer random",
    make_oracle=make_oracle,
    requires=("optuna", "cmaes"),
    install_hint=INSTALL_HINT,
    settings=settings,
)
