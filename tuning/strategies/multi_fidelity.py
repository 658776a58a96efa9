"""What the Optuna multi-fidelity strategies share: TPE proposes, an Optuna pruner stops trials by epochs.

The fidelity is the epoch.  Every trial is asked for the budget's full epochs
and reports its validation accuracy after each one (the search loop hands the
objective a per-epoch ``report``); the pruner stops it at a rung where it is
not in the top ``1 / REDUCTION_FACTOR`` of the trials that reached the rung.
A stopped trial counts the epochs it trained, so the epochs it saves buy
more trials: ``max_trials`` is the epoch budget (the most trials it could pay
for), and the search loop ends the search at the first trial whose full
epochs would overrun the budget, as for every strategy.
"""

from __future__ import annotations

import math
from typing import Any

from tuning.core.budget import Budget
from tuning.core.space import SearchSpace
from tuning.strategies.bayesian import initial_points
from tuning.strategies.optuna_oracle import PrunerFactory
from tuning.strategies.tpe import TPEOracle, tpe_oracle, tpe_sampler_settings

REDUCTION_FACTOR = 3  # eta: Optuna's default for both pruners, and Hyperband's usual
MIN_RESOURCE = 1  # epochs of the first rung


def rungs(max_epochs: int, min_early_stopping_rate: int = 0) -> list[int]:
    """The epochs at which a trial may be stopped: ``min_resource * eta ** (rate + k)`` below the last epoch
    (at the last epoch there is nothing left to save)."""
    out, k = [], 0
    while (epoch := MIN_RESOURCE * REDUCTION_FACTOR ** (min_early_stopping_rate + k)) < max_epochs:
        out.append(epoch)
        k += 1
    return out


def hyperband_brackets(max_epochs: int) -> int:
    """Optuna's HyperbandPruner's bracket count: floor(log_eta(max / min)) + 1."""
    return math.floor(math.log(max_epochs / MIN_RESOURCE, REDUCTION_FACTOR) + 1e-9) + 1


def common_settings(budget: Budget) -> dict[str, Any]:
    return {
        "max_trials": budget.epoch_budget,
        "max_trials_why": "the epoch budget: pruned trials leave epochs for more trials; the loop stops at the budget",
        **tpe_sampler_settings(budget),
        "fidelity": "epochs",
        "min_resource": MIN_RESOURCE,
        "max_resource": budget.epochs,
        "reduction_factor": REDUCTION_FACTOR,
        "reports": "validation accuracy after every epoch",
    }


def pruned_tpe_oracle(space: SearchSpace, budget: Budget, seed: int, make_pruner: PrunerFactory) -> TPEOracle:
    """TPE as the tpe strategy runs it, with ``make_pruner``'s pruner hearing every epoch."""
    return tpe_oracle(
        space, seed, budget.epoch_budget, initial_points(budget), make_pruner=make_pruner, max_epochs=budget.epochs
    )
