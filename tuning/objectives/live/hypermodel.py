"""A live objective for any Keras Tuner hypermodel: ``build_model(hp)`` trains, its predictions score.

What a user of Keras Tuner already has - a function that declares its
hyperparameters on ``hp`` and returns a compiled model - is trained here
exactly as the seed problem's models are: seeded per trial after
``clear_session()``, the epoch budget held by the loop, weights kept per trial
(Hyperband continues from them, the chosen trial is tested with them),
validation accuracy after every epoch.  Only what the seed problem does in
numpy is done through the model here: initial weights come from the model's
own initializers, and scores from its predictions (its architecture is the
user's, so no numpy forward pass can stand in for it).

Keras draws an initializer's seed from Python's global ``random`` when the
layer is made; a Dask worker's event-loop thread draws from it too.  The
model is therefore built with Keras's draws redirected to a generator
seeded from the trial seed, so that a run is the same wherever it runs.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Iterator
from typing import Any

import keras
import numpy as np

from tuning.core.records import TrialRecord
from tuning.core.space import Config, SearchSpace
from tuning.objectives.base import EpochReport
from tuning.objectives.live.curves import LearningCurves
from tuning.objectives.live.data import Split
from tuning.objectives.live.train import EpochTimer, begin_trial, clear_session, fit_epochs, trial_record
from tuning.objectives.live.weights import TrialWeights

BATCH_SIZE_NAME = "batch_size"  # a hyperparameter of this name sets fit's batch size
SCORE_BATCH = 1_000  # rows per prediction call: bounded memory


@contextlib.contextmanager
def keras_draws_from(seed: int) -> Iterator[None]:
    """Keras's default-seed draws (``make_default_seed``) from a private generator while a model is built."""
    from keras.src.random import seed_generator

    shared = seed_generator.python_random
    seed_generator.python_random = random.Random(seed)  # type: ignore[assignment]
    try:
        yield
    finally:
        seed_generator.python_random = shared


def predictions(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """The model's outputs for ``x``, block by block, in inference mode (no compiled predict function)."""
    parts = [
        keras.ops.convert_to_numpy(model(x[i : i + SCORE_BATCH], training=False)) for i in range(0, len(x), SCORE_BATCH)
    ]
    return np.concatenate(parts).astype(np.float64)


def accuracy(outputs: np.ndarray, y: np.ndarray) -> float:
    """Share of rows classified right: argmax of several outputs, or one sigmoid output at 0.5;
    labels as integers or one-hot rows."""
    labels = y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(len(y))
    if outputs.ndim == 1 or outputs.shape[-1] == 1:
        guessed = (outputs.reshape(len(outputs)) >= 0.5).astype(labels.dtype)
    else:
        guessed = outputs.argmax(axis=-1)
    return float(np.mean(guessed == labels))


def loss(model: keras.Model, outputs: np.ndarray, y: np.ndarray) -> float | None:
    """The model's own compiled loss on ``outputs``, or None when it cannot be computed from outputs alone."""
    try:
        fn = keras.losses.get(model.loss)
        return float(np.mean(keras.ops.convert_to_numpy(fn(y, outputs.astype(np.float32)))))
    except Exception:  # a loss object that needs more than (y, outputs)
        return None


def scores(model: keras.Model, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(loss, accuracy) of the model's predictions for ``x``; the loss is NaN where it cannot be computed."""
    outputs = predictions(model, x)
    value = loss(model, outputs, y)
    return (float("nan") if value is None else value), accuracy(outputs, y)


class PredictionValidation(keras.callbacks.Callback):
    """Scores the model after every epoch on the validation data; keeps accuracy and seconds per epoch, and with
    ``losses`` the loss too (a replay table's learning curves keep it; a live trial does not need it)."""

    def __init__(self, x: np.ndarray, y: np.ndarray, losses: bool = False) -> None:
        super().__init__()
        self.x, self.y, self.losses = x, y, losses
        self.accuracy: list[float] = []
        self.loss: list[float] = []
        self.seconds: list[float] = []

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        started = time.perf_counter()
        if self.losses:
            value, correct = scores(self.model, self.x, self.y)
            self.loss.append(value)
        else:
            correct = accuracy(predictions(self.model, self.x), self.y)
        self.accuracy.append(correct)
        self.seconds.append(time.perf_counter() - started)


class HyperModelObjective:
    """Trains the model ``build(hp)`` returns for a configuration; scores it on the split's validation part."""

    capabilities: frozenset[str] = frozenset()

    def __init__(
        self,
        build: Callable[[Any], keras.Model],
        hyperparameters: Callable[[Config], Any],
        space: SearchSpace,
        split: Split,
        seed: int,
        weights: TrialWeights | None = None,
        batch_size: int = 32,
        curves: bool = False,
    ) -> None:
        self.build_fn = build
        self.hyperparameters = hyperparameters  # config -> a Keras Tuner HyperParameters holding its values
        self.space = space
        self.split = split
        self.seed = seed
        self.weights = weights if weights is not None else TrialWeights()
        self.batch_size = batch_size
        self.curves = curves  # also record per-epoch learning curves in extra["curves"] (a replay table's recording)

    def build(self, config: Config, seed: int) -> keras.Model:
        with keras_draws_from(seed):
            return self.build_fn(self.hyperparameters(config))

    def evaluate(
        self,
        trial_id: str,
        config: Config,
        epochs: int,
        initial_epoch: int,
        resume_from: str | None,
        report: EpochReport | None = None,
    ) -> TrialRecord:
        started = time.perf_counter()
        model = begin_trial(self.seed, trial_id, lambda seed: self.build(config, seed), self.weights, resume_from)
        timer = EpochTimer()
        validation = PredictionValidation(self.split.x_val, self.split.y_val, losses=self.curves)
        curves = (
            [LearningCurves(timer.seconds, validation, lambda m: scores(m, self.split.x_test, self.split.y_test))]
            if self.curves
            else []
        )
        batch_size = int(config.get(BATCH_SIZE_NAME, self.batch_size))
        fit_epochs(model, self.split, batch_size, epochs, initial_epoch, timer, validation, curves, report=report)
        self.weights.put(trial_id, model.get_weights())
        seconds = time.perf_counter() - started - sum(c.test_seconds for c in curves)
        extra = {"curves": curves[0].epochs} if curves else {}
        return trial_record(
            trial_id, config, validation, timer, initial_epoch, resume_from, seconds, len(self.split.x_train), extra
        )

    def test(self, trial_id: str, config: Config) -> tuple[float, float]:
        """(test loss, test accuracy) of a trained trial's final weights (the loss is NaN where the model's
        loss cannot be computed from its outputs)."""
        self.space.validate(config)
        clear_session()
        model = self.build(config, 0)
        model.set_weights(self.weights.get(trial_id))
        return scores(model, self.split.x_test, self.split.y_test)

    def data(self) -> dict[str, Any]:
        return self.split.to_json()

    def settings(self) -> dict[str, Any]:
        return {}
