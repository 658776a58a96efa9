"""The replay objective: a search's trials answered from the table and its surrogate, on a simulated clock.

It stands where the live objective stands (``tuning.objectives.base.Objective``),
so the very same oracles run through the very same search loop.  Each trial
draws one seed's curve (``Surrogate.draw``) from a generator seeded by
(run seed, trial id), and a configuration the table lacks its model error
from one seeded by (run seed, configuration), so a replay is a function of
its seed alone.  A
continued trial (Hyperband) carries on along the curve it continues, as
the live one carries on from its weights.  Seconds are the recorded or
predicted ones (``Curve.seconds``); ``simulated_seconds`` adds them up and
``real_seconds`` counts the time spent here, so the run's clock can be made
simulated training time plus the strategy's real decision time, as Syne
Tune's simulator does.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import numpy as np

from tuning.core.budget import Budget
from tuning.core.records import TrialRecord
from tuning.core.space import Config, SearchSpace
from tuning.objectives.base import EpochReport
from tuning.objectives.replay.surrogate import Curve, Surrogate


class ReplayObjective:
    capabilities: frozenset[str] = frozenset()  # recorded curves cannot answer a change to training itself

    def __init__(
        self,
        surrogate: Surrogate,
        budget: Budget,
        seed: int,
        space: SearchSpace,
        provenance: dict[str, Any] | None = None,
        dataset: str = "MNIST",
    ) -> None:
        self.surrogate, self.budget, self.seed, self.space = surrogate, budget, seed, space
        self.provenance = provenance or {}
        self.dataset = dataset  # what the recorded trials trained on, as a result's split names it
        self.curves: dict[str, Curve] = {}  # trial id -> the curve it drew (or continued)
        self.reached: dict[str, int] = {}  # trial id -> epochs reached
        self.simulated_seconds = 0.0
        self.real_seconds = 0.0

    def clock(self) -> float:
        """The run's simulated clock: real time outside the objective (the strategy's own decisions, measured)
        plus the recorded or predicted seconds of every trial and test answered so far."""
        return time.perf_counter() - self.real_seconds + self.simulated_seconds

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
        self.space.validate(config)
        if not 0 <= initial_epoch < epochs <= self.surrogate.epochs:
            raise ValueError(f"epochs {initial_epoch}..{epochs}: the table holds epochs 1..{self.surrogate.epochs}")
        if resume_from is not None:
            curve = self.curves[resume_from]
        else:
            curve = self.surrogate.draw(
                config, np.random.default_rng([self.seed, int(trial_id)]), self.error_rng(config)
            )
        if report is not None:  # the drawn curve holds every epoch: stop after the one the pruner names
            for epoch in range(initial_epoch + 1, epochs + 1):
                if report(epoch, float(curve.val_accuracy[epoch - 1])):
                    epochs = epoch
                    break
        self.curves[trial_id], self.reached[trial_id] = curve, epochs
        seconds, train_seconds = curve.seconds(initial_epoch, epochs)
        self.simulated_seconds += seconds
        self.real_seconds += time.perf_counter() - started
        return TrialRecord(
            trial_id=trial_id,
            hyperparameters=dict(config),
            val_accuracy=[float(v) for v in curve.val_accuracy[initial_epoch:epochs]],
            epochs=epochs - initial_epoch,
            initial_epoch=initial_epoch,
            resumed_from=resume_from,
            seconds=seconds,
            train_seconds=train_seconds,
            samples=(epochs - initial_epoch) * self.budget.n_train,
            extra={"replay": curve.source},
        )

    def error_rng(self, config: Config) -> np.random.Generator:
        """The generator of a configuration's model error in this replay: seeded by (run seed, configuration), so a
        configuration visited twice in one replay keeps one error, as a live configuration keeps its true mean."""
        digest = hashlib.sha256(self.space.key(config).encode()).digest()
        return np.random.default_rng([self.seed, int.from_bytes(digest[:8], "little")])

    def test(self, trial_id: str, config: Config) -> tuple[float, float]:
        """(test loss, test accuracy) after the epochs the trial reached (the loss is NaN where not recorded)."""
        curve, epoch = self.curves[trial_id], self.reached[trial_id]
        self.simulated_seconds += curve.test_seconds
        return float(curve.test_loss[epoch - 1]), float(curve.test_accuracy[epoch - 1])

    def data(self) -> dict[str, Any]:
        return {
            "dataset": f"{self.dataset}, replayed",
            "source": "recorded learning curves and a surrogate fitted to them (see replay)",
            "n_train": self.budget.n_train,
            "n_val": self.budget.n_val,
        }

    def settings(self) -> dict[str, Any]:
        return {}
