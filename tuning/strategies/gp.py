"""Gaussian-process BO: Optuna's ``GPSampler`` (its own GP, log EI, on PyTorch) as a Keras Tuner oracle.

``n_startup_trials`` is bayesian.py's ``initial_points``, as for TPE and Keras
Tuner's GP.  The categorical optimizer is in the GP's space (Optuna's GP has
a kernel for categoricals); conditional widths are drawn by the
``independent_sampler`` (``RandomSampler``, seeded like the trial).  PyTorch
is an optional extra (``[gp]``); docs/strategies.md states its weight.
"""

from __future__ import annotations

from typing import Any

from tuning.core.budget import Budget
from tuning.core.space import SearchSpace
from tuning.strategies.base import Strategy
from tuning.strategies.bayesian import initial_points
from tuning.strategies.optuna_oracle import SAMPLER_SEED, OptunaOracle, optuna_module, optuna_oracle, random_sampler

INSTALL_HINT = "pip install .[optuna,gp] (CPU-only PyTorch: --extra-index-url https://download.pytorch.org/whl/cpu)"


def settings(space: SearchSpace, budget: Budget) -> dict[str, Any]:
    return {
        "max_trials": budget.trials,
        "sampler": "optuna.samplers.GPSampler",
        "n_startup_trials": initial_points(budget),
        "independent_sampler": "optuna.samplers.RandomSampler (conditional widths)",
        "sampler_seed": SAMPLER_SEED,
    }


def make_oracle(space: SearchSpace, budget: Budget, seed: int, **kwargs: Any) -> OptunaOracle:
    samplers = optuna_module("gp", INSTALL_HINT).samplers
    startup = initial_points(budget)

    def sampler(run_seed: int, trial_seed: int) -> Any:
        return samplers.GPSampler(
            seed=trial_seed,
            n_startup_trials=startup,
            independent_sampler=random_sampler(trial_seed),
        )

    options = {"n_startup_trials": startup}
    return optuna_oracle(space, seed, budget.trials, make_sampler=sampler, options=options, **kwargs)


STRATEGY = Strategy(
    name="gp",
    summary="Optuna's GPSampler: Gaussian-process BO with log expected improvement, a third of trials random first",
    make_oracle=make_oracle,
    requires=("optuna", "torch"),
    install_hint=INSTALL_HINT,
    settings=settings,
)
