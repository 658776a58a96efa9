"""A problem made of a Keras Tuner hypermodel: ``build_model(hp)`` and ``load_data()``, as a Keras Tuner user has them.

The space is discovered from ``build_model`` through Keras Tuner's own
``HyperParameters``: built once with the defaults (a conditional scope
declares its hyperparameters whether or not it is active), then with the
largest values and a few random draws, so that a hyperparameter declared
only inside a plain loop (the seed example's ``for i in range(num_layers)``)
is found too.  The data are ``load_data()``'s two parts, as
``keras.datasets.*.load_data()`` returns them; validation is the last 20 %
of the training part, as ``validation_split=0.2`` takes it.

Budgets scale with the data: ``paper`` trains on the whole training part
(the seed example's protocol), ``standard`` on a quarter of it and of the
validation part, ``smoke`` on at most 2,000 and 1,000 of them; epochs of a
full trial are the seed problem's (2, 3, 10).  On MNIST's 60,000 images that
is exactly the seed problem's protocol.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tuning.core.budget import SEARCH, Budget, TrainingProtocol
from tuning.core.errors import UsageError, last_line
from tuning.core.space import SpaceError
from tuning.objectives.base import Objective
from tuning.problems.base import Problem

VALIDATION_SPLIT = 0.2  # the seed example's validation_split
EPOCHS = {"smoke": 2, "standard": 3, "paper": 10}
SMOKE_SIZES = (2_000, 1_000)  # at most this many training / validation rows at the smoke budget
STANDARD_FRACTION = 4  # standard trains on a quarter of the paper budget's rows
EXPLORE_BUILDS = 24  # random builds that look for hyperparameters a plain loop declares only when reached


@dataclass(frozen=True)
class Data:
    """``load_data()``'s arrays, checked: training and test parts with labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def digest(self) -> str:
        h = hashlib.sha256()
        for a in (self.x_train, self.y_train, self.x_test, self.y_test):
            h.update(str((a.shape, a.dtype.str)).encode())
            h.update(np.ascontiguousarray(a).tobytes())
        return h.hexdigest()


def check_data(loaded: Any, where: str) -> Data:
    """``load_data()``'s return value as checked arrays, or ``UsageError`` saying what is wrong and what is allowed."""
    shape = "((x_train, y_train), (x_test, y_test)) as keras.datasets.mnist.load_data() returns"
    try:
        (x_train, y_train), (x_test, y_test) = loaded
    except (TypeError, ValueError):
        raise UsageError(f"{where}: load_data() returned a {type(loaded).__name__}, expected {shape}") from None
    arrays = {}
    for name, value in (("x_train", x_train), ("y_train", y_train), ("x_test", x_test), ("y_test", y_test)):
        try:
            array = np.asarray(value)
        except Exception:
            array = np.asarray([object()])
        if array.dtype.kind not in "biuf" or array.ndim == 0:
            raise UsageError(
                f"{where}: load_data()'s {name} is not a numeric array (dtype {array.dtype}, shape {array.shape}); expected {shape}"
            )
        if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
            raise UsageError(f"{where}: load_data()'s {name} holds NaN or infinite values")
        arrays[name] = array
    for part in ("train", "test"):
        x, y = arrays[f"x_{part}"], arrays[f"y_{part}"]
        if len(x) != len(y):
            raise UsageError(f"{where}: load_data()'s x_{part} has {len(x)} rows but y_{part} has {len(y)}")
        if y.ndim > 2:
            raise UsageError(f"{where}: load_data()'s y_{part} has shape {y.shape}; expected labels or one-hot rows")
    if arrays["x_train"].shape[1:] != arrays["x_test"].shape[1:]:
        raise UsageError(
            f"{where}: load_data()'s x_train rows have shape {arrays['x_train'].shape[1:]}, x_test rows {arrays['x_test'].shape[1:]}"
        )
    if len(arrays["x_train"]) < 10 or len(arrays["x_test"]) < 1:
        raise UsageError(
            f"{where}: load_data() gave {len(arrays['x_train'])} training and {len(arrays['x_test'])} test rows; at least 10 and 1 are needed"
        )

    def floats(x: np.ndarray) -> np.ndarray:
        return x.astype(np.float32) if x.dtype.kind in "biu" or x.dtype != np.float32 else x

    return Data(floats(arrays["x_train"]), arrays["y_train"], floats(arrays["x_test"]), arrays["y_test"])


