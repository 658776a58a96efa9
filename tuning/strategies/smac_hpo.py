"""SMAC: SMAC3's HyperparameterOptimizationFacade (random-forest BO with log EI, Sobol initial design, intensification).

The facade's own defaults throughout (initial design a quarter of the trials,
Sobol; EI on the log-scaled cost; local and random search for the
acquisition; an incumbent re-evaluated up to three times, as the objective is
noisy); ``tuning.strategies.smac_oracle`` says how the space, seeds and
resuming are handled.
"""

from __future__ import annotations

from typing import Any

from tuning.core.budget import Budget
from tuning.core.space import SearchSpace
from tuning.strategies.base import Strategy
from tuning.strategies.smac_oracle import INSTALL_HINT, SmacOracle, smac_oracle


def settings(space: SearchSpace, budget: Budget) -> dict[str, Any]:
    return {
        "max_trials": budget.trials,
        "facade": "smac.HyperparameterOptimizationFacade",
        "model": "smac.model.random_forest.RandomForest (scikit-learn)",
        "initial_design": "Sobol, max(1, trials // 4) configurations (the facade's max_ratio 0.25)",
        "intensifier": "smac.intensifier.Intensifier, max_config_calls 3 (the facade's default)",
        "deterministic": False,
        "cost": "1 - validation accuracy",
        "seed": "the oracle seed (run seed + 1)",
    }


def make_oracle(space: SearchSpace, budget: Budget, seed: int) -> SmacOracle:
    return smac_oracle(space, seed, budget.trials, facade="hpo")


STRATEGY = Strategy(
    name="smac",
    summary="SMAC3's HPO facade: random-forest Bayesian optimization with intensification",
    make_oracle=make_oracle,
    requires=("smac", "ConfigSpace"),
    install_hint=INSTALL_HINT,
    settings=settings,
)
