"""Each property, run on something broken on purpose, must fail.

A property that cannot fail proves nothing.  Every check of
``property_checks`` (and, for the strategies, the very Hypothesis property
the suite runs) is pointed here at a deliberately broken strategy, loop,
space or model, and must raise ``AssertionError``.  Hypothesis's ``find``
shows that the space's properties find a counterexample by themselves.
"""

from __future__ import annotations

import dataclasses
import math
import random
import tempfile
from collections.abc import Callable, Mapping
from typing import Any

import keras
import keras_tuner as kt
import pytest
from hypothesis import Phase, find, settings

from tuning.core.budget import Budget
from tuning.core.seeds import oracle_seed
from tuning.core.space import Config, Int, Space, SpaceError
from tuning.execution.loop import SearchLoop
from tuning.objectives.live.model import build_model, keras_optimizer
from tuning.objectives.synthetic import SyntheticObjective
from tuning.problems.mnist_mlp import SPACE
from tuning.strategies import get
from tuning.strategies.base import Strategy
from tuning.strategies.keras_tuner_space import OBJECTIVE, hyperparameters

from property_checks import (
    check_accepted_unchanged,
    check_budget,
    check_declaration_rejected,
    check_grid_size,
    check_model,
    check_random_sampler,
    check_rejected,
    draw_from_oracle,
)
from space_strategies import configs, edge_cases, invalid_configs
from test_properties_strategies import contract_property, grid_property, seed_property

# A broken subject must fail within a few examples; shrinking the failure
# would only cost time, and one clear failure is all these tests need.
FAIL_FAST: dict[str, Any] = {"phases": [Phase.explicit, Phase.generate], "report_multiple_bugs": False}
EXAMPLES = 25

Mutate = Callable[[Space, Budget, dict[str, Any]], None]


def must_fail(run: Callable[[], None], match: str) -> None:
    """``run`` fails, and for the reason ``match`` names (not some other assertion)."""
    with pytest.raises(AssertionError, match=match):
        run()


# -- broken strategies ------------------------------------------------------------


def tampered(name: str, mutate: Mutate, *, base: str = "random") -> Strategy:
    """``base``'s oracle with every proposal passed through ``mutate`` before Keras Tuner records it."""

    def make_oracle(space: Space, budget: Budget, seed: int) -> kt.Oracle:
        oracle = get(base).make_oracle(space, budget, seed)
        populate = oracle.populate_space

        def populate_space(trial_id: str) -> dict[str, Any]:
            response = populate(trial_id)
            if response.get("values") is not None:
                mutate(space, budget, response["values"])
            return response

        oracle.populate_space = populate_space
        return oracle

    return Strategy(name=name, summary="broken on purpose", make_oracle=make_oracle, stochastic=get(base).stochastic)


def off_step(space: Space, budget: Budget, values: dict[str, Any]) -> None:
    values[space.width_name(0)] = space.width.low + 1  # units 33 for SPACE


OFF_STEP = f"{SPACE.width_name(0)}={SPACE.width.low + 1} is not"


def lr_too_high(space: Space, budget: Budget, values: dict[str, Any]) -> None:
    values[space.learning_rate.name] = space.learning_rate.high * 1.5


def past_top_fidelity(space: Space, budget: Budget, values: dict[str, Any]) -> None:
    values["tuner/epochs"] = budget.epochs + 1


def never_deepest(space: Space, budget: Budget, values: dict[str, Any]) -> None:
    depth = space.depth.name
    if values[depth] == space.depth.high:
        for i in range(space.depth.low, space.depth.high):
            values.pop(space.width_name(i), None)
        values[depth] = space.depth.low


