"""The registry: strategy name -> the module that defines it.

Modules are imported on demand, so listing strategies costs nothing and a
strategy whose optional dependency is missing still lists, as unavailable.
"""

from __future__ import annotations

import importlib

from tuning.strategies.base import Strategy

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


def names() -> list[str]:
    return list(REGISTRY)


def get(name: str) -> Strategy:
    if name not in REGISTRY:
        raise KeyError(name)
    strategy = importlib.import_module(REGISTRY[name]).STRATEGY
    assert strategy.name == name, f"{REGISTRY[name]} defines {strategy.name!r}, registered as {name!r}"
    return strategy


def all_strategies() -> list[Strategy]:
    return [get(n) for n in REGISTRY]
