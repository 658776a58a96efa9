"""How a configuration is trained: the real objective, on MNIST, with Keras.

Every trial is seeded from the run seed and its trial id, after
``clear_session()`` (which would otherwise wipe the global seed), so weights
and shuffling are the same whenever the same trial of the same run is
repeated.  Weights are kept in memory per trial: Hyperband continues a trial
from them (weights only, as Keras Tuner's own checkpoints do), and the
chosen trial's weights are what the test set scores.  ``TrialWeights`` keeps
them, and writes them to the run's work folder when it has one, so that a
resumed run still has them.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import keras

from tuning.core.records import TrialRecord
from tuning.core.seeds import trial_seed
from tuning.core.space import Config, Space
from tuning.objectives.base import EpochReport
from tuning.objectives.live import backend
from tuning.objectives.live.curves import LearningCurves
from tuning.objectives.live.data import Split
from tuning.objectives.live.model import build_model, restart
from tuning.objectives.live.scoring import EpochValidation, score
from tuning.objectives.live.variants import VARIANTS, TrainingVariant
from tuning.objectives.live.weights import TrialWeights

CAPABILITIES = frozenset(f"training:{name}" for name in VARIANTS)
MODELS_KEPT = 8  # architectures whose compiled model a run keeps for later trials (5x512 with Adam: 16 MB each)


def clear_session() -> None:
    """Keras's ``clear_session`` without its full garbage collection (a tenth of a second per trial):
    the models of finished trials hold no cycles worth collecting between trials."""
    try:
        keras.backend.clear_session(free_memory=False)
    except TypeError:  # a Keras without the switch
        keras.backend.clear_session()


class EpochTimer(keras.callbacks.Callback):
    """Seconds of training steps per epoch, validation excluded; and how much of them went to preparing
    the step: a new model traces its training step, lowers it, and compiles it or loads it from JAX's cache
    on its first call (``compile_seconds``, as JAX reports it; None on a backend that does not).

    No batch hooks: a callback with them makes Keras wait for every compiled call to finish.
    """

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        clock = backend.compile_clock()
        self.measures_compile = clock is not None
        self.clock = clock or (lambda: 0.0)
        self.compiled = 0.0
        self._start = self._compile_start = 0.0
        self._open = False

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self._start, self._compile_start, self._open = time.perf_counter(), self.clock(), True

    def _close(self) -> None:
        if self._open:
            self.seconds.append(time.perf_counter() - self._start)
            self.compiled += self.clock() - self._compile_start
            self._open = False

    def on_test_begin(self, logs: Any = None) -> None:
        self._close()

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        self._close()

    @property
    def compile_seconds(self) -> float | None:
        return self.compiled if self.measures_compile else None


class Validation(Protocol):
    """A callback that scores the model after each epoch: accuracy and seconds, one per epoch trained."""

    accuracy: list[float]
    seconds: list[float]


class ReportEachEpoch(keras.callbacks.Callback):
    """Hands each epoch's validation accuracy to ``report`` (a pruner) and stops training when it says so:
    Keras finishes the epoch and ``fit`` returns, as an ``EarlyStopping`` callback would stop it."""

    def __init__(self, report: EpochReport, validation: Validation) -> None:
        super().__init__()
        self.report, self.validation = report, validation

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if self.report(epoch + 1, self.validation.accuracy[-1]):
            self.model.stop_training = True


def begin_trial(
    run_seed: int,
    trial_id: str,
    make: Callable[[int], keras.Model],
    weights: TrialWeights,
    resume_from: str | None,
) -> keras.Model:
    """A trial's model: the session cleared, the backend seeded from the run and the trial, the model made
    from that seed, and a continued trial given the weights it stopped with."""
    clear_session()
    seed = trial_seed(run_seed, trial_id)
    backend.set_seed(seed)
    model = make(seed)
    if resume_from is not None:
        model.set_weights(weights.get(resume_from))
    return model


def fit_epochs(
    model: keras.Model,
    split: Split,
    batch_size: int,
    epochs: int,
    initial_epoch: int,
    timer: EpochTimer,
    validation: Any,
    extra: Sequence[keras.callbacks.Callback] = (),
    report: EpochReport | None = None,
) -> int:
    """Train epochs ``initial_epoch..epochs`` and return how many were trained (fewer when ``report``, a
    pruner, stopped it).  Callbacks in this order: the timer first (validation is not training), the pruner
    last (it reads the epoch's validation)."""
    pruning = [ReportEachEpoch(report, validation)] if report is not None else []
    model.fit(
        split.x_train,
        split.y_train,
        batch_size=batch_size,
        epochs=epochs,
        initial_epoch=initial_epoch,
        shuffle=True,
        verbose=0,
        callbacks=[timer, validation, *extra, *pruning],
    )
    return len(validation.accuracy)


def trial_record(
    trial_id: str,
    config: Config,
    validation: Validation,
    timer: EpochTimer,
    initial_epoch: int,
    resume_from: str | None,
    seconds: float,
    train_size: int,
    extra: dict[str, Any] | None = None,
) -> TrialRecord:
    """What a trained trial records: its per-epoch validation accuracy and where its seconds went."""
    trained = len(validation.accuracy)
    return TrialRecord(
        trial_id=trial_id,
        hyperparameters=dict(config),
        val_accuracy=validation.accuracy,
        epochs=trained,
        initial_epoch=initial_epoch,
        resumed_from=resume_from,
        seconds=seconds,
        train_seconds=float(sum(timer.seconds)),
        compile_seconds=timer.compile_seconds,
        validation_seconds=float(sum(validation.seconds)),
        samples=trained * train_size,
        extra=extra or {},
    )


class KerasObjective:
    """Trains ``config`` on the split's training part and scores it on its validation part.

    ``training`` names a training variant (``tuning.objectives.live.variants``)
    when a strategy changes training itself; None trains with the plain
    optimizer the configuration names.  ``curves`` also records each trial's
    per-epoch learning curves, test accuracy included, in ``extra["curves"]``
    (what a replay table keeps; ``tuning.objectives.live.curves``).
    """

    capabilities: frozenset[str] = CAPABILITIES

    def __init__(
        self,
        split: Split,
        space: Space,
        seed: int,
        training: str | None = None,
        weights: TrialWeights | None = None,
        curves: bool = False,
    ) -> None:
        if training is not None and training not in VARIANTS:
            raise ValueError(f"no training variant {training!r}; known: {', '.join(VARIANTS)}")
        self.split = split
        self.space = space
        self.seed = seed
        self.variant: TrainingVariant | None = VARIANTS[training] if training else None
        self.callbacks = self.variant.callbacks if self.variant else None
        self.weights = weights if weights is not None else TrialWeights()
        self.curves = curves
        self._models: OrderedDict[tuple[Any, ...], keras.Model] = OrderedDict()

    def build(self, config: Config, seed: int = 0) -> keras.Model:
        return build_model(config, self.space, self.variant.optimizer if self.variant else None, seed)

    def model(self, config: Config, seed: int) -> keras.Model:
        """A model of ``config`` as ``build`` makes it: an earlier trial's of the same architecture and
        optimizer, restarted (``model.restart``), or else a new one.

        A new Keras model traces, lowers and compiles (or loads from the cache) its training step on its
        first call: 50-400 ms, a fifth of a short trial.  A restarted one starts from the same numbers as a
        new one and trains to the same weights (``tests/test_train.py``), without that.  The last
        ``MODELS_KEPT`` architectures are kept; a training variant (hypergradient), and a backend where a
        restarted model is not known to train like a new one (``backend.restarts_like_new``), always build anew.
        """
        if self.variant is not None or not backend.restarts_like_new():
            return self.build(config, seed)
        key = (tuple(self.space.widths(config)), config[self.space.optimizer.name])
        model = self._models.pop(key, None)
        if model is None:
            model = self.build(config, seed)
        else:
            restart(model, config, self.space, seed)
            backend.draw_like_first_fit(len(self.split.x_train))
        self._models[key] = model
        while len(self._models) > MODELS_KEPT:
            self._models.popitem(last=False)
        return model

    def data(self) -> dict[str, Any]:
        return self.split.to_json()

    def settings(self) -> dict[str, Any]:
        return self.variant.settings(self.space) if self.variant else {}

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
        model = begin_trial(self.seed, trial_id, lambda seed: self.model(config, seed), self.weights, resume_from)
        timer = EpochTimer()
        validation = EpochValidation(self.split.x_val, self.split.y_val, self.space.hidden_activation)
        extra_callbacks = self.callbacks() if self.callbacks else []
        curves = (
            [LearningCurves(timer.seconds, validation, self._test_score(validation.activation))] if self.curves else []
        )
        fit_epochs(
            model,
            self.split,
            self.space.batch_size,
            epochs,
            initial_epoch,
            timer,
            validation,
            [*extra_callbacks, *curves],
            report,
        )
        self.weights.put(trial_id, model.get_weights())
        extra = self.variant.trial_extras(model, extra_callbacks) if self.variant else {}
        if curves:
            extra["curves"] = curves[0].epochs
        seconds = time.perf_counter() - started - sum(c.test_seconds for c in curves)
        return trial_record(
            trial_id, config, validation, timer, initial_epoch, resume_from, seconds, len(self.split.x_train), extra
        )

    def _test_score(self, activation: str) -> Callable[[keras.Model], tuple[float, float]]:
        """A learning curve's test scoring: the model's weights of that moment, in numpy, as ``test`` scores."""
        return lambda model: score(model.get_weights(), self.split.x_test, self.split.y_test, activation)

    def test(self, trial_id: str, config: Config) -> tuple[float, float]:
        """(test loss, test accuracy) of a trained trial's final weights on the 10,000 test images."""
        self.space.validate(config)
        return score(self.weights.get(trial_id), self.split.x_test, self.split.y_test, self.space.hidden_activation)
