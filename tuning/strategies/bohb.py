"""BOHB-style: Optuna's ``HyperbandPruner`` with TPE, the combination Optuna documents as its BOHB.

Each trial is assigned a bracket (a successive-halving pruner with its own
first rung) by a hash of the study name and the trial number, and TPE
proposes from the trials of that bracket only: model-based proposals per
bracket, as in BOHB (Falkner et al., 2018), with Optuna's TPE in place of
BOHB's own kernel density estimator.
"""

from __future__ import annotations

from typing import Any

from tuning.core.budget import Budget
from tuning.core.space import SearchSpace
from tuning.strategies.base import Strategy
from tuning.strategies.multi_fidelity import (
    MIN_RESOURCE,
    REDUCTION_FACTOR,
    common_settings,
    hyperband_brackets,
    pruned_tpe_oracle,
    rungs,
)
from tuning.strategies.optuna_oracle import INSTALL_HINT, optuna_module
from tuning.strategies.tpe import TPEOracle


def settings(space: SearchSpace, budget: Budget) -> dict[str, Any]:
    brackets = hyperband_brackets(budget.epochs)
    return {
        **common_settings(budget),
        "pruner": "optuna.pruners.HyperbandPruner",
        "brackets": brackets,
        "rungs_per_bracket": [rungs(budget.epochs, b) for b in range(brackets)],
        "bracket_of_a_trial": "crc32(study name, trial number), Optuna's assignment",
    }


def make_oracle(space: SearchSpace, budget: Budget, seed: int) -> TPEOracle:
    pruners = optuna_module("bohb", INSTALL_HINT).pruners

    def pruner() -> Any:
        return pruners.HyperbandPruner(
            min_resource=MIN_RESOURCE, max_resource=budget.epochs, reduction_factor=REDUCTION_FACTOR
        )

    return pruned_tpe_oracle(space, budget, seed, pruner)


STRATEGY = Strategy(
    name="bohb",
    summary="BOHB-style: Optuna's HyperbandPruner over TPE, TPE fitted per bracket (eta 3)",
    make_oracle=make_oracle,
    requires=("optuna",),
    install_hint=INSTALL_HINT,
    settings=settings,
)
