"""Search spaces as data: the hyperparameter types, what every space offers (``SearchSpace``), and
the dense-stack space of the seed problem (``Space``).

A problem (``tuning.problems``) owns its space.  Everything generic - the
strategies' Keras Tuner declaration, validation, a configuration's key, the
unit-cube draws a replay table is recorded on, the grid - goes through the
``SearchSpace`` interface; only a problem's own model builder knows what its
hyperparameters mean.  This module is pure data: it imports neither Keras nor
Keras Tuner.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

Config = dict[str, Any]


class SpaceError(ValueError):
    """A space declaration or a configuration that does not fit the space."""


@dataclass(frozen=True)
class Int:
    """An integer hyperparameter on ``low, low+step, ..., high``."""

    name: str
    low: int
    high: int
    step: int = 1
    grid: tuple[int, ...] | None = None  # the grid strategy's values; None = every value

    def __post_init__(self) -> None:
        if self.step <= 0:
            raise SpaceError(f"{self.name}: step must be positive, got {self.step}")
        if self.low > self.high:
            raise SpaceError(f"{self.name}: min {self.low} > max {self.high}")
        if (self.high - self.low) % self.step:
            raise SpaceError(f"{self.name}: max {self.high} is not min {self.low} plus a multiple of step {self.step}")
        _check_grid(self)

    def values(self) -> tuple[int, ...]:
        return tuple(range(self.low, self.high + 1, self.step))

    def contains(self, value: Any) -> bool:
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and self.low <= value <= self.high
            and (value - self.low) % self.step == 0
        )

    def allowed(self) -> str:
        return f"an integer in [{self.low}, {self.high}] in steps of {self.step}"


@dataclass(frozen=True)
class Float:
    """A real hyperparameter on ``[low, high]``, log-uniform when ``log``."""

    name: str
    low: float
    high: float
    log: bool = False
    grid: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise SpaceError(f"{self.name}: bounds must be finite")
        if self.low > self.high:
            raise SpaceError(f"{self.name}: min {self.low} > max {self.high}")
        if self.log and self.low <= 0:
            raise SpaceError(f"{self.name}: log sampling needs min > 0, got {self.low}")
        _check_grid(self)

    def values(self) -> tuple[float, ...]:
        """The grid's values: a real hyperparameter has no finite set of its own."""
        if self.grid is None:
            raise SpaceError(f"{self.name} is a continuous Float with no declared grid values")
        return self.grid

    def contains(self, value: Any) -> bool:
        return (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            and math.isfinite(value)
            and self.low <= value <= self.high
        )

    def allowed(self) -> str:
        return f"a number in [{self.low:g}, {self.high:g}]"


Scalar = str | int | float | bool


@dataclass(frozen=True)
class Choice:
    """A categorical hyperparameter (options of one scalar type, as Keras Tuner's ``Choice`` takes)."""

    name: str
    options: tuple[Scalar, ...]
    grid: tuple[Scalar, ...] | None = None

    def __post_init__(self) -> None:
        if not self.options:
            raise SpaceError(f"{self.name}: a choice needs at least one option")
        if len(set(self.options)) != len(self.options):
            raise SpaceError(f"{self.name}: options repeat: {self.options}")
        _check_grid(self)

    def values(self) -> tuple[Scalar, ...]:
        return self.options

    def contains(self, value: Any) -> bool:
        return any(type(value) is type(option) and value == option for option in self.options)

    def allowed(self) -> str:
        return "one of " + ", ".join(value_text(o) for o in self.options)


Param = Int | Float | Choice


def _check_grid(param: Param) -> None:
    if param.grid is None:
        return
    if not param.grid:
        raise SpaceError(f"{param.name}: an empty grid")
    if len(set(param.grid)) != len(param.grid):
        raise SpaceError(f"{param.name}: grid values repeat: {param.grid}")
    for v in param.grid:
        if not param.contains(v):
            raise SpaceError(f"{param.name}: grid value {v!r} is not {param.allowed()}")


