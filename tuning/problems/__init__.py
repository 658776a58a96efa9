"""The registry: problem name -> the problem; a user's file or module; and outside packages' problems.

Built-in problems are modules exposing ``PROBLEM``, imported on demand.
Outside packages add problems through the entry-point group
``tuning.problems`` (an entry point names a ``Problem``, or a module with
``PROBLEM`` or with ``build_model`` and ``load_data``).  Anything else that
looks like a file path or a dotted module name is a user's own model
(``tuning.problems.user``).
"""

from __future__ import annotations

import functools
import importlib
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType

from tuning.core.errors import UsageError
from tuning.problems.base import Problem

DEFAULT = "mnist-mlp"
ENTRY_POINTS = "tuning.problems"
BUILTIN: dict[str, str] = {
    "mnist-mlp": "tuning.problems.mnist_mlp",
    "mnist-mlp-extended": "tuning.problems.mnist_extended",
}


def _plugins() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINTS) if ep.name not in BUILTIN}


def names() -> list[str]:
    """Built-in problems, then those outside packages add."""
    return [*BUILTIN, *sorted(_plugins())]


def get(reference: str) -> Problem:
    """The problem ``reference`` names: a registered name, or a user's file or module (``UsageError`` if none)."""
    from tuning.problems.user import looks_like_module

    if reference in BUILTIN:
        return _builtin(reference)
    plugins = _plugins()
    if reference in plugins:
        return _plugin(plugins[reference])
    if looks_like_module(reference):
        path = Path(reference)
        stamp = path.stat().st_mtime_ns if path.is_file() else None
        return _user(reference, stamp)
    raise UsageError(
        f"unknown problem {reference!r}; choose from {', '.join(names())}, or give a Python file "
        "(my_model.py) or module that defines build_model(hp) and load_data()"
    )


def portable(reference: str) -> str:
    """``reference`` as another process names it: a user's file by its absolute path, anything else as it is."""
    return str(Path(reference).resolve()) if reference.endswith(".py") or "/" in reference else reference


@functools.cache
def _builtin(name: str) -> Problem:
    problem = importlib.import_module(BUILTIN[name]).PROBLEM
    assert problem.name == name, f"{BUILTIN[name]} defines {problem.name!r}, registered as {name!r}"
    return problem


@functools.cache
def _plugin(ep: EntryPoint) -> Problem:
    from tuning.problems.user import from_module

    try:
        target = ep.load()
    except Exception as e:
        raise UsageError(f"problem {ep.name!r} ({ep.value}) does not load: {type(e).__name__}: {e}") from None
    if isinstance(target, Problem):
        return target
    if isinstance(target, ModuleType) and isinstance(getattr(target, "PROBLEM", None), Problem):
        return target.PROBLEM
    if isinstance(target, ModuleType):
        return from_module(target, ep.value, ep.name)
    raise UsageError(f"problem {ep.name!r} ({ep.value}) is neither a Problem nor a module defining one")


@functools.lru_cache(maxsize=8)
def _user(reference: str, stamp: int | None) -> Problem:
    from tuning.problems.user import load

    return load(reference)


def all_problems() -> list[Problem]:
    return [get(name) for name in names()]
