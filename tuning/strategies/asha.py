"""ASHA: asynchronous successive halving, Optuna's ``SuccessiveHalvingPruner`` over TPE's proposals.

A trial reaching a rung (epoch 1, 3, 9, ... below the last) goes on only if
its validation accuracy is in the top 1/eta of the values recorded at that
rung so far, its own included (Optuna promotes the first eta - 1 trials
only if best so far, as it cannot pause a trial and resume it later).
"""

from __future__ import annotations

from typing import Any

from tuning.core.budget import Budget
from tuning.core.space import SearchSpace
from tuning.strategies.base import Strategy
from tuning.strategies.multi_fidelity import MIN_RESOURCE, REDUCTION_FACTOR, common_settings, pruned_tpe_oracle, rungs
from tuning.strategies.optuna_oracle import INSTALL_HINT, optuna_module
from tuning.strategies.tpe import TPEOracle


def settings(space: SearchSpace, budget: Budget) -> dict[str, Any]:
    return {
        **common_settings(budget),
        "pruner": "optuna.pruners.SuccessiveHalvingPruner",
        "min_early_stopping_rate": 0,
        "rungs": rungs(budget.epochs),
    }


def make_oracle(space: SearchSpace, budget: Budget, seed: int) -> TPEOracle:
    pruners = optuna_module("asha", INSTALL_HINT).pruners

    def pruner() -> Any:
        return pruners.SuccessiveHalvingPruner(
            min_resource=MIN_RESOURCE, reduction_factor=REDUCTION_FACTOR, min_early_stopping_rate=0
        )

    return pruned_tpe_oracle(space, budget, seed, pruner)


STRATEGY = Strategy(
    name="asha",
    summary="ASHA: Optuna's SuccessiveHalvingPruner stops TPE's trials by epochs (eta 3), freed epochs buy trials",
    make_oracle=make_oracle,
    requires=("optuna",),
    install_hint=INSTALL_HINT,
    settings=settings,
)