def value_text(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


def param_from_unit(param: Param, u: float) -> Any:
    if isinstance(param, Float):
        if param.log:
            value = math.exp(math.log(param.low) + u * (math.log(param.high) - math.log(param.low)))
        else:
            value = param.low + u * (param.high - param.low)
        return min(max(value, param.low), param.high)  # rounding must not step outside
    options = param.values()
    return options[min(int(u * len(options)), len(options) - 1)]


def space_from_unit(space: SearchSpace, point: Sequence[float]) -> Config:
    """The configuration of ``space`` at ``point`` of the unit cube: one coordinate per ``params()`` entry,
    integers and choices by equal-width bins, floats uniformly (log-uniformly when ``log``); the
    coordinates of inactive hyperparameters are ignored."""
    params = space.params()
    if len(point) != len(params):
        raise SpaceError(f"a point of the unit cube needs {len(params)} coordinates, got {len(point)}")
    if not all(0.0 <= u <= 1.0 for u in point):
        raise SpaceError(f"coordinates must lie in [0, 1], got {list(point)}")
    values = {p.name: param_from_unit(p, u) for p, u in zip(params, point)}
    return space.validate(space.active_values(values))


def grid_values(param: Param) -> tuple[Any, ...]:
    """The values the grid strategy visits for ``param``, in visiting order."""
    return param.grid if param.grid is not None else param.values()


@runtime_checkable
class SearchSpace(Protocol):
    """What every space offers the strategies, the loop, the result files and the replay table.

    A space may also define ``keras_tuner_hyperparameters(grid: bool)`` returning its own Keras Tuner
    declaration (a user's model's space is discovered as one); without it,
    ``tuning.strategies.keras_tuner_space`` declares ``params()`` with the space's conditions.
    """

    def params(self) -> list[Param]:
        """Every hyperparameter, in declaration order, conditional ones included."""
        ...

    def active_names(self, config: Mapping[str, Any]) -> list[str]:
        """The hyperparameters active under ``config``, in declaration order."""
        ...

    def active_values(self, values: Mapping[str, Any]) -> Config:
        """Keep only the active hyperparameters of ``values`` (drops ``tuner/*`` and strays)."""
        ...

    def validate(self, config: Mapping[str, Any]) -> Config:
        """``config`` as a plain dict, or ``SpaceError`` naming the fault (never clips)."""
        ...

    def key(self, config: Mapping[str, Any]) -> str:
        """One configuration's canonical name: its active values in declaration order."""
        ...

    def dimensions(self) -> int:
        """Coordinates of ``from_unit``."""
        ...

    def from_unit(self, point: Sequence[float]) -> Config:
        """The configuration at ``point`` of the unit cube."""
        ...

    def grid_size(self) -> int:
        """Points of the declared grid; ``SpaceError`` saying why when the space has no finite grid."""
        ...

    def to_json(self) -> dict[str, Any]:
        """The space as data, for a work folder's fingerprint and a result's provenance."""
        ...


@dataclass(frozen=True)
class Space:
    """A stack of ``depth`` dense layers, each ``width`` wide, and an optimizer.

    ``width`` is a template: layer ``i`` gets the hyperparameter
    ``f"{width.name}_{i}"``, active only when ``depth > i``.
    """

    depth: Int
    width: Int
    optimizer: Choice
    learning_rate: Float
    batch_size: int = 32
    inputs: int = 784
    classes: int = 10
    hidden_activation: str = "relu"
    loss: str = "sparse_categorical_crossentropy"
    optimizers: Mapping[str, str] = field(default_factory=lambda: {"adam": "Adam", "sgd": "SGD", "rmsprop": "RMSprop"})

    def __post_init__(self) -> None:
        if self.depth.low < 1:
            raise SpaceError(f"{self.depth.name}: at least one hidden layer, got min {self.depth.low}")
        if self.width.low < 1:  # Keras refuses a Dense layer of 0 units: such configs could not be built
            raise SpaceError(f"{self.width.name}: a layer needs at least one unit, got min {self.width.low}")
        if self.learning_rate.low <= 0:  # Keras trains with lr <= 0 without a word: it would not learn, or diverge
            raise SpaceError(
                f"{self.learning_rate.name}: a learning rate must be positive, got min {self.learning_rate.low:g}"
            )
        unknown = set(self.optimizer.options) - set(self.optimizers)
        if unknown:
            raise SpaceError(f"{self.optimizer.name}: no Keras optimizer for {sorted(unknown)}")
        if self.batch_size < 1:
            raise SpaceError(f"batch_size must be positive, got {self.batch_size}")

    # -- names -------------------------------------------------------------
    def width_name(self, layer: int) -> str:
        return f"{self.width.name}_{layer}"

    def params(self) -> list[Param]:
        """Every hyperparameter, in declaration order, conditional ones included."""
        widths = [
            Int(self.width_name(i), self.width.low, self.width.high, self.width.step, self.width.grid)
            for i in range(self.depth.high)
        ]
        return [self.depth, *widths, self.optimizer, self.learning_rate]

    def active_names(self, config: Mapping[str, Any]) -> list[str]:
        layers = config[self.depth.name]
        return [
            self.depth.name,
            *(self.width_name(i) for i in range(layers)),
            self.optimizer.name,
            self.learning_rate.name,
        ]

    def widths(self, config: Mapping[str, Any]) -> list[int]:
        return [config[self.width_name(i)] for i in range(config[self.depth.name])]

    # -- validation ----------------------------------------------------------
    def validate(self, config: Mapping[str, Any]) -> Config:
        """Return ``config`` as a plain dict, or raise ``SpaceError`` naming the fault.

        Never clips: an out-of-range value is an error, and so is an inactive
        width given alongside the active ones.
        """
        config = dict(config)
        if not self.depth.contains(config.get(self.depth.name)):
            raise SpaceError(f"{self.depth.name}={config.get(self.depth.name)!r}: must be {self.depth.allowed()}")
        active = self.active_names(config)
        known = {p.name: p for p in self.params()}
        for name in config:
            if name not in known:
                raise SpaceError(f"unknown hyperparameter {name!r}; known: {', '.join(known)}")
            if name not in active:
                raise SpaceError(
                    f"{name} is inactive with {self.depth.name}={config[self.depth.name]}; give only {', '.join(active)}"
                )
        for name in active:
            if name not in config:
                raise SpaceError(f"{name} is missing; an active hyperparameter needs a value")
            if not known[name].contains(config[name]):
                raise SpaceError(f"{name}={config[name]!r}: must be {known[name].allowed()}")
        return config

    def active_values(self, values: Mapping[str, Any]) -> Config:
        """Keep only this space's active hyperparameters (drops ``tuner/*`` and strays)."""
        return {name: values[name] for name in self.active_names(values)}

    def key(self, config: Mapping[str, Any]) -> str:
        """One configuration's canonical name, ``num_layers=1,units_0=64,optimizer=adam,learning_rate=0.001``:
        active values in declaration order, floats in their shortest exact form (a replay table's key)."""
        return ",".join(f"{name}={value_text(config[name])}" for name in self.active_names(config))

    # -- sampling --------------------------------------------------------------
    def dimensions(self) -> int:
        """Coordinates of ``from_unit``: one per hyperparameter, conditional widths included."""
        return len(self.params())

    def from_unit(self, point: Sequence[float]) -> Config:
        """The configuration at ``point`` of the unit cube (a Sobol or Latin-hypercube draw), one
        coordinate per ``params()`` entry: integers and choices by equal-width bins, floats
        uniformly (log-uniformly when ``log``).  Inactive widths' coordinates are ignored."""
        return space_from_unit(self, point)

    # -- grid ------------------------------------------------------------------
    def grid_points(self) -> Iterator[Config]:
        """Every grid configuration, in the order the grid strategy visits them.

        Odometer order, last hyperparameter fastest: for the shallowest net and
        the first width, all learning rates, then all optimizers, then widths,
        then depth.  Under a small budget the grid therefore spends its trials on
        what matters most for a short training run (optimizer and learning
        rate) on the cheapest architectures first.
        """
        for depth in grid_values(self.depth):
            widths = itertools.product(grid_values(self.width), repeat=depth)
            for ws in widths:
                for opt in grid_values(self.optimizer):
                    for lr in grid_values(self.learning_rate):
                        cfg: Config = {self.depth.name: depth}
                        cfg.update({self.width_name(i): w for i, w in enumerate(ws)})
                        cfg[self.optimizer.name] = opt
                        cfg[self.learning_rate.name] = lr
                        yield cfg

    def grid_size(self) -> int:
        w = len(grid_values(self.width))
        per_arch = len(grid_values(self.optimizer)) * len(grid_values(self.learning_rate))
        return sum(w**d for d in grid_values(self.depth)) * per_arch

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    # -- model arithmetic -----------------------------------------------------
    def parameter_count(self, config: Mapping[str, Any]) -> int:
        """Weights and biases of the dense stack, in closed form."""
        sizes = [self.inputs, *self.widths(config), self.classes]
        return sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))

    def multiply_adds(self, config: Mapping[str, Any]) -> int:
        """Multiply-adds of one sample's forward pass through the dense layers."""
        sizes = [self.inputs, *self.widths(config), self.classes]
        return sum(a * b for a, b in zip(sizes, sizes[1:]))
