"""A search space discovered from Keras Tuner: the ``HyperParameters`` a user's ``build_model(hp)`` declares.

The strategies get the declaration itself (``keras_tuner_hyperparameters``),
so every oracle sees the user's own hyperparameters with their sampling,
steps, defaults and conditional scopes.  The rest of the ``SearchSpace``
interface (validation, a configuration's key, unit-cube draws, the grid) is
derived from it with Keras Tuner's own notion of an active hyperparameter:
every condition of its conditional scopes holds.

The grid: Keras Tuner's GridSearch walks every value of an ``Int``, a
``Choice``, a ``Boolean`` and a ``Float`` with a step.  A continuous
``Float`` has no grid of its own; a problem may declare values for it (or
narrow any other hyperparameter) in ``grid``, and without one the grid
strategy refuses the space, saying which hyperparameter needs values.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import keras_tuner as kt

from tuning.core.space import Choice, Config, Float, Int, Param, SpaceError, space_from_unit, value_text

_HP = kt.engine.hyperparameters


def _param(hp: Any, grid: Sequence[Any] | None) -> Param:
    """The core view of one Keras Tuner hyperparameter (the oracles never see it: they get ``hp`` itself)."""
    values = tuple(grid) if grid is not None else None
    if isinstance(hp, _HP.Fixed):
        return Choice(hp.name, (hp.value,))
    if isinstance(hp, _HP.Boolean):
        return Choice(hp.name, (False, True), grid=values)
    if isinstance(hp, _HP.Choice):
        return Choice(hp.name, tuple(hp.values), grid=values)
    if isinstance(hp, _HP.Int):
        if hp.sampling == "log" and hp.step not in (None, 1):
            options = tuple(int(v) for v in hp.values())
            return Choice(hp.name, options, grid=values)
        return Int(hp.name, hp.min_value, hp.max_value, hp.step or 1, grid=values)
    if isinstance(hp, _HP.Float):
        stepped = tuple(float(v) for v in hp.values()) if hp.step is not None else None
        return Float(hp.name, hp.min_value, hp.max_value, log=hp.sampling == "log", grid=values or stepped)
    raise SpaceError(f"{hp.name}: no search-space type for Keras Tuner's {type(hp).__name__}")


class KerasTunerSpace:
    """A ``SearchSpace`` over a Keras Tuner ``HyperParameters`` declaration."""

    def __init__(self, hp: kt.HyperParameters, grid: Mapping[str, Sequence[Any]] | None = None) -> None:
        if not hp.space:
            raise SpaceError("the model declares no hyperparameters: nothing to search")
        self._config = hp.get_config()
        self.grid = {name: list(values) for name, values in (grid or {}).items()}
        names = [p.name for p in hp.space]
        unknown = sorted(set(self.grid) - set(names))
        if unknown:
            raise SpaceError(
                f"grid values for {', '.join(unknown)}, which the model does not declare; it declares {', '.join(names)}"
            )
        self._hps = list(hp.space)
        self._params = [_param(p, self.grid.get(p.name)) for p in self._hps]

    # -- the declaration ---------------------------------------------------------
    def keras_tuner_hyperparameters(self, grid: bool = False) -> kt.HyperParameters:
        """A fresh copy of the declaration; with ``grid`` each hyperparameter given grid values becomes an
        ordered ``Choice`` over them (``SpaceError`` if one has no finite grid)."""
        config = {
            "space": [dict(e, config=dict(e["config"])) for e in self._config["space"]],
            "values": dict(self._config["values"]),
        }
        if grid:
            self.grid_size()  # refuses a space without a finite grid, naming the hyperparameter
            for i, entry in enumerate(config["space"]):
                name = entry["config"]["name"]
                if name in self.grid:
                    values = self.grid[name]
                    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
                    config["space"][i] = {
                        "class_name": "Choice",
                        "config": {
                            "name": name,
                            "default": values[0],
                            "conditions": entry["config"]["conditions"],
                            "values": values,
                            "ordered": numeric,
                        },
                    }
                    if name in config["values"]:
                        config["values"][name] = values[0]
        return kt.HyperParameters.from_config(config)

    # -- SearchSpace -----------------------------------------------------------------
    def params(self) -> list[Param]:
        return list(self._params)

    def _active(self, hp: Any, values: Mapping[str, Any]) -> bool:
        return all(condition.is_active(values) for condition in hp.conditions)

    def active_names(self, config: Mapping[str, Any]) -> list[str]:
        return [hp.name for hp in self._hps if self._active(hp, config)]

    def active_values(self, values: Mapping[str, Any]) -> Config:
        return {name: values[name] for name in self.active_names(values) if name in values}

    def validate(self, config: Mapping[str, Any]) -> Config:
        config = dict(config)
        known = {p.name: p for p in self._params}
        for name in config:
            if name not in known:
                raise SpaceError(f"unknown hyperparameter {name!r}; known: {', '.join(known)}")
        active = self.active_names(config)
        for name in config:
            if name not in active:
                raise SpaceError(f"{name} is inactive under this configuration; give only {', '.join(active)}")
        for name in active:
            if name not in config:
                raise SpaceError(f"{name} is missing; an active hyperparameter needs a value")
            if not known[name].contains(config[name]):
                raise SpaceError(f"{name}={config[name]!r}: must be {known[name].allowed()}")
        return config

    def log_sampled(self) -> set[str]:
        """Hyperparameters Keras Tuner samples on a log scale (an ``Int`` keeps no such flag in the core view)."""
        return {hp.name for hp in self._hps if getattr(hp, "sampling", None) == "log"}

    def conditional(self) -> set[str]:
        """Hyperparameters inside a conditional scope: those that can be inactive."""
        return {hp.name for hp in self._hps if hp.conditions}

    def key(self, config: Mapping[str, Any]) -> str:
        return ",".join(f"{name}={value_text(config[name])}" for name in self.active_names(config))

    def dimensions(self) -> int:
        return len(self._params)

    def from_unit(self, point: Sequence[float]) -> Config:
        return space_from_unit(self, point)

    def grid_size(self) -> int:
        """Points of the grid Keras Tuner's GridSearch walks: only active hyperparameters multiply."""
        counts = []
        for p in self._params:
            try:
                counts.append(len(p.values()))
            except SpaceError:
                raise SpaceError(
                    f"{p.name} is a continuous Float: the grid needs values for it (declare GRID = "
                    f"{{{p.name!r}: [...]}} in the model's module) or a step"
                ) from None
        parents = {c.name for hp in self._hps for c in hp.conditions}
        return self._count(0, (), tuple(counts), frozenset(parents))

    @functools.cache  # noqa: B019  (one space per problem, kept for the process)
    def _count(
        self, index: int, assigned: tuple[tuple[str, Any], ...], counts: tuple[int, ...], parents: frozenset[str]
    ) -> int:
        """Grid points from hyperparameter ``index`` on, given the values of the parents assigned so far."""
        if index == len(self._hps):
            return 1
        hp, param = self._hps[index], self._params[index]
        if not self._active(hp, dict(assigned)):
            return self._count(index + 1, assigned, counts, parents)
        if hp.name not in parents:  # nothing below depends on its value: multiply
            return counts[index] * self._count(index + 1, assigned, counts, parents)
        return sum(self._count(index + 1, (*assigned, (hp.name, v)), counts, parents) for v in param.values())

    def to_json(self) -> dict[str, Any]:
        return {"keras_tuner": self._config, "grid": self.grid}
