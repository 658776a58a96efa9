"""The registry: strategy name -> the module that defines it; and outside packages' strategies.

Modules are imported on demand, so listing strategies costs nothing and a
strategy whose optional dependency is missing still lists, as unavailable.
Outside packages add strategies through the entry-point group
``tuning.strategies``: an entry point names a ``Strategy``, or a module
exposing ``STRATEGY``.
"""

from __future__ import annotations

import functools
import importlib
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType

from tuning.strategies.base import Strategy

ENTRY_POINTS = "tuning.strategies"
REGISTRY: dict[str, str] = {
    "grid": "tuning.strategies.grid",
    "random": "tuning.strategies.random_search",
    "bayesian": "tuning.strategies.bayesian",
    "hyperband": "tuning.strategies.hyperband",
    "hypergradient": "tuning.strategies.hypergradient",
    "tpe": "tuning.strategies.tpe",
    "cmaes": "tuning.strategies.cma_es",
    "qmc": "tuning.strategies.qmc",
    "gp": "tuning.strategies.gp",
    "asha": "tuning.strategies.asha",
    "bohb": "tuning.strategies.bohb",
    "smac": "tuning.strategies.smac_hpo",
    "smac-mf": "tuning.strategies.smac_mf",
}


def _plugins() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINTS) if ep.name not in REGISTRY}


def names() -> list[str]:
    """Built-in strategies, then those outside packages add."""
    return [*REGISTRY, *sorted(_plugins())]


def get(name: str) -> Strategy:
    if name in REGISTRY:
        strategy = importlib.import_module(REGISTRY[name]).STRATEGY
        assert strategy.name == name, f"{REGISTRY[name]} defines {strategy.name!r}, registered as {name!r}"
        return strategy
    plugins = _plugins()
    if name not in plugins:
        raise KeyError(name)
    return _plugin(plugins[name])


@functools.cache
def _plugin(ep: EntryPoint) -> Strategy:
    target = ep.load()
    if isinstance(target, ModuleType):
        target = getattr(target, "STRATEGY", None)
    if not isinstance(target, Strategy):
        raise TypeError(f"entry point {ep.name} = {ep.value} is neither a Strategy nor a module defining STRATEGY")
    if target.name != ep.name:
        raise TypeError(f"entry point {ep.name} = {ep.value} defines a strategy named {target.name!r}")
    return target


def all_strategies() -> list[Strategy]:
    return [get(n) for n in names()]
