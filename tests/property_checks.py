"""The properties as plain functions: each raises ``AssertionError`` when its property fails.

Kept apart from the Hypothesis tests so that the same checks run on the real
strategies and space (``test_properties_space.py``,
``test_properties_strategies.py``) and on deliberately broken ones
(``test_properties_broken.py``), which shows that each check can fail.
Where a check could lean on the code under test (``Space.validate``,
``Space.grid_size``), it recomputes from the declaration instead.
"""

from __future__ import annotations

import itertools
import math
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import keras
from scipy import stats

from tuning.core.budget import Budget
from tuning.core.space import Choice, Config, Int, Param, Space, SpaceError
from tuning.execution.loop import SearchLoop
from tuning.objectives.live.initial_values import NumpyZeroSlots
from tuning.objectives.synthetic import SyntheticObjective
from tuning.strategies.base import Strategy

ALPHA = 0.01
"""Significance level of the goodness-of-fit tests: at a random seed, a correct sampler fails one in a hundred."""

Sequence_ = list[tuple[Config, int, int]]


# -- the space ----------------------------------------------------------------------


def check_rejected(validate: Callable[[Mapping[str, Any]], Any], config: Mapping[str, Any]) -> SpaceError:
    """An invalid configuration raises ``SpaceError`` with a message; accepting it (clipped or not) fails."""
    try:
        accepted = validate(config)
    except SpaceError as e:
        assert str(e), "a SpaceError must say what is wrong"
        return e
    raise AssertionError(f"accepted invalid {dict(config)!r} as {accepted!r}; expected SpaceError")


def check_accepted_unchanged(validate: Callable[[Mapping[str, Any]], Any], config: Mapping[str, Any]) -> None:
    """A valid configuration is returned exactly as given: never clipped, rounded or completed."""
    accepted = validate(config)
    assert accepted == dict(config), f"validate changed {dict(config)!r} into {accepted!r}"
    assert [type(v) for v in accepted.values()] == [type(v) for v in config.values()], "validate changed types"


def check_declaration_rejected(declare: Callable[[], Any]) -> SpaceError:
    """An invalid declaration raises ``SpaceError`` when it is made, not later when it is used."""
    try:
        made = declare()
    except SpaceError as e:
        assert str(e)
        return e
    raise AssertionError(f"accepted invalid declaration {made!r}; expected SpaceError")


def expected_widths(space: Space, config: Mapping[str, Any]) -> list[int]:
    return [config[space.width_name(i)] for i in range(config[space.depth.name])]


def closed_form_parameters(space: Space, config: Mapping[str, Any]) -> int:
    """Weights and biases of inputs -> widths... -> classes, counted here, not by ``Space.parameter_count``."""
    sizes = [space.inputs, *expected_widths(space, config), space.classes]
    return sum(fan_in * fan_out + fan_out for fan_in, fan_out in zip(sizes[:-1], sizes[1:]))


def check_model(model: keras.Model, config: Mapping[str, Any], space: Space) -> None:
    """The built model is exactly the configuration: layers, units, activations, optimizer, lr, size."""
    widths = expected_widths(space, config)
    layers = model.layers
    assert all(isinstance(layer, keras.layers.Dense) for layer in layers), f"non-Dense layers: {layers}"
    assert len(layers) == len(widths) + 1, f"{len(layers) - 1} hidden layers for {space.depth.name}={len(widths)}"
    assert tuple(model.input_shape) == (None, space.inputs), model.input_shape
    relu = keras.activations.get(space.hidden_activation)
    for layer, units in zip(layers[:-1], widths):
        assert layer.units == units, f"{layer.name}: {layer.units} units, configured {units}"
        assert layer.activation is relu, f"{layer.name}: activation {layer.activation.__name__}"
        assert layer.use_bias, f"{layer.name}: no bias"
    out = layers[-1]
    assert out.units == space.classes and out.activation is keras.activations.softmax, (
        "output is not a softmax over the classes"
    )
    name = config[space.optimizer.name]
    cls = getattr(keras.optimizers, space.optimizers[name])
    # Keras's class itself, with only how its zero moments are made changed (numpy, no compile per shape).
    assert type(model.optimizer).__bases__ == (NumpyZeroSlots, cls), (
        f"optimizer {type(model.optimizer).__name__} {type(model.optimizer).__bases__}, configured {name}"
    )
    lr = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    assert math.isclose(lr, config[space.learning_rate.name], rel_tol=1e-6), (
        f"lr {lr}, configured {config[space.learning_rate.name]}"
    )
    expected = closed_form_parameters(space, config)
    assert model.count_params() == expected, f"{model.count_params()} parameters, closed form {expected}"
    assert space.parameter_count(config) == expected, "Space.parameter_count disagrees with the closed form"


