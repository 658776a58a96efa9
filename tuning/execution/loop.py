"""The search loop: an Oracle proposes, an objective trains, the epoch budget is held.

Keras Tuner's split is kept: the Oracle (one per strategy) decides what to
try; the objective (``tuning.objectives``) decides how a configuration is
trained and scored.  ``SearchLoop`` is a Keras Tuner ``BaseTuner`` whose loop
also holds every strategy to the same total epoch budget: a trial that would
overrun it is not started.  After every trial the loop hands its whole state
(``state``) to a checkpoint callback, and ``restore`` continues from such a
state (``tuning.execution.workdir`` says why this replaces Keras Tuner's own
reload).  This is the only module that reaches into Keras Tuner's internals
(its per-trial runner, its oracle's and trials' state, its debug switch).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

import keras_tuner as kt
import numpy as np

from tuning.core.budget import Budget
from tuning.core.errors import last_line
from tuning.core.records import TrialRecord
from tuning.core.space import Space
from tuning.objectives.base import Objective
from tuning.strategies.keras_tuner_space import OBJECTIVE
from tuning.strategies.optuna_oracle import PROGRESS_KEYS as OPTUNA_PROGRESS

Progress = Callable[[TrialRecord, int, "SearchLoop"], None]
Checkpoint = Callable[[dict[str, Any]], None]
_Status = kt.engine.trial.TrialStatus
_Trial = kt.engine.trial.Trial

STATE_FORMAT = 1
# Keys of a Keras Tuner oracle's state that record progress.  Every other key is a setting that
# reloading would silently impose over the constructor's (hyperparameters, seed, Hyperband's
# factor, the GP's alpha, TPE's startup trials...): ``restore`` refuses a state whose settings
# differ from the fresh oracle's.
ORACLE_PROGRESS = frozenset(
    {
        "ongoing_trials",
        "start_order",
        "end_order",
        "run_times",
        "retry_queue",
        "seed_state",
        "tried_so_far",
        "id_to_hash",
        "display",
        "brackets",  # Hyperband's
        "current_bracket",
        "current_iteration",
    }
    | OPTUNA_PROGRESS  # the Optuna oracle's per-trial curves and sampler/pruner attributes
)


class StateError(ValueError):
    """A saved search state that this loop must not continue; the message says why."""


def unsaved_state(oracle: kt.Oracle) -> dict[str, Any]:
    """What keras-tuner 1.4.8's oracles leave out of ``get_state`` although their next proposals depend
    on it, so that a reloaded search would stray from the uninterrupted one: ``GridSearchOracle``'s walk
    through the grid (its trials in grid order, and those whose successor is still to be proposed:
    without them it proposes the first grid points again) and ``BayesianOptimizationOracle``'s numpy
    random state (where the acquisition optimiser starts: without it the same starts are drawn again)."""
    state: dict[str, Any] = {}
    if isinstance(oracle, kt.oracles.GridSearchOracle):
        links, walk = oracle._ordered_ids, []
        index = links._next_index[None]
        while index is not None:
            walk.append(links._memory[index])
            index = links._next_index[index]
        state["grid_walk"] = {"ordered_ids": walk, "populate_next": list(oracle._populate_next)}
    if isinstance(oracle, kt.oracles.BayesianOptimizationOracle):
        numpy_state = oracle._random_state.get_state(legacy=False)
        numpy_state["state"] = {"key": numpy_state["state"]["key"].tolist(), "pos": numpy_state["state"]["pos"]}
        state["numpy_random_state"] = numpy_state
    return state


def restore_unsaved_state(oracle: kt.Oracle, state: dict[str, Any]) -> None:
    """Put back what ``unsaved_state`` kept."""
    expected = set(unsaved_state(oracle))
    if set(state) != expected:
        raise StateError(
            f"the checkpoint keeps {sorted(state)} of its oracle's own state, this oracle needs {sorted(expected)}"
        )
    if "grid_walk" in state:
        links = type(oracle._ordered_ids)()
        for trial_id in state["grid_walk"]["ordered_ids"]:
            links.insert(trial_id)  # appended in grid order: the same list
        oracle._ordered_ids = links
        oracle._populate_next = list(state["grid_walk"]["populate_next"])
    if "numpy_random_state" in state:
        numpy_state = dict(state["numpy_random_state"])
        key = np.asarray(numpy_state["state"]["key"], dtype=np.uint32)
        numpy_state["state"] = {"key": key, "pos": numpy_state["state"]["pos"]}
        oracle._random_state.set_state(numpy_state)


def oracle_settings(state: dict[str, Any]) -> dict[str, Any]:
    """The settings part of an oracle state, as JSON reads it back."""
    return json.loads(json.dumps({k: v for k, v in state.items() if k not in ORACLE_PROGRESS}))


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
        checkpoint: Checkpoint | None = None,
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
        self.checkpoint = checkpoint
        self.records: list[TrialRecord] = []
        self.epochs_used = 0
        self.skipped_over_budget = 0
        self.finished = False

    def run_trial(self, trial: kt.engine.trial.Trial, *args: Any, **kwargs: Any) -> dict[str, float]:
        values = trial.hyperparameters.values
        config = self.space.active_values(values)
        epochs, initial, resume = trial_epochs(values, self.budget)
        if getattr(self.oracle, "prunes", False):  # a pruning oracle hears every epoch and may stop the trial
            stopped: list[int] = []

            def report(epoch: int, value: float) -> bool:
                if self.oracle.report(trial.trial_id, epoch, value):
                    stopped.append(epoch)
                    return True
                return False

            record = self.objective.evaluate(trial.trial_id, config, epochs, initial, resume, report=report)
            if stopped:
                record.extra["pruned_at_epoch"] = stopped[0]
        else:
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
        """Ask, train, tell until the oracle stops or the next trial would overrun the budget;
        checkpoint after every trial and at the end (a restored finished search returns at once)."""
        if self.finished:
            return self.records
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
            if self.checkpoint:
                self.checkpoint(self.state())
        self.finished = True
        if self.checkpoint:
            self.checkpoint(self.state())
        self.on_search_end()
        return self.records

    def state(self) -> dict[str, Any]:
        """Everything needed to continue this search in another process, as JSON: the oracle's
        state and trials (Keras Tuner's own ``get_state``), the records, the epochs spent."""
        return {
            "format": STATE_FORMAT,
            "oracle": self.oracle.get_state(),
            "unsaved": unsaved_state(self.oracle),
            "trials": [t.get_state() for t in self.oracle.trials.values()],
            "records": [r.to_json() for r in self.records],
            "epochs_used": self.epochs_used,
            "skipped_over_budget": self.skipped_over_budget,
            "finished": self.finished,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from ``state`` (see ``state``); ``StateError`` when its oracle settings differ from
        this loop's oracle's, which Keras Tuner's ``set_state`` would otherwise silently adopt."""
        if state.get("format") != STATE_FORMAT:
            raise StateError(f"checkpoint format {state.get('format')!r}, this version writes {STATE_FORMAT}")
        saved, fresh = oracle_settings(state["oracle"]), oracle_settings(self.oracle.get_state())
        changed = sorted(k for k in set(saved) | set(fresh) if saved.get(k) != fresh.get(k))
        if changed:
            raise StateError(f"its oracle was made with other settings ({', '.join(changed)})")
        # Trials first: set_state (TPE's included) rebuilds from them.
        self.oracle.trials = {t["trial_id"]: _Trial.from_state(t) for t in state["trials"]}
        self.oracle.set_state(state["oracle"])
        restore_unsaved_state(self.oracle, state["unsaved"])
        self.oracle.ongoing_trials = {}  # checkpoints are taken between trials: none was running
        self.records = [TrialRecord.from_json(r) for r in state["records"]]
        self.epochs_used = state["epochs_used"]
        self.skipped_over_budget = state["skipped_over_budget"]
        self.finished = state["finished"]

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
    were 70 % of a random search's replay (``persist=False`` skips them)."""
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
