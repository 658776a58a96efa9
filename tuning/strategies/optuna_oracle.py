"""Any Optuna sampler (and pruner) as a Keras Tuner Oracle (ask/tell): one oracle, each strategy a few lines.

Users who outgrow Keras Tuner move to Optuna; this puts Optuna's samplers and
pruners in our harness on the same space, data, budget and seeds as the rest.

* The space is translated from the Keras Tuner ``HyperParameters`` the
  oracle holds (``Int`` -> ``IntDistribution`` with its step, ``Float`` ->
  ``FloatDistribution`` with ``log`` for log sampling, ``Choice``/``Boolean`` ->
  ``CategoricalDistribution``), so it works for any Keras Tuner space.
  Conditions are honoured: a conditional hyperparameter is asked for only
  when it is active, and every active one gets a value, so Keras Tuner never
  fills a gap with an unseeded random draw.  How a sampler treats the
  parameters that are not in every trial is its own business (TPE: univariate;
  CMA-ES, GP, QMC: their ``independent_sampler``).
* Seeds: trial k is asked with a sampler made for (run seed, ``trial_seed(seed, k)``),
  so a proposal is a function of the run seed, its index and what the study
  holds, and nothing else.  Optuna keeps a sampler's random state in memory
  only (its own recipe is to pickle the sampler), while Keras Tuner reloads
  an oracle from its directory through ``get_state``/``set_state``.
* What samplers and pruners keep in the study (CMA-ES's pickled optimizer and
  a pruner's rung values in trial system attributes, QMC's sequence index in
  the study's) goes into the oracle's state with each trial's intermediate
  values, so a reload rebuilds the very study (``PROGRESS_KEYS``).
* Resume: the study is rebuilt from Keras Tuner's own trial files (already
  reloaded when ``set_state`` runs) by replaying each trial, in the order it
  was asked, with ``create_trial``/``add_trial``: completed ones with their
  score, pruned ones as ``PRUNED`` with their curve, failed or never-run ones
  as ``FAIL``, one still running when the process stopped as ``RUNNING``
  (Keras Tuner retries it and ``end_trial`` then tells it).
* Pruning (a ``pruner`` given): the search loop calls ``report`` after every
  epoch; the value is reported to the Optuna trial at that epoch and the
  pruner says whether to stop.  A pruned trial stays a completed Keras Tuner
  trial (scored at the epoch it reached, as Hyperband's short trials are)
  and is told to Optuna as ``PRUNED``.

Optuna is optional (``pip install .[optuna]``): it is imported only when an
oracle is made, so the strategies list, as unavailable, without it.
"""

from __future__ import annotations

import contextlib
import random
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import keras_tuner as kt

from tuning.core.seeds import oracle_seed, trial_seed
from tuning.core.space import SearchSpace
from tuning.strategies.keras_tuner_space import oracle_args

INSTALL_HINT = "pip install .[optuna]"
HP = kt.engine.hyperparameters
_TrialStatus = kt.engine.trial.TrialStatus
STUDY_NAME = "search"  # fixed: HyperbandPruner assigns a trial's bracket by hashing the study's name with its number
# The oracle state's keys that record progress, not settings (the search loop must not compare them).
PROGRESS_KEYS = frozenset({"optuna_trials", "optuna_study"})

SamplerFactory = Callable[[int, int], Any]  # (run seed, this trial's seed) -> an Optuna sampler
PrunerFactory = Callable[[], Any]  # () -> an Optuna pruner


def optuna_module(strategy: str = "this", hint: str = INSTALL_HINT) -> Any:
    try:
        import optuna
    except ImportError:
        raise ImportError(f"the {strategy} strategy needs Optuna; install it with: {hint}") from None
    return optuna


def random_sampler(seed: int) -> Any:
    """The ``independent_sampler`` of the samplers with a relative space (CMA-ES, QMC, GP): Optuna's default,
    ``RandomSampler``, passed explicitly so that it is seeded like the trial."""
    return optuna_module().samplers.RandomSampler(seed=seed)


SAMPLER_SEED = "trial_seed(seed, trial index), one sampler per trial"


@contextlib.contextmanager
def quiet(optuna: Any) -> Iterator[None]:
    """Optuna logs a line per trial (and, for conditional parameters, that they are sampled
    independently); our progress line already says what matters."""
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(level)


def distribution(hp: Any) -> Any:
    """The Optuna distribution of one Keras Tuner hyperparameter (``Fixed`` has none: it is not searched)."""
    d = optuna_module().distributions
    if isinstance(hp, HP.Boolean):
        return d.CategoricalDistribution([False, True])
    if isinstance(hp, HP.Choice):
        return d.CategoricalDistribution(list(hp.values))
    if isinstance(hp, (HP.Int, HP.Float)) and hp.sampling not in ("linear", "log"):
        raise ValueError(f"{hp.name}: Optuna has no {hp.sampling!r} sampling")
    log = getattr(hp, "sampling", None) == "log"
    if log and hp.step not in (None, 1):
        # Keras Tuner reads a step with log sampling as a factor (a geometric grid); Optuna has no such grid.
        raise ValueError(f"{hp.name}: Optuna has no geometric grid (log sampling with step {hp.step})")
    if isinstance(hp, HP.Int):
        return d.IntDistribution(hp.min_value, hp.max_value, log=log, step=1 if log else (hp.step or 1))
    if isinstance(hp, HP.Float):
        return d.FloatDistribution(hp.min_value, hp.max_value, log=log, step=None if log else hp.step)
    raise ValueError(f"{hp.name}: no Optuna distribution for {type(hp).__name__}")