# -- grids, counted independently ------------------------------------------------------


def visited_values(p: Param) -> tuple[Any, ...]:
    """The values the grid visits for ``p``: its declared grid, else every value (an Int's range, a Choice's options)."""
    if p.grid is not None:
        return tuple(p.grid)
    if isinstance(p, Int):
        return tuple(range(p.low, p.high + 1, p.step))
    if isinstance(p, Choice):
        return tuple(p.options)
    raise AssertionError(f"{p.name}: a Float has no grid without explicit values")


def active_key(space: Space, values: Mapping[str, Any]) -> frozenset[tuple[str, Any]]:
    """A configuration as a set of its active (name, value) pairs: inactive widths make no difference."""
    depth = values[space.depth.name]
    active = {space.depth.name, space.optimizer.name, space.learning_rate.name}
    active |= {space.width_name(i) for i in range(depth)}
    return frozenset((k, v) for k, v in values.items() if k in active)


def independent_grid(space: Space) -> set[frozenset[tuple[str, Any]]]:
    """Every distinct grid point: the full product over all declared widths, inactive ones then dropped.

    Deliberately not ``Space.grid_points``/``grid_size``: the product is taken
    over every width whether active or not, and the conditional structure only
    enters through ``active_key``, so a wrong closed form cannot agree by accident.
    """
    names = [space.depth.name, *(space.width_name(i) for i in range(space.depth.high))]
    names += [space.optimizer.name, space.learning_rate.name]
    columns = [visited_values(space.depth)]
    columns += [visited_values(space.width)] * space.depth.high
    columns += [visited_values(space.optimizer), visited_values(space.learning_rate)]
    return {active_key(space, dict(zip(names, row))) for row in itertools.product(*columns)}


def check_grid_size(space: Space) -> None:
    """``Space.grid_size`` and ``grid_points`` agree with the independent count, and points never repeat."""
    expected = independent_grid(space)
    points = [active_key(space, p) for p in space.grid_points()]
    assert len(points) == len(set(points)), "grid_points repeats a point"
    assert set(points) == expected, "grid_points visits other points than the declaration's grid"
    assert space.grid_size() == len(expected), f"grid_size {space.grid_size()}, counted {len(expected)}"


def check_grid_search(space: Space, proposed: Sequence[Mapping[str, Any]], budget: Budget) -> None:
    """Grid never proposes a point twice, only grid points, and all of them when the budget allows."""
    keys = [active_key(space, p) for p in proposed]
    repeated = [k for k, n in Counter(keys).items() if n > 1]
    assert not repeated, f"grid proposed {len(repeated)} point(s) twice, e.g. {dict(repeated[0])}"
    grid = independent_grid(space)
    outside = [k for k in keys if k not in grid]
    assert not outside, f"not a grid point: {dict(outside[0])}"
    if budget.trials >= len(grid):
        assert len(keys) == len(grid), f"grid covered {len(keys)} of {len(grid)} points with budget for {budget.trials}"


# -- one search ----------------------------------------------------------------------


