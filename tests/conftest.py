"""Hypothesis profiles for the whole test suite.

``ci`` is the default: derandomized (the same examples on every run, so a
red CI is a real regression, not bad luck), a bounded number of examples,
no deadline and no example database (CI starts from a clean clone anyway).
No deadline, because a wall-clock limit per example measures the machine's
load, not the code: with a 5 s deadline the property tests failed once in
four runs beside a bench (1 of 132), most likely a model-building property
(``build_model`` on JAX, whose first call also initialises the backend),
which Hypothesis reports as flaky when the rerun is fast.
``thorough`` draws many more examples and keeps a database so that a failure
found once is replayed first next time.  Pick a profile with
``HYPOTHESIS_PROFILE=thorough`` (tox passes it through) or
``pytest --hypothesis-profile=thorough``; the option wins over the variable,
because Hypothesis's pytest plugin loads it after this file.

Tests that run whole searches scale their example counts from the loaded
profile's ``max_examples`` (see ``tests/space_strategies.py``), so
``thorough`` deepens every property without editing a test.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings

import tuning  # noqa: F401  (first: it sets the default Keras backend before any test module imports Keras)

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    max_examples=50,
    deadline=None,
    # Drawing a configuration is cheap, but one example of a strategy test runs
    # a whole search; the health check would count that against generation.
    suppress_health_check=[HealthCheck.too_slow],
    # The explain phase trips an internal assertion of Hypothesis 6.155's
    # shrinker (spans out of order) on st.data() tests; the shrunk example is
    # still printed without it.
    phases=[p for p in Phase if p is not Phase.explain],
    print_blob=True,
)
settings.register_profile(
    "thorough",
    max_examples=500,
    deadline=timedelta(seconds=30),
    suppress_health_check=[HealthCheck.too_slow],
    phases=[p for p in Phase if p is not Phase.explain],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def smoke_result() -> Callable[[str], dict[str, Any]]:
    """The result document of an uninterrupted smoke run of a strategy (seed 0, no work folder), run once
    per session and shared by the tests that compare other runs with it (reproducibility, resume, Dask)."""
    from tuning import strategies
    from tuning.execution.runner import execute
    from tuning.problems.mnist_mlp import BUDGETS

    @functools.cache
    def run(name: str) -> dict[str, Any]:
        return execute(strategies.get(name), BUDGETS["smoke"], seed=0).to_json()

    return run
