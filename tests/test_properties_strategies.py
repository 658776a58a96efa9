"""Every registered strategy's contract, against the synthetic objective (no training).

Strategies come from the registry, so one added there is tested here without
editing this file.  Each example runs a whole search with the strategy's
real Keras Tuner oracle; Hypothesis draws the seed, the budget and (for the
in-space property) the space.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import assume, example, given, note, settings
from hypothesis import strategies as st

from tuning import strategies
from tuning.core.budget import Budget
from tuning.core.space import Choice, Float, Int, Space, SpaceError
from tuning.execution.loop import SearchLoop
from tuning.problems.mnist_mlp import SPACE
from tuning.strategies.base import Strategy

from property_checks import (
    check_grid_search,
    check_random_sampler,
    check_same_sequence,
    check_search,
    check_sequences_differ,
    draw_from_oracle,
    independent_grid,
    run_search,
    sequence,
)
from space_strategies import budgets, scaled_examples, seeds, small_spaces, spaces

# A GP fitted to 2-3 points hits its length-scale bound; that is expected, not news.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@dataclass(frozen=True)
class Cost:
    """How hard to push one strategy: the largest budget drawn and the share of the profile's examples."""

    max_trials: int = 8
    share: float = 1.0


# BayesianOptimization fits a Gaussian process and restarts L-BFGS-B 50 times
# per guided trial (~0.3 s each with one BLAS thread, seconds without): at
# most 4 trials (2 random + 2 guided) and a fifth of the examples keep it
# inside the suite's two minutes.  Strategies not listed (new ones included)
# get the default.
# Optuna's GPSampler fits its GP with PyTorch (~0.5 s a guided trial) and SMAC refits its random forest and
# searches its acquisition at every ask (~0.5 s): the same treatment.
COSTS: dict[str, Cost] = {
    "bayesian": Cost(max_trials=4, share=0.2),
    "gp": Cost(max_trials=4, share=0.2),
    "smac": Cost(max_trials=4, share=0.2),
    "smac-mf": Cost(max_trials=4, share=0.2),
}

# SearchLoop time depends on the machine's load, which is not a property: the
# search tests (deadline=None) bound their time by the number of examples.


def cost(name: str) -> Cost:
    return COSTS.get(name, Cost())


@pytest.fixture(scope="module", autouse=True)
def one_blas_thread() -> Iterator[None]:
    """The GP's matrices are tiny: BLAS threads only fight over the shared cores (3-10x slower)."""
    import scipy.optimize  # noqa: F401 - load the BLAS libraries before limiting them
    import sklearn.gaussian_process  # noqa: F401
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


def registered(name: str) -> Strategy:
    strategy = strategies.get(name)
    if not strategy.available():
        pytest.skip(f"{name} needs {', '.join(strategy.missing())}: {strategy.install_hint}")
    return strategy


def refuses(strategy: Strategy, space: Space, budget: Budget, seed: int) -> bool:
    """A strategy may refuse a budget it cannot fit (Hyperband below one bracket), with a ValueError that says so."""
    try:
        strategy.make_oracle(space, budget, seed)
    except SpaceError:
        raise
    except ValueError as e:
        assert str(e), "a refusal must say why"
        note(f"refused: {e}")
        return True
    return False


Runner = Callable[[Strategy, Space, Budget, int], SearchLoop]


def property_settings(examples: int, **overrides: Any) -> settings:
    return settings(deadline=None, max_examples=examples, **overrides)


def contract_property(strategy: Strategy, examples: int, runner: Runner = run_search, **overrides: Any) -> None:
    """Any space, budget and seed: proposals in the space, no inactive hyperparameters, budget held, best = max."""

    @property_settings(examples, **overrides)
    @given(space=spaces(), budget=budgets(cost(strategy.name).max_trials), seed=seeds())
    def contract(space: Space, budget: Budget, seed: int) -> None:
        if refuses(strategy, space, budget, seed):
            return
        search = runner(strategy, space, budget, seed)
        note(f"{len(search.records)} trials, {search.epochs_used} epochs")
        check_search(space, search, budget)

    contract()


def seed_property(strategy: Strategy, examples: int, **overrides: Any) -> None:
    """Same seed, same sequence; different seeds, different sequences exactly when the strategy is stochastic."""

    @property_settings(examples, **overrides)
    @given(budget=budgets(cost(strategy.name).max_trials), seed=seeds(), other=seeds())
    def seeded(budget: Budget, seed: int, other: int) -> None:
        assume(seed != other)
        if refuses(strategy, SPACE, budget, seed):
            return
        first = sequence(run_search(strategy, SPACE, budget, seed))
        check_same_sequence(first, sequence(run_search(strategy, SPACE, budget, seed)))
        third = sequence(run_search(strategy, SPACE, budget, other))
        if strategy.stochastic:
            check_sequences_differ(first, third)
        else:
            check_same_sequence(first, third, why=f"{strategy.name} is not stochastic, yet another seed")

    seeded()


def grid_property(strategy: Strategy, examples: int, **overrides: Any) -> None:
    """On a small drawn space: no point twice, only grid points, and every one of them when trials suffice."""

    @property_settings(examples, **overrides)
    @given(space=small_spaces(max_points=36), seed=seeds(), spare=st.integers(-3, 3), epochs=st.integers(1, 2))
    @example(  # found here: a depth grid short of depth.high made Space.declare(grid=True) raise TypeError
        space=Space(
            Int("num_layers", 1, 2, grid=(1,)),
            Int("units", 1, 1),
            Choice("optimizer", ("adam",)),
            Float("learning_rate", 0.01, 0.01, grid=(0.01,)),
        ),
        seed=0,
        spare=0,
        epochs=1,
    )
    def covers(space: Space, seed: int, spare: int, epochs: int) -> None:
        size = len(independent_grid(space))
        budget = Budget("grid", 1, 1, epochs=epochs, trials=max(1, size + spare), seeds=(seed,))
        search = run_search(strategy, space, budget, seed)
        check_grid_search(space, [r.hyperparameters for r in search.records], budget)
        check_search(space, search, budget)

    covers()


def examples_for(name: str, share: float) -> int:
    return scaled_examples(share * cost(name).share)


@pytest.mark.parametrize("name", strategies.names())
def test_search_contract(name: str) -> None:
    contract_property(registered(name), examples_for(name, 1.0))


@pytest.mark.parametrize("name", strategies.names())
def test_seed_decides_the_sequence(name: str) -> None:
    seed_property(registered(name), examples_for(name, 0.4))


def test_grid_covers_exactly_its_cardinality() -> None:
    grid_property(registered("grid"), scaled_examples(0.4))


@settings(deadline=None, max_examples=scaled_examples(0.2))
@given(seeds(), st.integers(1, 40))
def test_grid_never_repeats_on_the_declared_space(seed: int, trials: int) -> None:
    budget = Budget("grid", 1, 1, epochs=1, trials=trials, seeds=(seed,))
    search = run_search(registered("grid"), SPACE, budget, seed)
    check_grid_search(SPACE, [r.hyperparameters for r in search.records], budget)


RANDOM_DRAWS = 4000


def test_random_is_uniform_and_log_uniform() -> None:
    """Goodness of fit at seed 0 over 4,000 draws, alpha = 0.01 per test (chi-square, KS on log lr)."""
    budget = Budget("draws", 1, 1, epochs=1, trials=RANDOM_DRAWS, seeds=(0,))
    oracle = registered("random").make_oracle(SPACE, budget, 0)
    check_random_sampler(SPACE, draw_from_oracle(oracle, RANDOM_DRAWS))
