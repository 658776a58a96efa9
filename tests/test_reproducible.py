"""Same strategy, budget and seed on one machine: the same trials and the same accuracies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tuning import strategies
from tuning.execution.runner import execute
from tuning.problems.mnist_mlp import BUDGETS

from backends import strategy_cases
from documents import outcome


@pytest.mark.training
@pytest.mark.parametrize("name", strategy_cases())
def test_same_seed_same_run(name: str, smoke_result: Callable[[str], dict[str, Any]]) -> None:
    strategy, budget = strategies.get(name), BUDGETS["smoke"]
    first = outcome(smoke_result(name))  # the session's run of it (the resume and Dask tests compare with it too)
    second = outcome(execute(strategy, budget, seed=0).to_json())
    assert first == second
    assert first["epochs_trained"] <= budget.epoch_budget
