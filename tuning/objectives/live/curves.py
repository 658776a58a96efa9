"""Learning curves as a replay table records them: per epoch, what a live run could have been told.

A live trial keeps only its validation accuracies (what the oracle is told).
A replay (``tuning.objectives.replay``) must answer any epoch a strategy
stops at, and what the chosen trial would then score on the test images, so
the recording trains with one more callback, after the trial's own timer and
validation: it keeps the validation accuracy and loss of that epoch, then
scores the weights of that moment on the test images as the objective's
``test`` does (in numpy for the seed's dense stacks).  Scoring reads the weights and nothing else,
so the training itself is the live trial's, epoch for epoch (a test checks
it).  Seconds are kept apart: training steps, validation, and the test
scoring that a live run does only once, at its end.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, Protocol

import keras


def _finite(value: float) -> float | None:
    """A loss as JSON can carry it (a diverged run's loss is NaN or infinite: None)."""
    return value if math.isfinite(value) else None


class CurveValidation(Protocol):
    """What the curves read of the trial's own validation callback, one entry per epoch trained."""

    accuracy: list[float]
    loss: list[float]
    seconds: list[float]


TestScore = Callable[[keras.Model], tuple[float, float]]  # the model as it stands -> (test loss, test accuracy)


class LearningCurves(keras.callbacks.Callback):
    """Per epoch: validation accuracy and loss, test accuracy and loss, and the seconds of each phase.

    ``train_seconds`` is the trial's own per-epoch timer (``EpochTimer.seconds``)
    and ``validation`` its validation callback; both must come before this
    callback in ``fit``'s list.  ``test_score`` scores the model of that moment
    on the test part as the objective's own ``test`` does (numpy for the seed's
    dense stacks, the model's predictions for a user's), so one recording
    serves every objective that trains a trial."""

    def __init__(self, train_seconds: list[float], validation: CurveValidation, test_score: TestScore) -> None:
        super().__init__()
        self.train_seconds, self.validation, self.test_score = train_seconds, validation, test_score
        self.epochs: list[dict[str, Any]] = []

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        train = self.train_seconds[-1]
        started = time.perf_counter()
        test_loss, test_accuracy = self.test_score(self.model)
        self.epochs.append(
            {
                "epoch": epoch + 1,
                "val_accuracy": float(self.validation.accuracy[-1]),
                "val_loss": _finite(float(self.validation.loss[-1])),
                "test_accuracy": float(test_accuracy),
                "test_loss": _finite(float(test_loss)),
                "train_seconds": train,
                "validation_seconds": self.validation.seconds[-1],
                "test_seconds": time.perf_counter() - started,
            }
        )

    @property
    def test_seconds(self) -> float:
        """Seconds this callback spent scoring test images (not part of the live trial's cost)."""
        return sum(e["test_seconds"] for e in self.epochs)
