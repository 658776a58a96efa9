"""SMAC multi-fidelity: SMAC3's MultiFidelityFacade, Hyperband over epochs with SMAC's random forest proposing.

Budgets are epochs: ``min_budget`` 1, ``max_budget`` the budget's epochs,
``eta`` 3 (the facade's default); SMAC's budgets (max / eta^k) are rounded to
whole epochs.  SMAC's Hyperband trains every stage from scratch (no weights
carried over), so each trial costs its full budget.  ``max_trials`` is the
epoch budget (the most trials it could pay for); the search loop ends at the
first trial whose epochs would overrun the budget, as for every strategy.
"""

from __future__ import annotations

import math
from typing import Any

from tuning.core.budget import Budget
from tuning.core.space import SearchSpace
from tuning.strategies.base import Strategy
from tuning.strategies.smac_oracle import INSTALL_HINT, SmacOracle, smac_oracle

ETA = 3


def budgets(max_epochs: int) -> list[float]:
    """SMAC's Hyperband budgets, smallest first: max / eta^k for k below floor(log_eta(max / min)) + 1."""
    stages = math.floor(math.log(max_epochs, ETA) + 1e-9) + 1
    return [max_epochs / ETA**k for k in reversed(range(stages))]


def settings(space: SearchSpace, budget: Budget) -> dict[str, Any]:
    return {
        "max_trials": budget.epoch_budget,
        "facade": "smac.MultiFidelityFacade",
        "intensifier": "smac.intensifier.Hyperband",
        "eta": ETA,
        "min_budget": 1,
        "max_budget": budget.epochs,
        "budgets": budgets(budget.epochs),
        "epochs_trained": "each budget rounded to the nearest whole epoch, trained from scratch",
        "model": "smac.model.random_forest.RandomForest (scikit-learn)",
        "deterministic": False,
        "cost": "1 - validation accuracy",
        "seed": "the oracle seed (run seed + 1)",
    }


def make_oracle(space: SearchSpace, budget: Budget, seed: int) -> SmacOracle:
    return smac_oracle(space, seed, budget.epoch_budget, facade="multi_fidelity", max_epochs=budget.epochs, eta=ETA)


STRATEGY = Strategy(
    name="smac-mf",
    summary="SMAC3's multi-fidelity facade: Hyperband over epochs, SMAC's random forest proposing",
    make_oracle=make_oracle,
    requires=("smac", "ConfigSpace"),
    install_hint=INSTALL_HINT,
    settings=settings,
)