def protocols(n_rows: int) -> dict[str, TrainingProtocol]:
    """Each budget's training and validation rows for a training part of ``n_rows`` (see the module's docstring)."""
    n_val = max(1, int(n_rows * VALIDATION_SPLIT))
    n_train = n_rows - n_val
    sizes = {
        "smoke": (min(SMOKE_SIZES[0], n_train), min(SMOKE_SIZES[1], n_val)),
        "standard": (max(1, n_train // STANDARD_FRACTION), max(1, n_val // STANDARD_FRACTION)),
        "paper": (n_train, n_val),
    }
    return {name: TrainingProtocol(*sizes[name], EPOCHS[name]) for name in SEARCH}


class HyperModelProblem(Problem):
    """A problem from ``build_model(hp)`` and ``load_data()`` (a user's module, or a built-in defined that way)."""

    def __init__(
        self,
        name: str,
        summary: str,
        build_model: Callable[[Any], Any],
        load_data: Callable[[], Any],
        grid: Mapping[str, Sequence[Any]] | None = None,
        batch_size: int = 32,
        where: str | None = None,
        source: dict[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.summary = summary
        self.build_model = build_model
        self.load_data = load_data
        self.grid_values = dict(grid or {})
        self.batch_size = batch_size
        self.where = where or name
        self.source = source or {}

    # -- data and space, found once -------------------------------------------------
    @functools.cached_property
    def data(self) -> Data:
        try:
            loaded = self.load_data()
        except Exception as e:
            raise UsageError(
                f"{self.where}: load_data() raised {type(e).__name__}: {last_line(str(e)) or '(no message)'}"
            ) from None
        return check_data(loaded, self.where)

    @functools.cached_property
    def data_digest(self) -> str:
        return self.data.digest()

    @property
    def protocols(self) -> dict[str, TrainingProtocol]:  # type: ignore[override]
        return protocols(len(self.data.x_train))

    @functools.cached_property
    def space(self) -> Any:  # type: ignore[override]
        from tuning.problems.keras_space import KerasTunerSpace

        try:
            return KerasTunerSpace(self._discover(), self.grid_values)
        except SpaceError as e:
            raise UsageError(f"{self.where}: {e}") from None

    def _build(self, hp: Any) -> Any:
        import keras

        from tuning.objectives.live.hypermodel import keras_draws_from
        from tuning.objectives.live.train import clear_session

        clear_session()
        try:
            with keras_draws_from(0):
                model = self.build_model(hp)
        except Exception as e:
            raise UsageError(
                f"{self.where}: build_model(hp) raised {type(e).__name__}: {last_line(str(e)) or '(no message)'}"
            ) from None
        if not isinstance(model, keras.Model):
            raise UsageError(
                f"{self.where}: build_model(hp) returned {type(model).__name__}, expected a compiled keras.Model"
            )
        if getattr(model, "optimizer", None) is None or not getattr(model, "compiled", True):
            raise UsageError(
                f"{self.where}: build_model(hp) returned a model that is not compiled; call model.compile(optimizer=..., loss=...) before returning it"
            )
        return model

    def _discover(self) -> Any:
        """Every hyperparameter ``build_model`` declares (see the module's docstring)."""
        import keras_tuner as kt

        hp = kt.HyperParameters()
        model = self._build(hp)
        sample = self.data.x_train[:2]
        try:
            model(sample, training=False)
        except Exception as e:
            raise UsageError(
                f"{self.where}: the model of build_model(hp) cannot take load_data()'s x_train rows of shape {sample.shape[1:]}: {type(e).__name__}: {last_line(str(e)) or '(no message)'}"
            ) from None
        if not hp.space:
            raise UsageError(f"{self.where}: build_model(hp) declares no hyperparameters on hp: nothing to search")
        rng = np.random.default_rng(0)
        quiet, draws = 0, 0
        largest = True
        while quiet < 6 and draws < EXPLORE_BUILDS:
            trial = hp.copy()
            for p in hp.space:
                trial.values[p.name] = _largest(p) if largest else p.random_sample(int(rng.integers(2**31)))
            largest = False
            known = len(hp.space)
            self._build(trial)
            hp.merge(trial.space, overwrite=False)
            quiet = quiet + 1 if len(hp.space) == known else 0
            draws += 1
        return hp

    def check(self) -> None:
        self.space  # noqa: B018  (loads the data and builds the model: refuses bad input now)

    # -- objectives ---------------------------------------------------------------------
    def hyperparameters(self, config: Mapping[str, Any]) -> Any:
        hp = self.space.keras_tuner_hyperparameters()
        hp.values.update(config)
        return hp

    def live(
        self,
        budget: Budget,
        seed: int,
        training: str | None = None,
        weights_dir: Path | None = None,
        curves: bool = False,
    ) -> Objective:
        from tuning.objectives.live import backend
        from tuning.objectives.live.data import Split
        from tuning.objectives.live.hypermodel import HyperModelObjective
        from tuning.objectives.live.weights import TrialWeights

        if training is not None:
            raise UsageError(
                f"problem {self.name!r} trains with the optimizer its build_model compiles: no training variant {training!r}"
            )
        data = self.data
        n_rows = len(data.x_train)
        val_start = n_rows - max(1, int(n_rows * VALIDATION_SPLIT))
        split = Split(
            x_train=data.x_train[: budget.n_train],
            y_train=data.y_train[: budget.n_train],
            x_val=data.x_train[val_start : val_start + budget.n_val],
            y_val=data.y_train[val_start : val_start + budget.n_val],
            x_test=data.x_test,
            y_test=data.y_test,
            source=self.where,
            description={
                "dataset": self.name,
                "source": self.where,
                "train": f"training rows 0..{budget.n_train - 1}",
                "validation": f"training rows {val_start}..{val_start + budget.n_val - 1} (the last {VALIDATION_SPLIT:.0%}, as validation_split takes)",
                "test": f"all {len(data.x_test)} test rows",
                "n_train": budget.n_train,
                "n_val": budget.n_val,
                "n_test": len(data.x_test),
                "preprocessing": "as load_data() returns them (integers as float32)",
                "sha256": self.data_digest,
            },
        )
        backend.make_deterministic()
        backend.enable_compilation_cache()
        return HyperModelObjective(
            self.build_model,
            self.hyperparameters,
            self.space,
            split,
            seed,
            TrialWeights(weights_dir),
            self.batch_size,
            curves=curves,
        )

    def provenance(self) -> dict[str, Any]:
        return {"name": self.name, **self.source}


def _largest(hp: Any) -> Any:
    """The value of ``hp`` that reaches furthest (the most layers, the widest): its maximum, or last choice."""
    if hasattr(hp, "max_value"):
        return hp.max_value
    if hasattr(hp, "values") and isinstance(hp.values, (list, tuple)):
        return hp.values[-1]
    if hasattr(hp, "value"):
        return hp.value
    return True
