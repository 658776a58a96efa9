"""Hypothesis strategies that draw from a ``Space`` object, never from literals.

Everything here reads the declaration (depth bounds, width step, optimizer
options, the learning rate's bounds and log sampling), so a change to
``tuning.space.SPACE`` changes what the property tests draw without editing
them.  Also: small valid space declarations (for the grid's coverage),
invalid declarations, and small budgets.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st

from tuning.core.budget import Budget
from tuning.core.space import Choice, Config, Float, Int, Space
from tuning.problems.mnist_mlp import BUDGETS, SPACE

Draw = Callable[[st.SearchStrategy[Any]], Any]


def scaled_examples(fraction: float, at_least: int = 2) -> int:
    """A share of the loaded profile's ``max_examples``: expensive tests scale with the profile too."""
    return max(at_least, int(settings.default.max_examples * fraction))


# -- values of one hyperparameter -------------------------------------------------


def int_values(p: Int) -> st.SearchStrategy[int]:
    """``low + k * step``; shrinks towards ``low``."""
    return st.integers(0, (p.high - p.low) // p.step).map(lambda k: p.low + k * p.step)


def float_values(p: Float) -> st.SearchStrategy[float]:
    """Log-uniform in the exponent when ``p.log`` (every decade drawn alike), plus the bounds and grid."""
    if p.log:
        inner = st.floats(math.log(p.low), math.log(p.high)).map(math.exp)
    else:
        inner = st.floats(p.low, p.high)
    special = st.sampled_from(sorted({p.low, p.high, *(p.grid or ())}))
    # exp(log(x)) may round one ulp past a bound; such a draw is not in the space.
    return st.one_of(special, inner.filter(p.contains))


def choice_values(p: Choice) -> st.SearchStrategy[str]:
    return st.sampled_from(p.options)


# -- configurations ---------------------------------------------------------------


@st.composite
def configs(draw: Draw, space: Space = SPACE) -> Config:
    """Any valid configuration of ``space``: only the active widths, in declaration order."""
    depth = draw(int_values(space.depth))
    config: Config = {space.depth.name: depth}
    for i in range(depth):
        config[space.width_name(i)] = draw(int_values(space.width))
    config[space.optimizer.name] = draw(choice_values(space.optimizer))
    config[space.learning_rate.name] = draw(float_values(space.learning_rate))
    return config


def _below(p: Float) -> st.SearchStrategy[float]:
    return st.one_of(st.just(0.0), st.just(-p.low), st.floats(max_value=p.low, exclude_max=True, allow_nan=False))


def _above(p: Float) -> st.SearchStrategy[float]:
    return st.one_of(st.just(math.inf), st.floats(min_value=p.high, exclude_min=True, allow_nan=False))


def invalid_kinds(space: Space) -> list[str]:
    """The ways a configuration can be wrong for ``space`` (only those the declaration makes possible)."""
    kinds = [
        "width_below",
        "width_above",
        "width_not_int",
        "unknown_hp",
        "missing_hp",
        "optimizer_unknown",
        "lr_below",
        "lr_above",
        "lr_not_number",
        "depth_below",
        "depth_above",
        "depth_not_int",
    ]
    if space.width.step > 1:
        kinds.append("width_off_step")
    if space.depth.step > 1:
        kinds.append("depth_off_step")
    if space.depth.low < space.depth.high:
        kinds.append("inactive_width")
    return kinds


@st.composite
def invalid_configs(draw: Draw, space: Space = SPACE) -> tuple[str, Config]:
    """(what is wrong, a configuration) - a valid draw with exactly one fault put in."""
    config = draw(configs(space))
    kind = draw(st.sampled_from(invalid_kinds(space)))
    depth_name, opt, lr = space.depth.name, space.optimizer.name, space.learning_rate.name
    depth = config[depth_name]
    layer = space.width_name(draw(st.integers(0, depth - 1)))
    w, d = space.width, space.depth
    if kind == "width_off_step":
        k = draw(st.integers(0, (w.high - w.low) // w.step - 1)) if w.high > w.low else 0
        config[layer] = w.low + k * w.step + draw(st.integers(1, w.step - 1))
    elif kind == "width_below":
        config[layer] = w.low - draw(st.integers(1, 10**6))
    elif kind == "width_above":
        config[layer] = w.high + draw(st.integers(1, 10**6))
    elif kind == "width_not_int":
        config[layer] = draw(st.sampled_from([float(config[layer]), str(config[layer]), True, None]))
    elif kind == "inactive_width":
        if depth > d.low:  # drop a layer but keep its width: now inactive
            config[depth_name] = depth - d.step
        else:  # give the width of a layer the depth does not reach
            config[space.width_name(depth)] = draw(int_values(w))
    elif kind == "unknown_hp":
        name = draw(st.sampled_from([space.width_name(d.high), "dropout", "tuner/epochs", w.name]))
        config[name] = 1
    elif kind == "missing_hp":
        del config[draw(st.sampled_from([layer, opt, lr]))]
    elif kind == "optimizer_unknown":
        near_misses = [o.upper() for o in space.optimizer.options] + [o + " " for o in space.optimizer.options]
        config[opt] = draw(
            st.one_of(st.sampled_from(near_misses + ["adagrad", ""]), st.text(max_size=8)).filter(
                lambda s: s not in space.optimizer.options
            )
        )
    elif kind == "lr_below":
        config[lr] = draw(_below(space.learning_rate))
    elif kind == "lr_above":
        config[lr] = draw(_above(space.learning_rate))
    elif kind == "lr_not_number":
        config[lr] = draw(st.sampled_from([math.nan, str(config[lr]), None, True]))
    elif kind in ("depth_below", "depth_above", "depth_off_step"):
        if kind == "depth_below":
            new = d.low - draw(st.integers(1, 10))
        elif kind == "depth_above":
            new = d.high + draw(st.integers(1, 10))
        else:
            new = d.low + draw(st.integers(1, d.step - 1))
        config = {
            depth_name: new,
            **{space.width_name(i): w.low for i in range(max(new, 0))},
            opt: config[opt],
            lr: config[lr],
        }
    elif kind == "depth_not_int":
        config[depth_name] = draw(st.sampled_from([float(depth), str(depth), None]))
    return kind, config


def edge_cases(space: Space = SPACE) -> list[tuple[str, Config]]:
    """The issue's named faults, derived from ``space`` (units 33, lr 1e-5, num_layers 0 and 6 for SPACE)."""
    d, w, o, lr = space.depth, space.width, space.optimizer, space.learning_rate
    base: Config = {d.name: d.low, **{space.width_name(i): w.low for i in range(d.low)}}
    base |= {o.name: o.options[0], lr.name: lr.low}
    first = space.width_name(0)
    cases = [
        ("width_below", {**base, first: w.low - w.step}),
        ("width_above", {**base, first: w.high + w.step}),
        ("inactive_width", {**base, space.width_name(d.low): w.low}),
        ("optimizer_unknown", {**base, o.name: "adagrad" if "adagrad" not in o.options else "nadam"}),
        ("lr_below", {**base, lr.name: lr.low / 10}),
        ("lr_above", {**base, lr.name: lr.high * 10}),
        ("lr_just_above", {**base, lr.name: math.nextafter(lr.high, math.inf)}),
        ("depth_below", {**base, d.name: d.low - 1}),
        ("depth_above", {**base, d.name: d.high + 1, **{space.width_name(i): w.low for i in range(d.high + 1)}}),
    ]
    if w.step > 1:
        cases.append(("width_off_step", {**base, first: w.low + 1}))
    return cases


# -- space declarations -----------------------------------------------------------

KNOWN_OPTIMIZERS = tuple(SPACE.optimizers)


@st.composite
def small_spaces(draw: Draw, max_points: int = 36) -> Space:
    """A valid space whose grid has at most ``max_points`` points, with drawn names, bounds, steps and grids."""
    names = draw(st.sampled_from([("num_layers", "units", "optimizer", "learning_rate"), ("depth", "w", "opt", "lr")]))
    options = tuple(draw(st.permutations(KNOWN_OPTIMIZERS)))[: draw(st.integers(1, len(KNOWN_OPTIMIZERS)))]
    opt_grid = draw(st.none() | st.permutations(options).map(tuple).map(lambda t: t[: max(1, len(t) - 1)]))
    optimizer = Choice(names[2], options, opt_grid)

    low = 10.0 ** draw(st.integers(-6, -2))
    high = low * 10.0 ** draw(st.integers(0, 3))
    lr_points = sorted({low, high, math.sqrt(low * high)})
    lr_grid = tuple(draw(st.lists(st.sampled_from(lr_points), min_size=1, max_size=2, unique=True)))
    learning_rate = Float(names[3], low, high, log=draw(st.booleans()), grid=lr_grid)

    d_low = draw(st.integers(1, 2))
    depth = Int(names[0], d_low, draw(st.integers(d_low, 3)))
    depth_grid = draw(st.none() | st.lists(st.sampled_from(depth.values()), min_size=1, unique=True).map(tuple))
    depth = Int(depth.name, depth.low, depth.high, grid=depth_grid)
    depths = depth_grid if depth_grid is not None else depth.values()

    per_arch = len(opt_grid or options) * len(lr_grid)
    widest = max(n for n in range(1, 5) if sum(n**k for k in depths) * per_arch <= max_points or n == 1)
    step = draw(st.sampled_from([1, 8, 16, 32]))
    w_low = step * draw(st.integers(1, 4))
    n = draw(st.integers(1, 4))
    width = Int(names[1], w_low, w_low + step * (n - 1), step)
    if n > widest or draw(st.booleans()):
        k = draw(st.integers(1, min(n, widest)))
        width = Int(width.name, width.low, width.high, width.step, tuple(draw(st.permutations(width.values()))[:k]))
    return Space(depth=depth, width=width, optimizer=optimizer, learning_rate=learning_rate)


def spaces() -> st.SearchStrategy[Space]:
    """The declared space itself or a small drawn one."""
    return st.one_of(st.just(SPACE), small_spaces())


@st.composite
def invalid_declarations(draw: Draw) -> tuple[str, Callable[[], Any]]:
    """(what is wrong, a call that declares it) - each must raise ``SpaceError``."""
    n = st.integers(-100, 100)
    kind = draw(
        st.sampled_from(
            [
                "int_min_gt_max",
                "int_step_not_positive",
                "int_max_off_step",
                "float_min_gt_max",
                "float_log_min_not_positive",
                "float_not_finite",
                "choice_empty",
                "choice_repeats",
                "grid_value_outside",
                "grid_empty",
                "space_no_layers",
                "space_width_not_positive",
                "space_lr_not_positive",
                "space_unknown_optimizer",
            ]
        )
    )
    if kind == "int_min_gt_max":
        low, gap, step = draw(n), draw(st.integers(1, 100)), draw(st.integers(1, 5))
        return kind, lambda: Int("x", low, low - gap, step)
    if kind == "int_step_not_positive":
        low, span, step = draw(n), draw(st.integers(0, 100)), draw(st.integers(-5, 0))
        return kind, lambda: Int("x", low, low + span, step=step)
    if kind == "int_max_off_step":
        low, step, k = draw(n), draw(st.integers(2, 32)), draw(st.integers(0, 5))
        off = draw(st.integers(1, step - 1))
        return kind, lambda: Int("x", low, low + step * k + off, step)
    if kind == "float_min_gt_max":
        high = draw(st.floats(-1e6, 1e6))
        low = draw(st.floats(min_value=high, exclude_min=True, allow_infinity=False))
        return kind, lambda: Float("x", low, high, grid=(high,))
    if kind == "float_log_min_not_positive":
        low = draw(st.floats(-1e6, 0.0))
        high = low + draw(st.floats(0, 10))
        return kind, lambda: Float("x", low, high, log=True, grid=(high,))
    if kind == "float_not_finite":
        bad, both = draw(st.sampled_from([math.nan, math.inf, -math.inf])), draw(st.booleans())
        return kind, lambda: Float("x", bad if both else 0.0, bad, grid=(1.0,))
    if kind == "choice_empty":
        return kind, lambda: Choice("x", ())
    if kind == "choice_repeats":
        options = draw(st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=4))
        return kind, lambda: Choice("x", tuple(options + [options[0]]))
    if kind == "grid_value_outside":
        return kind, draw(
            st.sampled_from(
                [
                    lambda: Int("x", 32, 512, 32, grid=(64, 33)),
                    lambda: Float("x", 1e-4, 1e-2, log=True, grid=(1e-3, 1e-1)),
                    lambda: Choice("x", ("adam",), grid=("sgd",)),
                ]
            )
        )
    if kind == "grid_empty":
        return kind, lambda: Int("x", 1, 5, grid=())
    w, d, o, lr = SPACE.width, SPACE.depth, SPACE.optimizer, SPACE.learning_rate
    if kind == "space_no_layers":
        d_low = draw(st.integers(-5, 0))
        return kind, lambda: Space(Int(d.name, d_low, d.high), w, o, lr)
    if kind == "space_width_not_positive":
        w_low, k = draw(st.integers(-64, 0)), draw(st.integers(0, 4))
        return kind, lambda: Space(d, Int(w.name, w_low, w_low + 32 * k, 32), o, lr)
    if kind == "space_lr_not_positive":
        lr_low = draw(st.floats(-1.0, 0.0))
        return kind, lambda: Space(d, w, o, Float(lr.name, lr_low, 1e-2, grid=(1e-3,)))
    assert kind == "space_unknown_optimizer"
    return kind, lambda: Space(d, w, Choice(o.name, ("adam", "adagrad")), lr)


# -- budgets and seeds ------------------------------------------------------------


def budgets(max_trials: int = 8, max_epochs: int = 4) -> st.SearchStrategy[Budget]:
    """Small drawn budgets, and the named presets that fit under the same caps."""
    drawn = st.builds(
        Budget,
        name=st.just("drawn"),
        n_train=st.integers(1, 100),
        n_val=st.integers(1, 100),
        epochs=st.integers(1, max_epochs),
        trials=st.integers(1, max_trials),
        seeds=st.just((0,)),
    )
    presets = [b for b in BUDGETS.values() if b.trials <= max_trials and b.epochs <= max_epochs]
    return st.one_of(drawn, st.sampled_from(presets)) if presets else drawn


def seeds() -> st.SearchStrategy[int]:
    """Seeds as the CLI takes them: non-negative (Keras Tuner's seed is ``seed + 1``)."""
    return st.integers(0, 2**31 - 2)