class LeakyOracle(kt.oracles.RandomSearchOracle):
    """Reports the width of a layer the depth does not reach (after Keras Tuner's own clean-up at end_trial)."""

    def __init__(self, space: Space, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.space = space

    def end_trial(self, trial: kt.engine.trial.Trial) -> None:
        super().end_trial(trial)
        values = self.trials[trial.trial_id].hyperparameters.values
        depth = values[self.space.depth.name]
        if depth < self.space.depth.high:
            values[self.space.width_name(depth)] = self.space.width.low


def oracle_kwargs(space: Space, budget: Budget, seed: int | None, **kwargs: Any) -> dict[str, Any]:
    """The arguments our strategies give a Keras Tuner oracle, for broken oracles built by hand."""
    return dict(
        objective=kwargs.pop("objective", OBJECTIVE),
        max_trials=budget.trials,
        hyperparameters=hyperparameters(space),
        seed=seed,
        allow_new_entries=False,
        tune_new_entries=False,
        **kwargs,
    )


LEAKY = Strategy("leaky", "broken", lambda sp, b, s: LeakyOracle(sp, **oracle_kwargs(sp, b, oracle_seed(s))))
SEED_IGNORED = Strategy("seed_ignored", "broken", lambda sp, b, s: get("random").make_oracle(sp, b, 0))
UNSEEDED = Strategy(
    "unseeded", "broken", lambda sp, b, s: get("random").make_oracle(sp, b, random.SystemRandom().randrange(10**6))
)
MINIMIZING = Strategy(
    "minimizing",
    "broken",
    lambda sp, b, s: kt.oracles.RandomSearchOracle(
        **oracle_kwargs(sp, b, oracle_seed(s), objective=kt.Objective(OBJECTIVE.name, direction="min"))
    ),
)


def overspending(strategy: Strategy, space: Space, budget: Budget, seed: int) -> SearchLoop:
    """The oracle and the loop read a doubled budget: what a loop that forgot its guard would spend."""
    doubled = dataclasses.replace(budget, trials=2 * budget.trials)
    with tempfile.TemporaryDirectory(prefix="prop-") as directory:
        search = SearchLoop(
            strategy.make_oracle(space, doubled, seed), SyntheticObjective(space), space, doubled, directory
        )
        search.search()
        return search


def test_in_space_catches_off_step_units() -> None:
    must_fail(lambda: contract_property(tampered("off_step", off_step), EXAMPLES, **FAIL_FAST), OFF_STEP)


def test_in_space_catches_lr_out_of_range() -> None:
    must_fail(lambda: contract_property(tampered("lr_high", lr_too_high), EXAMPLES, **FAIL_FAST), "out of range")


def test_no_inactive_catches_a_leaked_width() -> None:
    must_fail(lambda: contract_property(LEAKY, EXAMPLES, **FAIL_FAST), "reported inactive")


def test_budget_catches_overspending() -> None:
    must_fail(lambda: contract_property(get("random"), EXAMPLES, runner=overspending, **FAIL_FAST), "trials of")


def test_budget_catches_epochs_over_the_epoch_budget() -> None:
    budget = Budget("b", 1, 1, epochs=3, trials=2, seeds=(0,))
    search = overspending(tampered("hyperband_like", past_top_fidelity), SPACE, budget, 0)
    assert search.epochs_used > budget.epoch_budget  # the fixture really overspends
    with pytest.raises(AssertionError, match="epochs of"):
        check_budget(search, budget)


def test_budget_catches_training_past_the_top_fidelity() -> None:
    must_fail(lambda: contract_property(tampered("too_long", past_top_fidelity), EXAMPLES, **FAIL_FAST), "past")


def test_best_catches_a_minimizing_strategy() -> None:
    must_fail(lambda: contract_property(MINIMIZING, EXAMPLES, **FAIL_FAST), "best reported")


def test_same_seed_catches_an_unseeded_strategy() -> None:
    must_fail(lambda: seed_property(UNSEEDED, EXAMPLES, **FAIL_FAST), "same seed, different sequences")


def test_different_seeds_catch_an_ignored_seed() -> None:
    must_fail(lambda: seed_property(SEED_IGNORED, EXAMPLES, **FAIL_FAST), "different seeds, same sequence")


def test_non_stochastic_catches_a_seed_that_matters() -> None:
    claims_deterministic = dataclasses.replace(get("random"), name="random_claims_deterministic", stochastic=False)
    must_fail(lambda: seed_property(claims_deterministic, EXAMPLES, **FAIL_FAST), "not stochastic, yet another seed")


# -- broken grids ---------------------------------------------------------------


class ListOracle(kt.Oracle):
    """Proposes a fixed list of configurations, then stops."""

    def __init__(self, points: list[Config], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.points = points

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        if not self.points:
            return {"status": kt.engine.trial.TrialStatus.STOPPED, "values": None}
        return {"status": kt.engine.trial.TrialStatus.RUNNING, "values": self.points.pop(0)}


def repeating_grid() -> Strategy:
    """The declared grid in order, each point proposed twice."""

    def make_oracle(space: Space, budget: Budget, seed: int) -> kt.Oracle:
        points = [dict(p) for p in space.grid_points() for _ in range(2)]
        kwargs = oracle_kwargs(space, budget, oracle_seed(seed))
        kwargs["hyperparameters"] = hyperparameters(space, grid=True)
        return ListOracle(points, **kwargs)

    return Strategy("repeating_grid", "broken", make_oracle, stochastic=False)


def short_grid() -> Strategy:
    """The grid oracle over a declaration that lost the last width of its grid: covers too few points."""

    def make_oracle(space: Space, budget: Budget, seed: int) -> kt.Oracle:
        values = space.width.grid if space.width.grid is not None else space.width.values()
        if len(values) > 1:
            space = dataclasses.replace(space, width=dataclasses.replace(space.width, grid=tuple(values[:-1])))
        return get("grid").make_oracle(space, budget, seed)

    return Strategy("short_grid", "broken", make_oracle, stochastic=False)


def test_grid_catches_repeats() -> None:
    must_fail(lambda: grid_property(repeating_grid(), EXAMPLES, **FAIL_FAST), "twice")


def test_grid_catches_missing_points() -> None:
    must_fail(lambda: grid_property(short_grid(), EXAMPLES, **FAIL_FAST), "covered")


class ConditionBlindSpace(Space):
    """Counts the grid as if every width were always active (the classic loop's mistake)."""

    def grid_size(self) -> int:
        w = len(self.width.grid or self.width.values())
        per_arch = len(self.optimizer.grid or self.optimizer.options) * len(self.learning_rate.values())
        return len(self.depth.grid or self.depth.values()) * w**self.depth.high * per_arch


def test_grid_size_catches_a_condition_blind_count() -> None:
    blind = ConditionBlindSpace(**{f.name: getattr(SPACE, f.name) for f in dataclasses.fields(SPACE)})
    with pytest.raises(AssertionError, match="grid_size"):
        check_grid_size(blind)


# -- broken random sampling -------------------------------------------------------

DRAWS = 4000


def test_log_uniform_catches_linear_sampling() -> None:
    linear = dataclasses.replace(SPACE, learning_rate=dataclasses.replace(SPACE.learning_rate, log=False))
    oracle = get("random").make_oracle(linear, Budget("d", 1, 1, 1, DRAWS, (0,)), 0)
    with pytest.raises(AssertionError, match="log-uniform"):
        check_random_sampler(SPACE, draw_from_oracle(oracle, DRAWS))


def test_uniform_catches_a_depth_never_drawn() -> None:
    oracle = tampered("shallow", never_deepest).make_oracle(SPACE, Budget("d", 1, 1, 1, DRAWS, (0,)), 0)
    with pytest.raises(AssertionError, match="not uniform|outside the support"):
        check_random_sampler(SPACE, draw_from_oracle(oracle, DRAWS))


def test_uniform_catches_a_slight_bias() -> None:
    """Power at 4,000 draws: one optimizer drawn 40% instead of 33% is rejected."""
    rng = random.Random(0)
    options = SPACE.optimizer.options
    biased = [options[0] if rng.random() < 0.1 else rng.choice(options) for _ in range(DRAWS)]
    oracle = get("random").make_oracle(SPACE, Budget("d", 1, 1, 1, DRAWS, (0,)), 0)
    draws = [{**d, SPACE.optimizer.name: o} for d, o in zip(draw_from_oracle(oracle, DRAWS), biased)]
    with pytest.raises(AssertionError, match="not uniform"):
        check_random_sampler(SPACE, draws)


# -- broken spaces ----------------------------------------------------------------


class ClippingSpace(Space):
    """Forgives instead of refusing: clips to the bounds and the step, drops what is inactive or unknown."""

    def validate(self, config: Mapping[str, Any]) -> Config:
        d, w, lr = self.depth, self.width, self.learning_rate
        depth = config.get(d.name)
        depth = (
            min(max(int(depth), d.low), d.high) if isinstance(depth, (int, float)) and not math.isnan(depth) else d.low
        )
        out: Config = {d.name: depth}
        for i in range(depth):
            v = config.get(self.width_name(i), w.low)
            v = int(v) if isinstance(v, (int, float)) else w.low
            out[self.width_name(i)] = min(max(w.low + round((v - w.low) / w.step) * w.step, w.low), w.high)
        opt = config.get(self.optimizer.name)
        out[self.optimizer.name] = opt if opt in self.optimizer.options else self.optimizer.options[0]
        rate = config.get(lr.name)
        rate = rate if isinstance(rate, (int, float)) and not math.isnan(rate) else lr.low
        out[lr.name] = min(max(float(rate), lr.low), lr.high)
        return out


CLIPPING = ClippingSpace(**{f.name: getattr(SPACE, f.name) for f in dataclasses.fields(SPACE)})


def fails(check: Callable[..., Any], *args: Any) -> bool:
    try:
        check(*args)
    except AssertionError:
        return True
    return False


def search_settings() -> settings:
    """For ``find``: the same counterexample every run, found without shrinking."""
    return settings(max_examples=200, database=None, derandomize=True, phases=[Phase.generate])


@pytest.mark.parametrize("kind, config", edge_cases(SPACE), ids=[k for k, _ in edge_cases(SPACE)])
def test_rejection_catches_clipping_of_each_named_fault(kind: str, config: Config) -> None:
    with pytest.raises(AssertionError, match="accepted invalid"):
        check_rejected(CLIPPING.validate, config)


def test_rejection_property_finds_clipping_by_itself() -> None:
    kind, config = find(
        invalid_configs(), lambda case: fails(check_rejected, CLIPPING.validate, case[1]), settings=search_settings()
    )
    assert kind


def test_unchanged_catches_rounding() -> None:
    def rounding(config: Mapping[str, Any]) -> Config:
        return {**config, SPACE.learning_rate.name: round(config[SPACE.learning_rate.name], 4)}

    find(configs(), lambda c: fails(check_accepted_unchanged, rounding, c), settings=search_settings())


def test_declaration_check_catches_a_lax_int() -> None:
    @dataclasses.dataclass(frozen=True)
    class LaxInt(Int):
        def __post_init__(self) -> None:  # no checks at all
            pass

    for declare in (lambda: LaxInt("x", 5, 1), lambda: LaxInt("x", 1, 5, step=0), lambda: LaxInt("x", 1, 5, step=-1)):
        with pytest.raises(AssertionError, match="accepted invalid declaration"):
            check_declaration_rejected(declare)


def test_declaration_check_needs_space_error_not_any_error() -> None:
    def crashes() -> None:
        raise TypeError("not a SpaceError")

    with pytest.raises(TypeError):
        check_declaration_rejected(crashes)
    assert isinstance(check_declaration_rejected(lambda: Int("x", 5, 1)), SpaceError)


# -- broken models ----------------------------------------------------------------


def sequential(config: Config, *, activation: str = "relu", bias: bool = True, drop_last: bool = False) -> keras.Model:
    widths = [config[SPACE.width_name(i)] for i in range(config[SPACE.depth.name])]
    if drop_last:
        widths = widths[:-1]
    layers: list[Any] = [keras.Input(shape=(SPACE.inputs,))]
    layers += [keras.layers.Dense(u, activation=activation, use_bias=bias) for u in widths]
    layers.append(keras.layers.Dense(SPACE.classes, activation="softmax"))
    model = keras.Sequential(layers)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=config[SPACE.learning_rate.name]), loss=SPACE.loss)
    return model


CONFIG: Config = {
    SPACE.depth.name: SPACE.depth.high,
    **{SPACE.width_name(i): SPACE.width.high for i in range(SPACE.depth.high)},
    SPACE.optimizer.name: "adam",
    SPACE.learning_rate.name: SPACE.learning_rate.low,
}


@pytest.mark.parametrize(
    "broken, message",
    [
        (lambda c: sequential(c, activation="tanh"), "activation"),
        (lambda c: sequential(c, bias=False), "no bias"),
        (lambda c: sequential(c, drop_last=True), "hidden layers"),
        (lambda c: build_model(c, SPACE, optimizer=lambda name, lr: keras_optimizer(name, 0.0123, SPACE)), "lr"),
        (lambda c: build_model({**c, SPACE.optimizer.name: "sgd"}, SPACE), "optimizer"),
    ],
    ids=["tanh", "no_bias", "layer_missing", "lr_ignored", "other_optimizer"],
)
def test_model_check_catches(broken: Callable[[Config], keras.Model], message: str) -> None:
    config = CONFIG
    try:
        with pytest.raises(AssertionError, match=message):
            check_model(broken(config), config, SPACE)
    finally:
        keras.backend.clear_session()
