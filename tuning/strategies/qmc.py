"""Quasi-random search: Optuna's ``QMCSampler``, a scrambled Sobol sequence, as a Keras Tuner oracle.

The sequence is scrambled with the run seed (one sequence per run; Optuna
keeps its position in the study, which the oracle's state carries).  Optuna
samples the first trial with the ``independent_sampler`` (``RandomSampler``,
seeded like the trial) and takes that trial's parameters as the Sobol
dimensions, since ``QMCSampler`` assumes a space without conditions: a width
the first trial did not have is drawn by the independent sampler later too.
"""

from __future__ import annotations

from typing import Any

from tuning.core.budget import Budget
from tuning.core.space import SearchSpace
from tuning.strategies.base import Strategy
from tuning.strategies.optuna_oracle import INSTALL_HINT, OptunaOracle, optuna_module, optuna_oracle, random_sampler


def settings(space: SearchSpace, budget: Budget) -> dict[str, Any]:
    return {
        "max_trials": budget.trials,
        "sampler": "optuna.samplers.QMCSampler",
        "qmc_type": "sobol",
        "scramble": True,
        "qmc_seed": "the run seed (one scrambled sequence per run)",
        "independent_sampler": "optuna.samplers.RandomSampler, seeded trial_seed(seed, trial index) "
        "(the first trial; widths it did not have)",
    }


def make_oracle(space: SearchSpace, budget: Budget, seed: int, **kwargs: Any) -> OptunaOracle:
    samplers = optuna_module("qmc", INSTALL_HINT).samplers

    def sampler(run_seed: int, trial_seed: int) -> Any:
        return samplers.QMCSampler(
            qmc_type="sobol",
            scramble=True,
            seed=run_seed,
            independent_sampler=random_sampler(trial_seed),
            warn_independent_sampling=False,
        )

    options = {"qmc_type": "sobol", "scramble": True}
    return optuna_oracle(space, seed, budget.trials, make_sampler=sampler, options=options, **kwargs)


STRATEGY = Strategy(
    name="qmc",
    summary="Optuna's QMCSampler: quasi-random search along a scrambled Sobol sequence",
    make_oracle=make_oracle,
    requires=("optuna",),
    install_hint=INSTALL_HINT,
    settings=settings,
)
