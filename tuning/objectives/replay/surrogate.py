"""A surrogate of the live objective, fitted to a replay table: any configuration's curves, with seed noise.

What it answers for a configuration, per epoch: validation accuracy, test
accuracy, seconds of training steps and of validation; and per trial the
build and final-test seconds.

* A configuration the table holds is answered from its recorded curves:
  one of its recorded seeds, drawn by the caller's generator.
* Any other configuration gets the model's prediction of the mean curve
  over seeds, plus one recorded seed-to-seed deviation: the deviation of
  one seed from its configuration's mean (scaled by sqrt(n/(n-1)) for the
  mean's own shrinkage), taken from one of the ``NEIGHBOURS`` configurations
  recorded with several seeds whose mean final validation accuracy is
  nearest the prediction.  The noise is therefore the recorded spread at
  that level of the learning curve (a net still climbing, or one that
  sometimes diverges, spreads far more than one that has converged; a
  neighbour in hyperparameters can be either), never an invented
  distribution.

Models (``MODELS``): scikit-learn's random forest, histogram gradient
boosting and k nearest neighbours, each fitted twice (accuracies; the
logarithm of the seconds), on targets standardised so that no output
dominates the fit.  ``tuning.objectives.replay.validate`` measures them and
keeps the one that validates best.  Fitting takes about a second and is
deterministic, so the fitted model is never stored (a pickle is code): a
replay refits it from the table and the model name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.multioutput import MultiOutputRegressor
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from tuning.core.space import Choice, Config, Float, SearchSpace, Space
from tuning.objectives.replay.table import Recording

NEIGHBOURS = 5
RANDOM_STATE = 0
ERROR_FOLDS = 5  # out-of-fold predictions of the mean, for the model's own error
ERROR_NEIGHBOURS = 20  # a model error is drawn from the configurations this near in predicted level
ERRORS: dict[str, str] = {  # name -> what is added to a prediction besides seed noise
    "none": "no model error: the predicted mean taken as the configuration's mean",
    "oof": "an out-of-fold residual of one of the {n} configurations nearest in predicted final validation accuracy",
    "oof-replicated": "an out-of-fold residual of one of the {n} configurations recorded with several seeds nearest "
    "in predicted final validation accuracy",
    "oof-deseeded": "an out-of-fold residual of one of the {n} configurations nearest in predicted final validation "
    "accuracy, shrunk by the share of its neighbourhood's residual variance that its recorded mean's seed noise "
    "explains",
}
DEFAULT_ERROR = "none"

MODELS: dict[str, Callable[[int], Any]] = {  # name -> (configurations to fit) -> an unfitted scikit-learn model
    "forest": lambda n: RandomForestRegressor(
        n_estimators=200, min_samples_leaf=2, random_state=RANDOM_STATE, n_jobs=1
    ),
    "boosting": lambda n: MultiOutputRegressor(
        HistGradientBoostingRegressor(max_iter=100, learning_rate=0.1, min_samples_leaf=5, random_state=RANDOM_STATE)
    ),
    "knn": lambda n: make_pipeline(
        StandardScaler(), KNeighborsRegressor(n_neighbors=min(NEIGHBOURS, n), weights="distance")
    ),
}
DEFAULT_MODEL = "forest"


def features(configs: Sequence[Config], space: SearchSpace) -> np.ndarray:
    """One row per configuration: for the seed's dense-stack space (``Space``) depth, every width (0 when
    inactive), log10 learning rate, the optimizer one-hot, and the log10 of the parameter count (what the
    seconds follow); for any other space the generic encoding (``generic_features``)."""
    if not isinstance(space, Space):
        return generic_features(configs, space)
    rows = []
    for config in configs:
        widths = space.widths(config)
        rows.append(
            [
                len(widths),
                *(widths + [0] * (space.depth.high - len(widths))),
                np.log10(config[space.learning_rate.name]),
                *(float(config[space.optimizer.name] == o) for o in space.optimizer.options),
                np.log10(space.parameter_count(config)),
            ]
        )
    return np.asarray(rows, dtype=float)


def generic_features(configs: Sequence[Config], space: SearchSpace) -> np.ndarray:
    """One row per configuration of any space, one block per hyperparameter in ``params()`` order: a number
    scaled to [0, 1] over its range (on a log scale where it is log-sampled, so that a decade counts alike
    wherever it lies), a boolean as 0/1, a choice one-hot (its options are names, not magnitudes); and, for one
    that a conditional scope can switch off, an indicator of being active, its block 0 while inactive (a
    forest then tells "inactive" from "the lowest value").  Nothing here knows the model's architecture."""
    logs = _log_sampled(space)
    conditional = _conditional(space)
    rows = []
    for config in configs:
        row: list[float] = []
        for param in space.params():
            active = param.name in config
            value = config.get(param.name)
            if isinstance(param, Choice) and set(param.options) == {False, True}:
                row.append(float(active and bool(value)))
            elif isinstance(param, Choice):
                row.extend(float(active and type(value) is type(o) and value == o) for o in param.options)
            else:
                row.append(_scaled(float(value), param.low, param.high, param.name in logs) if active else 0.0)
            if param.name in conditional:
                row.append(float(active))
        rows.append(row)
    return np.asarray(rows, dtype=float).reshape(len(rows), -1)