def synthetic_search(strategy: Strategy, space: Space, budget: Budget, seed: int, directory: str) -> SearchLoop:
    """Run ``strategy``'s oracle against the synthetic objective; return the finished loop."""
    loop = SearchLoop(strategy.make_oracle(space, budget, seed), SyntheticObjective(space), space, budget, directory)
    loop.search()
    return loop


def run_search(strategy: Strategy, space: Space, budget: Budget, seed: int) -> SearchLoop:
    """One search of ``strategy`` against the synthetic objective, in a throwaway directory."""
    with tempfile.TemporaryDirectory(prefix="prop-") as directory:
        return synthetic_search(strategy, space, budget, seed, directory)


def proposals(search: SearchLoop) -> list[dict[str, Any]]:
    """What the oracle proposed, as it proposed it (``tuner/*`` bookkeeping included), before the loop filters it."""
    return [dict(t.hyperparameters.values) for t in search.oracle.trials.values()]


def hyperparameters_only(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if not k.startswith("tuner/")}


def check_no_inactive(space: Space, values: Mapping[str, Any]) -> None:
    """Only the active hyperparameters are reported: no width of a layer the depth does not reach."""
    hps = hyperparameters_only(values)
    depth = hps.get(space.depth.name)
    assert isinstance(depth, int), f"{space.depth.name}={depth!r}"
    active = {space.depth.name, space.optimizer.name, space.learning_rate.name}
    active |= {space.width_name(i) for i in range(depth)}
    extra = sorted(set(hps) - active)
    assert not extra, f"reported inactive or unknown {extra} with {space.depth.name}={depth}"
    missing = sorted(active - set(hps))
    assert not missing, f"active {missing} not reported"


