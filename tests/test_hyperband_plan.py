"""Hyperband's parameters come from the budget, and Keras Tuner spends exactly what ``plan`` says."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuning.core.budget import Budget
from tuning.problems.mnist_mlp import BUDGETS, SPACE
from tuning.strategies import get
from tuning.strategies.hyperband import plan

from property_checks import synthetic_search


@pytest.mark.parametrize(
    "budget",
    [*BUDGETS.values(), Budget("odd", 10, 10, epochs=5, trials=7, seeds=(0,)), Budget("big", 10, 10, 27, 20, (0,))],
    ids=lambda b: b.name,
)
def test_plan_matches_keras_tuner(budget: Budget, tmp_path: Path) -> None:
    p = plan(budget)
    assert p.max_epochs == budget.epochs
    assert p.epochs <= budget.epoch_budget
    search = synthetic_search(get("hyperband"), SPACE, budget, seed=3, directory=str(tmp_path))
    assert search.epochs_used == p.epochs
    assert len(search.records) == p.iterations * p.trials_per_iteration
    assert search.skipped_over_budget == 0


def test_plan_prefers_successive_halving() -> None:
    p = plan(BUDGETS["standard"])
    assert p.brackets == 2 and (p.factor, p.iterations, p.epochs) == (3, 2, 22)
    assert plan(BUDGETS["paper"]).brackets == 2


def test_continuations_resume_their_parent(tmp_path: Path) -> None:
    search = synthetic_search(get("hyperband"), SPACE, BUDGETS["standard"], seed=0, directory=str(tmp_path))
    by_id = {r.trial_id: r for r in search.records}
    resumed = [r for r in search.records if r.resumed_from is not None]
    assert resumed, "a 2-bracket plan must continue some trials"
    for r in resumed:
        parent = by_id[r.resumed_from]
        assert r.hyperparameters == parent.hyperparameters
        assert r.initial_epoch == parent.initial_epoch + parent.epochs
