"""The search loop: an Oracle proposes, an objective trains, the epoch budget is held.

Keras Tuner's split is kept: the Oracle (one per strategy) decides what to
try; the objective (``tuning.objectives``) decides how a configuration is
trained and scored.  ``SearchLoop`` is a Keras Tuner ``BaseTuner`` whose loop
also holds every strategy to the same total epoch budget: a trial that would
overrun it is not started.  This is the only module that reaches into Keras
Tuner's internals (its per-trial runner and its debug switch).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import keras_tuner as kt

from tuning.core.budget import Budget
from tuning.core.records import TrialRecord
from tuning.core.space import Space
from tuning.objectives.base import Objective
from tuning.strategies.keras_tuner_space import OBJECTIVE

Progress = Callable[[TrialRecord, int, "SearchLoop"], None]
_Status = kt.engine.trial.TrialStatus

IDLE_WAIT_SECONDS = 60.0  # how long a (parallel) oracle may keep answering "wait" before the loop gives up


def trial_epochs(values: dict[str, Any], budget: Budget) -> tuple[int, int, str | None]:
    """(target epoch, initial epoch, trial to resume) of a proposal: Hyperband's or the budget's."""
    epochs = int(values.get("tuner/epochs", budget.epochs))
    initial = int(values.get("tuner/initial_epoch", 0))
    return epochs, initial, values.get("tuner/trial_id")


class SearchLoop(kt.engine.base_tuner.BaseTuner):
    """Runs an oracle's proposals through an objective within a budget."""

    def __init__(
        self,
        oracle: kt.Oracle,
        objective: Objective,
        space: Space,
        budget: Budget,
        directory: str,
        project_name: str = "search",
        overwrite: bool = True,
        progress: Progress | None = None,
        persist: bool = True,
    ) -> None:
        oracle.verbose = 0  # our own progress line replaces Keras Tuner's tables
        _quiet_failed_trials()
        super().__init__(oracle=oracle, directory=directory, project_name=project_name, overwrite=overwrite)
        if not persist:
            _skip_persistence(self)
        self.objective = objective
        self.space = space
        self.budget = budget
        self.progress = progress
        self.records: list[TrialRecord] = []
        self.epochs_used = 0
        self.skipped_over_budget = 0

    def run_trial(self, trial: kt.engine.trial.Trial, *args: Any, **kwargs: Any) -> dict[str, float]:
        values = trial.hyperparameters.values
        config = self.space.active_values(values)
        epochs, initial, resume = trial_epochs(values, self.budget)
        record = self.objective.evaluate(trial.trial_id, config, epochs, initial, resume)
        self.records.append(record)
        self.epochs_used += record.epochs
        return {OBJECTIVE.name: record.score}

    def next_trial(self) -> kt.engine.trial.Trial | None:
        """The oracle's next proposal; None when it stops.  A sequential oracle never answers IDLE;
        a parallel one may, for a while: wait with backoff instead of spinning, up to ``IDLE_WAIT_SECONDS``."""
        waited, pause = 0.0, 0.01
        while True:
            trial = self.oracle.create_trial(self.tuner_id)
            if trial.status == _Status.STOPPED:
                return None
            if trial.status != _Status.IDLE:
                return trial
            if waited >= IDLE_WAIT_SECONDS:
                return None
            time.sleep(pause)
            waited += pause
            pause = min(2 * pause, 1.0)

    def search(self) -> list[TrialRecord]:
        """Ask, train, tell until the oracle stops or the next trial would overrun the budget."""
        self.on_search_begin()
        while (trial := self.next_trial()) is not None:
            epochs, initial, _ = trial_epochs(trial.hyperparameters.values, self.budget)
            if self.epochs_used + (epochs - initial) > self.budget.epoch_budget:
                trial.status = _Status.STOPPED
                self.oracle.end_trial(trial)
                self.skipped_over_budget += 1
                break
            self.on_trial_begin(trial)
            n_before = len(self.records)
            self._try_run_and_update_trial(trial)  # Keras Tuner's retries and failure bookkeeping
            if len(self.records) == n_before:  # the objective raised: record the failure
                config = self.space.active_values(trial.hyperparameters.values)
                self.records.append(
                    TrialRecord(trial.trial_id, config, [], 0, extra={"error": last_line(trial.message)})
                )
            self.on_trial_end(trial)
            self.records[-1].status = str(self.oracle.get_trial(trial.trial_id).status)
            if self.progress:
                self.progress(self.records[-1], len(self.records), self)
        self.on_search_end()
        return self.records

    def best(self) -> TrialRecord | None:
        """The completed trial with the highest validation score (first one on ties, as the oracle ranks)."""
        best = self.oracle.get_best_trials(1)
        if not best:
            return None
        by_id = {r.trial_id: r for r in self.records}
        return by_id.get(best[0].trial_id)

    def best_score(self) -> float:
        done = [r.score for r in self.records if r.status == "COMPLETED" and r.val_accuracy]
        return max(done) if done else float("nan")


def _skip_persistence(loop: SearchLoop) -> None:
    """Keras Tuner writes the oracle, the tuner and each trial to disk at every step, so that a search
    can be reloaded.  A replay's search takes milliseconds and is never reloaded: there the writes
    were 85 % of a random search's time (``persist=False`` skips them)."""
    loop.oracle.save = lambda: None
    loop.oracle._save_trial = lambda trial: None
    loop.save = lambda: None


def _quiet_failed_trials() -> None:
    """Keras Tuner prints a traceback for every failed trial; we record the error in the
    trial instead (and ``tuning run`` exits with one line).  TUNING_DEBUG=1 keeps them."""
    if os.environ.get("TUNING_DEBUG"):
        return
    try:
        from keras_tuner.src import config as kt_config  # no public switch in keras-tuner 1.4
    except ImportError:
        return
    kt_config.DEBUG = False


def last_line(message: str | None) -> str:
    lines = [line for line in (message or "").strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""
