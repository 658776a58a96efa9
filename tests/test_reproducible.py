"""Same strategy, budget and seed on one machine: the same trials and the same accuracies."""

from __future__ import annotations

from typing import Any

import pytest

from tuning import strategies
from tuning.core.budget import BUDGETS
from tuning.execution.runner import execute

TIMINGS = {"seconds", "train_seconds"}


def _outcome(result: dict[str, Any]) -> dict[str, Any]:
    trials = [{k: v for k, v in t.items() if k not in TIMINGS} for t in result["trials"]]
    return {"trials": trials, "best": result["best"], "epochs": result["epochs_trained"]}


@pytest.mark.training
@pytest.mark.parametrize("name", [n for n in strategies.names() if strategies.get(n).available()])
def test_same_seed_same_run(name: str) -> None:
    strategy, budget = strategies.get(name), BUDGETS["smoke"]
    first = _outcome(execute(strategy, budget, seed=0).to_json())
    second = _outcome(execute(strategy, budget, seed=0).to_json())
    assert first == second
    assert first["epochs"] <= budget.epoch_budget
