"""A user's own model as a problem: a Python file or an importable module with ``build_model`` and ``load_data``.

``build_model(hp)`` is the function a Keras Tuner user already has (the seed
example's): it declares hyperparameters on ``hp`` and returns a compiled
model.  ``load_data()`` returns ``(x_train, y_train), (x_test, y_test)`` as
``keras.datasets.*.load_data()`` does.  Optional: ``GRID`` (hyperparameter
name -> the values the grid strategy visits; a continuous ``Float`` needs
one), ``BATCH_SIZE`` (fit's batch size unless a hyperparameter named
``batch_size`` sets it; default 32), ``NAME`` (default: the file's stem) and
``SUMMARY``.  Every fault is refused with one line naming it
(``UsageError``) before anything is trained or written.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from tuning.core.errors import UsageError, last_line
from tuning.core.paths import portable
from tuning.problems.hypermodel import HyperModelProblem

NAME_RULE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")  # a results folder's name


def looks_like_module(reference: str) -> bool:
    """A file path (``my_model.py``, ``./models/m.py``) or a dotted module name (``my_package.model``)."""
    return (
        reference.endswith(".py")
        or "/" in reference
        or bool(re.fullmatch(r"[A-Za-z_][\w]*(\.[A-Za-z_]\w*)+", reference))
    )


def _import_file(path: Path) -> ModuleType:
    if not path.is_file():
        raise UsageError(f"problem file {path} does not exist")
    name = f"tuning_user_problem_{hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"problem file {path} is not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        sys.modules.pop(name, None)
        raise UsageError(
            f"problem file {path} does not import: {type(e).__name__}: {last_line(str(e)) or '(no message)'}"
        ) from None
    return module


def _import_module(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except Exception as e:
        raise UsageError(
            f"problem module {name} does not import: {type(e).__name__}: {last_line(str(e)) or '(no message)'}"
        ) from None


def load(reference: str) -> HyperModelProblem:
    """The problem a user's file or module defines (``UsageError`` with one line for every fault)."""
    is_file = reference.endswith(".py") or "/" in reference
    module = _import_file(Path(reference)) if is_file else _import_module(reference)
    return from_module(module, reference, Path(reference).stem if is_file else reference.rsplit(".", 1)[-1])


def from_module(module: ModuleType, reference: str, default_name: str) -> HyperModelProblem:
    """The problem ``module`` defines with ``build_model`` and ``load_data`` (see the module's docstring)."""
    where = reference
    missing = [f for f in ("build_model", "load_data") if not callable(getattr(module, f, None))]
    if missing:
        raise UsageError(
            f"{where} defines no {' and no '.join(missing)}; a problem module needs build_model(hp) and load_data()"
        )
    name = getattr(module, "NAME", None) or default_name
    if not isinstance(name, str) or not NAME_RULE.match(name):
        raise UsageError(f"{where}: NAME {name!r} is not a usable name (letters, digits, '.', '_', '-')")
    grid = getattr(module, "GRID", None) or {}
    if not isinstance(grid, dict) or not all(isinstance(v, (list, tuple)) and v for v in grid.values()):
        raise UsageError(f"{where}: GRID must map hyperparameter names to non-empty lists of values")
    batch_size = getattr(module, "BATCH_SIZE", 32)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise UsageError(f"{where}: BATCH_SIZE must be a positive integer, got {batch_size!r}")
    source: dict[str, Any] = {"module": reference}
    path = Path(module.__file__) if getattr(module, "__file__", None) else None
    if path is not None and path.is_file():
        source |= {"file": portable(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    summary = getattr(module, "SUMMARY", None) or f"a user's model ({reference})"
    return HyperModelProblem(name, str(summary), module.build_model, module.load_data, grid, batch_size, where, source)
