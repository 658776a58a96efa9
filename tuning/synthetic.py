"""A synthetic objective: a deterministic function of the configuration and the epoch, no training.

It stands where ``tuning.train.KerasObjective`` stands, so the property tests
can run hundreds of searches in seconds against every strategy's real
Keras Tuner oracle.  It measures nothing about MNIST and is never used for
results; its shape only loosely imitates the real one (a best learning rate
near 1e-3, adam ahead of rmsprop ahead of sgd, wider is better up to a
point, accuracy rising with epochs) so that model-based strategies have
something to learn.
"""

from __future__ import annotations

import math

from tuning.search import TrialRecord
from tuning.space import SPACE, Config, Space

_OPTIMIZER_BONUS = {"adam": 0.04, "rmsprop": 0.03, "sgd": 0.0}


class SyntheticObjective:
    def __init__(self, space: Space = SPACE, n_train: int = 1) -> None:
        self.space = space
        self.n_train = n_train
        self.calls: list[tuple[str, Config, int, int, str | None]] = []

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
        self, trial_id: str, config: Config, epochs: int, initial_epoch: int, resume_from: str | None
    ) -> TrialRecord:
        self.space.validate(config)
        self.calls.append((trial_id, dict(config), epochs, initial_epoch, resume_from))
        return TrialRecord(
            trial_id=trial_id,
            hyperparameters=dict(config),
            val_accuracy=[self.accuracy(config, e) for e in range(initial_epoch + 1, epochs + 1)],
            epochs=epochs - initial_epoch,
            initial_epoch=initial_epoch,
            resumed_from=resume_from,
            samples=(epochs - initial_epoch) * self.n_train,
        )


def synthetic_search(strategy, space: Space, budget, seed: int, directory: str):  # type: ignore[no-untyped-def]
    """Run ``strategy``'s oracle against the synthetic objective; return the finished ``Search``."""
    from tuning.search import Search

    search = Search(strategy.make_oracle(space, budget, seed), SyntheticObjective(space), space, budget, directory)
    search.run()
    return search
