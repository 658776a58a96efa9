"""A synthetic objective: a deterministic function of the configuration and the epoch, no training.

It stands where ``tuning.objectives.live.train.KerasObjective`` stands, so the property tests
can run hundreds of searches in seconds against every strategy's real
Keras Tuner oracle.  It measures nothing about MNIST and is never used for
results; its shape only loosely imitates the real one (a best learning rate
near 1e-3, adam ahead of rmsprop ahead of sgd, wider is better up to a
point, accuracy rising with epochs) so that model-based strategies have
something to learn.
"""

from __future__ import annotations

import math
from typing import Any

from tuning.core.records import TrialRecord
from tuning.core.space import Config, Space
from tuning.objectives.base import EpochReport

_OPTIMIZER_BONUS = {"adam": 0.04, "rmsprop": 0.03, "sgd": 0.0}


class SyntheticObjective:
    capabilities: frozenset[str] = frozenset()

    def __init__(self, space: Space, n_train: int = 1) -> None:
        self.space = space
        self.n_train = n_train
        self.final: dict[str, tuple[Config, int]] = {}  # trial id -> (configuration, epochs reached)

    def quality(self, config: Config) -> float:
        lr = config[self.space.learning_rate.name]
        lr_term = -0.05 * (math.log10(lr) + 3.0) ** 2
        widths = self.space.widths(config)
        width_term = 0.02 * math.tanh(sum(widths) / 512.0) - 0.005 * (len(widths) - 1)
        return 0.85 + lr_term + width_term + _OPTIMIZER_BONUS.get(config[self.space.optimizer.name], 0.0)

    def accuracy(self, config: Config, epoch: int) -> float:
        """Validation accuracy after ``epoch`` epochs (1-based)."""
        return max(0.0, min(1.0, self.quality(config) * (1.0 - math.exp(-epoch / 1.5))))

    def evaluate(
        self,
        trial_id: str,
        config: Config,
        epochs: int,
        initial_epoch: int,
        resume_from: str | None,
        report: EpochReport | None = None,
    ) -> TrialRecord:
        self.space.validate(config)
        curve = []
        for epoch in range(initial_epoch + 1, epochs + 1):
            curve.append(self.accuracy(config, epoch))
            if report is not None and report(epoch, curve[-1]):
                break
        reached = initial_epoch + len(curve)
        self.final[trial_id] = (dict(config), reached)
        return TrialRecord(
            trial_id=trial_id,
            hyperparameters=dict(config),
            val_accuracy=curve,
            epochs=len(curve),
            initial_epoch=initial_epoch,
            resumed_from=resume_from,
            samples=len(curve) * self.n_train,
        )

    def test(self, trial_id: str, config: Config) -> tuple[float, float]:
        """The accuracy the trial reached stands in for its test accuracy (there is no test set)."""
        accuracy = self.accuracy(config, self.final[trial_id][1])
        return 1.0 - accuracy, accuracy

    def data(self) -> dict[str, Any]:
        return {"dataset": "synthetic", "source": "tuning.objectives.synthetic (no data)"}

    def settings(self) -> dict[str, Any]:
        return {}