def _suggest(trial: Any, name: str, dist: Any) -> Any:
    """Ask ``trial`` for ``name`` through Optuna's public suggest API."""
    d = optuna_module().distributions
    if isinstance(dist, d.CategoricalDistribution):
        return trial.suggest_categorical(name, list(dist.choices))
    if isinstance(dist, d.IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
    return trial.suggest_float(name, dist.low, dist.high, step=dist.step, log=dist.log)


class OptunaOracle(kt.Oracle):
    """Keras Tuner ``Oracle`` whose proposals come from an Optuna sampler (ask in ``populate_space``,
    tell in ``end_trial``), optionally stopping trials through an Optuna pruner (``report``);
    resumable from its directory.

    ``make_sampler`` makes the sampler that proposes one trial; ``make_pruner`` the study's pruner;
    ``options`` are the settings saved in the state (so a reload with other settings is refused).
    """

    STATE_KEY = "optuna"

    def __init__(
        self,
        objective: Any = None,
        max_trials: int | None = None,
        hyperparameters: Any = None,
        seed: int | None = None,
        *,
        make_sampler: SamplerFactory | None = None,
        make_pruner: PrunerFactory | None = None,
        max_epochs: int | None = None,
        options: dict[str, Any] | None = None,
        fixed_space: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            objective=objective,
            max_trials=max_trials,
            hyperparameters=hyperparameters,
            seed=None if seed is None else oracle_seed(seed),
            **kwargs,
        )
        if hasattr(self.objective, "name_to_direction"):  # Keras Tuner's MultiObjective
            raise ValueError(f"{type(self).__name__} supports a single objective")
        if make_sampler is None:
            raise ValueError("an Optuna oracle needs make_sampler")
        self.sampler_seed = random.randrange(2**31) if seed is None else int(seed)
        self.make_sampler = make_sampler
        self.make_pruner = make_pruner
        self.max_epochs = max_epochs  # the last epoch a trial trains: no pruning decision there
        self.options = dict(options or {})
        # Ask Optuna for inactive hyperparameters too (Keras Tuner gets the active ones only), so the sampler sees
        # one fixed space: CMA-ES keeps one optimizer of fixed dimension and falls back to random sampling for
        # good once the space it saw shrinks (a trial with fewer layers).
        self.fixed_space = bool(fixed_space)
        self._optuna = optuna_module()
        self._numbers: dict[str, int] = {}  # Keras Tuner trial id -> Optuna trial number
        self._asked: dict[str, Any] = {}  # Keras Tuner trial id -> the Optuna trial still running
        self.pruned: set[str] = set()  # Keras Tuner trial ids the pruner stopped
        self.study = self._new_study()

    @property
    def prunes(self) -> bool:
        """Whether trials report each epoch and may be stopped (the search loop then passes ``report``)."""
        return self.make_pruner is not None

    # -- the study --------------------------------------------------------------
    def sampler(self, index: int) -> Any:
        """The sampler that proposes the ``index``-th trial, seeded by (run seed, index).  Optuna warns that
        QMC and GP samplers are experimental at every construction: said once in docs/strategies.md instead."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", self._optuna.exceptions.ExperimentalWarning)
            return self.make_sampler(self.sampler_seed, trial_seed(self.sampler_seed, str(index)))

    def _new_study(self) -> Any:
        direction = "maximize" if self.objective.direction == "max" else "minimize"
        pruner = self.make_pruner() if self.make_pruner else None
        with quiet(self._optuna):
            return self._optuna.create_study(
                direction=direction, sampler=self.sampler(0), pruner=pruner, study_name=STUDY_NAME
            )

    def distributions(self, values: dict[str, Any]) -> dict[str, Any]:
        """The Optuna distributions of the searched hyperparameters active under ``values``."""
        return {
            hp.name: distribution(hp)
            for hp in self.hyperparameters.space
            if hp.name in values and not isinstance(hp, HP.Fixed)
        }

    # -- ask ----------------------------------------------------------------------
    def populate_space(self, trial_id: str) -> dict[str, Any]:
        """Ask Optuna for a value for every active hyperparameter, parents before their children."""
        index = len(self.study.trials)
        self.study.sampler = self.sampler(index)
        with quiet(self._optuna):
            trial = self.study.ask()
            hps = HP.HyperParameters()
            for hp in self.hyperparameters.space:
                hps.merge([hp])
                if not hps.is_active(hp):
                    if self.fixed_space and not isinstance(hp, HP.Fixed):
                        _suggest(trial, hp.name, distribution(hp))
                    continue
                value = hp.value if isinstance(hp, HP.Fixed) else _suggest(trial, hp.name, distribution(hp))
                hps.values[hp.name] = value
        self._numbers[trial_id] = trial.number
        self._asked[trial_id] = trial
        return {"status": _TrialStatus.RUNNING, "values": dict(hps.values)}

    # -- per epoch ------------------------------------------------------------------
    def report(self, trial_id: str, epoch: int, value: float) -> bool:
        """Report ``value`` after ``epoch`` (1-based) of a running trial; True when the pruner stops it."""
        trial = self._asked.get(trial_id)
        if trial is None or self.make_pruner is None:
            return False
        with quiet(self._optuna):
            trial.report(float(value), epoch)
            if self.max_epochs is not None and epoch >= self.max_epochs:
                return False  # trained to the end: nothing left to save
            stop = bool(trial.should_prune())
        if stop:
            self.pruned.add(trial_id)
        return stop

    # -- tell ---------------------------------------------------------------------
    def end_trial(self, trial: Any) -> None:
        """Let Keras Tuner settle the trial (score, retries), then tell Optuna how it ended."""
        super().end_trial(trial)
        ended = self.trials[trial.trial_id]
        state, value = self._outcome(ended)
        if state is not None and trial.trial_id in self._numbers:
            self._asked.pop(trial.trial_id, None)
            with quiet(self._optuna):
                self.study.tell(self._numbers[trial.trial_id], value, state=state, skip_if_finished=True)
            self.save()  # Keras Tuner saved before the tell; keep the file in step

    def _outcome(self, trial: Any) -> tuple[Any, float | None]:
        """(Optuna state, value) of a Keras Tuner trial; state None while it may still run (a retry)."""
        states = self._optuna.trial.TrialState
        if trial.status == _TrialStatus.COMPLETED:
            if trial.trial_id in self.pruned:
                return states.PRUNED, None  # Optuna takes the last reported value
            return states.COMPLETE, float(trial.score)
        if trial.status in (_TrialStatus.FAILED, _TrialStatus.STOPPED):
            return states.FAIL, None  # failed, or never run (over budget): the sampler learns nothing from it
        return None, None

    # -- resume -------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        state = super().get_state()
        state[self.STATE_KEY] = {"seed": self.sampler_seed, **self.options}
        frozen = {t.number: t for t in self.study.get_trials(deepcopy=False)}
        state["optuna_trials"] = {
            trial_id: {
                "intermediate": {str(k): v for k, v in frozen[n].intermediate_values.items()},
                "system_attrs": dict(frozen[n].system_attrs),
                "pruned": trial_id in self.pruned,
                "params": dict(frozen[n].params),  # inactive ones included, with fixed_space
            }
            for trial_id, n in self._numbers.items()
            if n in frozen
        }
        state["optuna_study"] = dict(
            self.study._storage.get_study_system_attrs(self.study._study_id)
        )  # no public getter
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore the seed, then rebuild the study from the reloaded trials, in the order they were asked."""
        super().set_state(state)
        self.sampler_seed = state[self.STATE_KEY]["seed"]
        self.restore_options(state[self.STATE_KEY])
        self.study = self._new_study()
        self._numbers, self._asked = {}, {}
        kept = state.get("optuna_trials", {})
        self.pruned = {trial_id for trial_id, saved in kept.items() if saved.get("pruned")}
        optuna = self._optuna
        with quiet(optuna):
            for key, value in state.get("optuna_study", {}).items():
                self.study._storage.set_study_system_attr(self.study._study_id, key, value)  # no public setter
            for trial_id in self.start_order:
                kt_trial = self.trials[trial_id]
                saved = kept.get(trial_id, {})
                # the active ones only, as populate_space gave them; or all Optuna was asked for, as saved
                values = saved.get("params") or kt_trial.hyperparameters.values
                dists = self.distributions(values)
                state_, value = self._outcome(kt_trial)
                intermediate = {int(k): v for k, v in saved.get("intermediate", {}).items()}
                if state_ == optuna.trial.TrialState.PRUNED and intermediate:
                    value = intermediate[max(intermediate)]  # what tell gave it
                frozen = optuna.trial.create_trial(
                    state=state_ or optuna.trial.TrialState.RUNNING,
                    value=value,
                    params={k: values[k] for k in dists},
                    distributions=dists,
                    system_attrs=saved.get("system_attrs") or None,
                    intermediate_values=intermediate or None,
                )
                self.study.add_trial(frozen)
                self._numbers[trial_id] = len(self.study.trials) - 1

    def restore_options(self, saved: dict[str, Any]) -> None:
        """Take back settings a subclass keeps as attributes (the search loop has checked they match)."""


def optuna_oracle(
    space: SearchSpace, seed: int, max_trials: int, oracle_class: type[OptunaOracle] = OptunaOracle, **kwargs: Any
) -> Any:
    """An Optuna oracle given what every oracle here is given (``oracle_args``); ``kwargs`` go to ``oracle_class``."""
    args = oracle_args(space, seed)
    args["seed"] = seed  # the oracle shifts it for Keras Tuner itself and keeps the run seed for its samplers
    return oracle_class(max_trials=max_trials, **args, **kwargs)