def _scaled(value: float, low: float, high: float, log: bool) -> float:
    if log:
        value, low, high = np.log(value), np.log(low), np.log(high)
    return 0.0 if high == low else float((value - low) / (high - low))


def _log_sampled(space: SearchSpace) -> set[str]:
    """Names of the log-sampled hyperparameters: a ``Float(log=True)``, or what the space says it samples on a
    log scale (a Keras Tuner ``Int(sampling="log")``, which the core ``Int`` does not carry)."""
    names = {p.name for p in space.params() if isinstance(p, Float) and p.log}
    said = getattr(space, "log_sampled", None)
    return names | (set(said()) if callable(said) else set())


def _conditional(space: SearchSpace) -> set[str]:
    """Names of the hyperparameters a conditional scope can switch off (every one, if the space cannot say)."""
    said = getattr(space, "conditional", None)
    return set(said()) if callable(said) else {p.name for p in space.params()}


@dataclass(frozen=True)
class Curve:
    """One trial's answer: per-epoch arrays, and per-trial seconds."""

    val_accuracy: np.ndarray
    test_accuracy: np.ndarray
    test_loss: np.ndarray  # NaN where not recorded (a prediction, or a diverged run)
    train_seconds: np.ndarray
    validation_seconds: np.ndarray
    build_seconds: float
    test_seconds: float  # scoring the final weights on the test images once
    source: str  # "recorded seed N" or "surrogate"

    def seconds(self, initial_epoch: int, epochs: int) -> tuple[float, float]:
        """(trial seconds, training-step seconds) of training epochs ``initial_epoch+1..epochs``.

        A continued trial (Hyperband) builds, compiles and traces again, so its
        first epoch costs what a first epoch costs."""
        train = np.concatenate([self.train_seconds[:1], self.train_seconds[initial_epoch + 1 : epochs]])
        train_seconds = float(train.sum())
        validation = float(self.validation_seconds[initial_epoch:epochs].sum())
        return self.build_seconds + train_seconds + validation, train_seconds


def targets(recording: Recording) -> tuple[np.ndarray, np.ndarray]:
    """(accuracies: validation then test per epoch; log seconds: train and validation per epoch, build, test)."""
    last = recording.epochs[-1]
    accuracies = np.concatenate([recording.column("val_accuracy"), recording.column("test_accuracy")])
    seconds = np.concatenate(
        [
            recording.column("train_seconds"),
            recording.column("validation_seconds"),
            [recording.build_seconds, last["test_seconds"]],
        ]
    )
    return accuracies, np.log(np.maximum(seconds, 1e-4))


