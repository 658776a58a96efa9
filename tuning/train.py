"""How a configuration is trained: the real objective, on MNIST, with Keras.

Every trial is seeded from the run seed and its trial id, after
``clear_session()`` (which would otherwise wipe the global seed), so weights
and shuffling are the same whenever the same trial of the same run is
repeated.  Weights are kept in memory per trial: Hyperband continues a trial
from them (weights only, as Keras Tuner's own checkpoints do), and the
chosen trial's weights are what the test set scores.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import keras
import numpy as np

from tuning.data import Split
from tuning.model import OptimizerFactory, build_model
from tuning.search import TrialRecord
from tuning.space import Config, Space
from tuning.strategies.base import trial_seed

CallbackFactory = Callable[[], list[keras.callbacks.Callback]]


class EpochTimer(keras.callbacks.Callback):
    """Seconds of training steps per epoch, validation excluded."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self._start = 0.0
        self._open = False

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self._start, self._open = time.perf_counter(), True

    def _close(self) -> None:
        if self._open:
            self.seconds.append(time.perf_counter() - self._start)
            self._open = False

    def on_test_begin(self, logs: Any = None) -> None:
        self._close()

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        self._close()


class KerasObjective:
    """Trains ``config`` on the split's training part and scores it on its validation part."""

    def __init__(
        self,
        split: Split,
        space: Space,
        seed: int,
        optimizer: OptimizerFactory | None = None,
        callbacks: CallbackFactory | None = None,
        describe: Callable[[keras.Model, list[keras.callbacks.Callback]], dict[str, Any]] | None = None,
    ) -> None:
        self.split = split
        self.space = space
        self.seed = seed
        self.optimizer = optimizer
        self.callbacks = callbacks
        self.describe = describe
        self.weights: dict[str, list[np.ndarray]] = {}

    def build(self, config: Config) -> keras.Model:
        return build_model(config, self.space, self.optimizer)

    def evaluate(
        self, trial_id: str, config: Config, epochs: int, initial_epoch: int, resume_from: str | None
    ) -> TrialRecord:
        started = time.perf_counter()
        keras.backend.clear_session()
        keras.utils.set_random_seed(trial_seed(self.seed, trial_id))
        model = self.build(config)
        if resume_from is not None:
            model.set_weights(self.weights[resume_from])
        timer = EpochTimer()
        extra_callbacks = self.callbacks() if self.callbacks else []
        history = model.fit(
            self.split.x_train,
            self.split.y_train,
            batch_size=self.space.batch_size,
            epochs=epochs,
            initial_epoch=initial_epoch,
            validation_data=(self.split.x_val, self.split.y_val),
            shuffle=True,
            verbose=0,
            callbacks=[timer, *extra_callbacks],
        )
        self.weights[trial_id] = model.get_weights()
        trained = epochs - initial_epoch
        return TrialRecord(
            trial_id=trial_id,
            hyperparameters=dict(config),
            val_accuracy=[float(v) for v in history.history["val_accuracy"]],
            epochs=trained,
            initial_epoch=initial_epoch,
            resumed_from=resume_from,
            seconds=time.perf_counter() - started,
            train_seconds=float(sum(timer.seconds)),
            samples=trained * len(self.split.x_train),
            extra=self.describe(model, extra_callbacks) if self.describe else {},
        )

    def test(self, trial_id: str, config: Config) -> tuple[float, float]:
        """(test loss, test accuracy) of a trained trial's final weights on the 10,000 test images."""
        keras.backend.clear_session()
        model = self.build(config)
        model.set_weights(self.weights[trial_id])
        loss, accuracy = model.evaluate(self.split.x_test, self.split.y_test, batch_size=1000, verbose=0)
        return float(loss), float(accuracy)