def _in_int(p: Int, v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and p.low <= v <= p.high and (v - p.low) % p.step == 0


def check_in_space(space: Space, values: Mapping[str, Any]) -> None:
    """Every value lies in the declaration: bounds, step multiples, options, lr range; and validate agrees."""
    hps = hyperparameters_only(values)
    depth = hps[space.depth.name]
    assert _in_int(space.depth, depth), f"{space.depth.name}={depth!r} outside the declaration"
    for i in range(depth):
        w = hps[space.width_name(i)]
        assert _in_int(space.width, w), f"{space.width_name(i)}={w!r} is not {space.width.allowed()}"
    assert hps[space.optimizer.name] in space.optimizer.options, f"{space.optimizer.name}={hps[space.optimizer.name]!r}"
    lr = hps[space.learning_rate.name]
    assert isinstance(lr, (int, float)) and not isinstance(lr, bool), f"{space.learning_rate.name}={lr!r}"
    assert space.learning_rate.low <= lr <= space.learning_rate.high, f"{space.learning_rate.name}={lr!r} out of range"
    space.validate(hps)


def check_budget(search: SearchLoop, budget: Budget) -> None:
    """Epochs trained never exceed the budget; nor do trials, for a strategy that trains every trial fully."""
    records = search.records
    # A pruning oracle (ASHA, BOHB) stops trials early, and the epochs they save pay for more trials.
    multi_fidelity = any("tuner/epochs" in p for p in proposals(search)) or getattr(search.oracle, "prunes", False)
    if not multi_fidelity:  # fixed fidelity: every trial is a full one, so the trial count is the budget's
        assert len(records) <= budget.trials, f"ran {len(records)} trials of {budget.trials}"
    assert search.epochs_used == sum(r.epochs for r in records), "epochs_used is not the sum of the trials' epochs"
    assert search.epochs_used <= budget.epoch_budget, f"trained {search.epochs_used} epochs of {budget.epoch_budget}"
    for r in records:
        assert 0 <= r.initial_epoch and r.initial_epoch + r.epochs <= budget.epochs, (
            f"trial {r.trial_id} trained epochs {r.initial_epoch}..{r.initial_epoch + r.epochs} past {budget.epochs}"
        )


def sequence(search: SearchLoop) -> Sequence_:
    """What a search tried, in order, and at what fidelity: compared across seeds."""
    return [(r.hyperparameters, r.initial_epoch, r.epochs) for r in search.records]


def check_same_sequence(first: Sequence_, second: Sequence_, why: str = "same seed") -> None:
    """The same seed (or, for a non-stochastic strategy, any seed) gives the same configurations in the same order."""
    assert first == second, f"{why}, different sequences"


def check_sequences_differ(first: Sequence_, second: Sequence_) -> None:
    """Different seeds give different sequences (for a stochastic strategy)."""
    assert first != second, "different seeds, same sequence: is the seed ignored?"


def check_best(search: SearchLoop) -> None:
    """The best trial reported is the one with the maximum validation score."""
    scores = [r.score for r in search.records if r.status == "COMPLETED" and r.val_accuracy]
    best = search.best()
    if not scores:
        assert best is None or not best.val_accuracy
        return
    assert best is not None, "no best trial reported"
    assert best.score == max(scores), f"best reported {best.score}, maximum {max(scores)}"
    assert search.best_score() == max(scores)


def check_search(space: Space, search: SearchLoop, budget: Budget) -> None:
    """Every per-search property: proposals in the space, none inactive, the budget held, the best right."""
    for values in proposals(search):
        check_no_inactive(space, values)
        check_in_space(space, values)
    for r in search.records:
        check_no_inactive(space, r.hyperparameters)
    check_budget(search, budget)
    check_best(search)


# -- distributions ----------------------------------------------------------------------


def check_uniform(draws: Iterable[Any], support: Sequence[Any], alpha: float = ALPHA) -> float:
    """Pearson chi-square: the draws are uniform over ``support``. Returns the p-value."""
    counts = Counter(draws)
    outside = set(counts) - set(support)
    assert not outside, f"drew values outside the support: {sorted(outside)}"
    observed = [counts[v] for v in support]
    p = float(stats.chisquare(observed).pvalue)
    assert p >= alpha, f"not uniform over {list(support)}: counts {observed}, p={p:.2g} < {alpha}"
    return p


def check_log_uniform(draws: Sequence[float], low: float, high: float, alpha: float = ALPHA) -> float:
    """Kolmogorov-Smirnov: log(draws) is uniform on [log low, log high]. Returns the p-value."""
    assert all(low <= x <= high for x in draws), "drew outside the bounds"
    logs = [math.log(x) for x in draws]
    p = float(stats.kstest(logs, stats.uniform(math.log(low), math.log(high) - math.log(low)).cdf).pvalue)
    assert p >= alpha, f"not log-uniform on [{low:g}, {high:g}]: KS p={p:.2g} < {alpha}"
    return p


def draw_from_oracle(oracle: Any, n: int) -> list[dict[str, Any]]:
    """``n`` proposals straight from an oracle's sampler, none of them run (no training, no dedup history)."""
    out = []
    for i in range(n):
        response = oracle.populate_space(str(i))
        assert response.get("values") is not None, f"the oracle stopped after {i} draws"
        out.append(response["values"])
    return out


def check_random_sampler(space: Space, draws: Sequence[Mapping[str, Any]], alpha: float = ALPHA) -> None:
    """Depth, the first width and the optimizer uniform, the learning rate log-uniform (or uniform)."""
    check_uniform([d[space.depth.name] for d in draws], space.depth.values(), alpha)
    check_uniform([d[space.width_name(0)] for d in draws], space.width.values(), alpha)
    check_uniform([d[space.optimizer.name] for d in draws], space.optimizer.options, alpha)
    lrs = [d[space.learning_rate.name] for d in draws]
    lr = space.learning_rate
    if lr.log:
        check_log_uniform(lrs, lr.low, lr.high, alpha)
    else:
        p = float(stats.kstest(lrs, stats.uniform(lr.low, lr.high - lr.low).cdf).pvalue)
        assert p >= alpha, f"learning rate not uniform: KS p={p:.2g}"