class _Standardised:
    """A model fitted to standardised targets (each output counts alike), answering in the original units."""

    def __init__(self, model: str, x: np.ndarray, y: np.ndarray) -> None:
        self.mean, self.scale = y.mean(axis=0), y.std(axis=0)
        self.scale[self.scale == 0] = 1.0
        self.model = MODELS[model](len(x))
        with threadpool_limits(limits=1):  # OpenMP threads only wait on each other at this size (2-10x slower)
            self.model.fit(x, (y - self.mean) / self.scale)

    def predict(self, x: np.ndarray) -> np.ndarray:
        if isinstance(self.model, RandomForestRegressor):
            # The forest's own average of its trees, without a joblib dispatch and input check per tree:
            # one configuration at a time (a replay's trials) this is 20-50x faster than ``predict``.
            x32 = np.ascontiguousarray(x, dtype=np.float32)
            y = sum(tree.tree_.predict(x32)[:, :, 0] for tree in self.model.estimators_) / len(self.model.estimators_)
        else:
            y = np.asarray(self.model.predict(x)).reshape(len(x), -1)
        return y * self.scale + self.mean


class Surrogate:
    """Fitted to ``recordings`` (one budget's table) with the model ``model`` (a ``MODELS`` name)."""

    def __init__(
        self,
        recordings: Sequence[Recording],
        space: SearchSpace,
        model: str = DEFAULT_MODEL,
        error: str = DEFAULT_ERROR,
    ) -> None:
        if model not in MODELS:
            raise ValueError(f"no surrogate model {model!r}; known: {', '.join(MODELS)}")
        if error not in ERRORS:
            raise ValueError(f"no model error {error!r}; known: {', '.join(ERRORS)}")
        if not recordings:
            raise ValueError("an empty table: record some configurations first")
        self.model_name, self.space, self.error = model, space, error
        self._predicted: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._pools: dict[float, list[np.ndarray]] = {}
        self.epochs = len(recordings[0].epochs)
        self.by_key: dict[str, list[Recording]] = {}
        for recording in sorted(recordings, key=lambda r: (r.key, r.seed)):
            self.by_key.setdefault(recording.key, []).append(recording)
        self.keys = list(self.by_key)
        configs = [self.by_key[k][0].hyperparameters for k in self.keys]
        per_key = [[targets(r) for r in self.by_key[k]] for k in self.keys]
        acc = np.array([np.mean([a for a, _ in t], axis=0) for t in per_key])
        sec = np.array([np.mean([s for _, s in t], axis=0) for t in per_key])
        x = features(configs, space)
        self.accuracy_model = _Standardised(model, x, acc)
        self.seconds_model = _Standardised(model, x, sec)
        # The recorded seed-to-seed spread: each replicated configuration's deviations from its mean.
        self.deviations: list[np.ndarray] = []
        replicated = []
        for i, t in enumerate(per_key):
            if len(t) < 2:
                continue
            stacked = np.array([np.concatenate(pair) for pair in t])
            self.deviations.append((stacked - stacked.mean(axis=0)) * np.sqrt(len(t) / (len(t) - 1)))
            replicated.append(i)
        self.replicated_keys = [self.keys[i] for i in replicated]
        self.replicated_level = acc[replicated, self.epochs - 1] if replicated else np.empty(0)
        # The model's own error: each configuration's recorded mean minus the prediction of a model fitted
        # without it (out of fold), kept with the predicted level it was made at.
        self.errors, self.error_level = np.empty((0, acc.shape[1])), np.empty(0)
        if error != "none" and len(self.keys) >= ERROR_FOLDS:
            from sklearn.model_selection import KFold

            oof = np.empty_like(acc)
            for fit_index, held_index in KFold(ERROR_FOLDS, shuffle=True, random_state=RANDOM_STATE).split(x):
                oof[held_index] = _Standardised(model, x[fit_index], acc[fit_index]).predict(x[held_index])
            keep = np.array(replicated if error == "oof-replicated" else range(len(self.keys)), dtype=int)
            self.errors, self.error_level = (acc - oof)[keep], oof[keep, self.epochs - 1]
            if error == "oof-deseeded":
                self.errors = self._deseeded(acc, np.array([len(t) for t in per_key]))

    def _deseeded(self, acc: np.ndarray, seeds: np.ndarray) -> np.ndarray:
        """Each residual shrunk by sqrt(1 - (seed variance / its seeds) / (mean squared residual of its
        ``ERROR_NEIGHBOURS`` nearest in predicted level)): a configuration's recorded mean carries its own seed noise,
        which ``draw`` adds again; what is left is the spread between configurations (method of moments, per level)."""
        e = self.epochs - 1
        out = self.errors.copy()
        for i, level in enumerate(self.error_level):
            near = np.argsort(np.abs(self.error_level - level), kind="stable")[:ERROR_NEIGHBOURS]
            spread = float(np.mean(self.errors[near, e] ** 2))
            pool = self.noise_pool(acc[i, e])
            noise = float(np.mean(np.concatenate([p[:, e] for p in pool]) ** 2)) if pool else 0.0
            out[i] *= np.sqrt(max(0.0, 1.0 - noise / seeds[i] / spread)) if spread > 0 else 0.0
        return out

    # -- answers ------------------------------------------------------------
    def predict(self, configs: Sequence[Config]) -> tuple[np.ndarray, np.ndarray]:
        """Mean (accuracies, log seconds) over seeds, as ``targets`` lays them out; one row per configuration."""
        x = features(configs, self.space)
        return self.accuracy_model.predict(x), self.seconds_model.predict(x)

    def predict_one(self, config: Config) -> tuple[np.ndarray, np.ndarray]:
        """``predict`` of one configuration, remembered (a replay asks again for what Hyperband continues)."""
        return self._predict_keyed(self.space.key(config), config)

    def _predict_keyed(self, key: str, config: Config) -> tuple[np.ndarray, np.ndarray]:
        if key not in self._predicted:
            accuracies, seconds = self.predict([config])
            self._predicted[key] = (accuracies[0], seconds[0])
        return self._predicted[key]

    def prefetch(self, configs: Sequence[Config]) -> None:
        """``predict_one`` of many configurations in one batch (the same numbers: the forest answers row by row)."""
        keys: dict[str, Config] = {}
        for config in configs:
            key = self.space.key(config)
            if key not in self._predicted and key not in self.by_key:
                keys.setdefault(key, config)
        if keys:
            accuracies, seconds = self.predict(list(keys.values()))
            for i, key in enumerate(keys):
                self._predicted[key] = (accuracies[i], seconds[i])

    def noise_pool(self, level: float) -> list[np.ndarray]:
        """The recorded deviations at accuracy ``level``: one array (seeds x targets) for each of the
        ``NEIGHBOURS`` replicated configurations whose mean final validation accuracy is nearest it
        (ties in table order)."""
        level = float(level)
        if level not in self._pools:  # a predicted configuration asks at the same level every time
            distances = np.abs(self.replicated_level - level)
            self._pools[level] = [self.deviations[i] for i in np.argsort(distances, kind="stable")[:NEIGHBOURS]]
        return self._pools[level]

    def model_error(self, level: float, rng: np.random.Generator) -> np.ndarray:
        """One out-of-fold residual (accuracies) of the ``ERROR_NEIGHBOURS`` configurations nearest ``level`` in
        predicted final validation accuracy; zeros without a model error."""
        if not len(self.errors):
            return np.zeros(2 * self.epochs)
        near = np.argsort(np.abs(self.error_level - level), kind="stable")[:ERROR_NEIGHBOURS]
        return self.errors[near[int(rng.integers(len(near)))]]

    def draw(self, config: Config, rng: np.random.Generator, error_rng: np.random.Generator | None = None) -> Curve:
        """One seed's curve of ``config``: recorded when the table holds it, else predicted plus a model error
        (drawn with ``error_rng``: the caller keeps it one per configuration and replay seed) plus recorded seed noise
        at the level the configuration then has."""
        key = self.space.key(config)
        if key in self.by_key:
            recordings = self.by_key[key]
            return self.recorded(recordings[int(rng.integers(len(recordings)))])
        accuracies, seconds = self._predict_keyed(key, config)
        if len(self.errors):
            accuracies = accuracies + self.model_error(accuracies[self.epochs - 1], error_rng or rng)
        pool = self.noise_pool(accuracies[self.epochs - 1])
        if pool:
            near = pool[int(rng.integers(len(pool)))]
            deviation = near[int(rng.integers(len(near)))]
            accuracies = accuracies + deviation[: len(accuracies)]
            seconds = seconds + deviation[len(accuracies) :]
        return self._curve(accuracies, seconds, np.full(self.epochs, np.nan), "surrogate")

    def recorded(self, recording: Recording) -> Curve:
        accuracies, seconds = targets(recording)
        return self._curve(accuracies, seconds, recording.column("test_loss"), f"recorded seed {recording.seed}")

    def _curve(self, accuracies: np.ndarray, log_seconds: np.ndarray, test_loss: np.ndarray, source: str) -> Curve:
        e = self.epochs
        accuracies = np.clip(accuracies, 0.0, 1.0)
        seconds = np.exp(log_seconds)
        return Curve(
            val_accuracy=accuracies[:e],
            test_accuracy=accuracies[e:],
            test_loss=test_loss,
            train_seconds=seconds[:e],
            validation_seconds=seconds[e : 2 * e],
            build_seconds=float(seconds[2 * e]),
            test_seconds=float(seconds[2 * e + 1]),
            source=source,
        )

    def intervals(self, configs: Sequence[Config], level: float = 0.95) -> list[tuple[float, float]]:
        """The central ``level`` interval of one seed's final validation accuracy for each configuration
        (prediction + every nearby recorded deviation); a point when none was recorded with several seeds."""
        means = self.predict(configs)[0][:, self.epochs - 1]
        e = self.epochs - 1
        out = []
        for mean in means:
            if len(self.errors):  # every nearby model error, each with the seed noise at the level it gives
                near = np.argsort(np.abs(self.error_level - mean), kind="stable")[:ERROR_NEIGHBOURS]
                values = np.concatenate(
                    [
                        mean + err + np.concatenate([p[:, e] for p in self.noise_pool(mean + err)] or [np.zeros(1)])
                        for err in self.errors[near, e]
                    ]
                )
            else:
                pool = self.noise_pool(mean)
                values = mean + np.concatenate([p[:, e] for p in pool]) if pool else np.array([mean])
            low, high = np.quantile(np.clip(values, 0.0, 1.0), [(1 - level) / 2, (1 + level) / 2])
            out.append((float(low), float(high)))
        return out

    def describe(self) -> dict[str, Any]:
        """What this surrogate is, for the provenance of every replay made with it."""
        import sklearn

        return {
            "model": self.model_name,
            "scikit-learn": sklearn.__version__,
            "configurations": len(self.keys),
            "recordings": sum(len(v) for v in self.by_key.values()),
            "replicated_configurations": len(self.replicated_keys),
            "error": self.error,
            "noise": f"model error: {ERRORS[self.error].format(n=ERROR_NEIGHBOURS)} (once per configuration and "
            f"replay seed); seed noise: a recorded seed deviation of one of the {NEIGHBOURS} replicated configurations "
            "nearest in mean final validation accuracy",
        }
