"""TPE: Optuna's Tree-structured Parzen Estimator as a Keras Tuner Oracle (ask/tell).

Users who outgrow Keras Tuner move to Optuna; this puts Optuna's sampler
in our harness on the same space, data, budget and seeds as the rest.

* The space is translated from the Keras Tuner ``HyperParameters`` the
  oracle holds (``Int`` -> ``IntDistribution`` with its step, ``Float`` ->
  ``FloatDistribution`` with ``log`` for log sampling, ``Choice``/``Boolean`` ->
  ``CategoricalDistribution``).  Conditions are honoured: ``units_i`` is asked
  for only when layer ``i`` exists, and every active hyperparameter gets a
  value, so Keras Tuner never fills a gap with an unseeded random draw.
* ``n_startup_trials`` is bayesian.py's ``initial_points`` (a third of the
  trials, at least 2: smoke 2, standard 3, paper 4), the same random phase as
  the Gaussian process gets.  Optuna's default of 10 would make every budget
  we run (3, 8, 10 trials) pure random search.
* ``multivariate=True`` is Optuna's default for one objective since 5.0,
  passed explicitly so older Optuna versions sample the same way.  The
  conditional widths outside the always-present parameters are sampled by
  univariate TPE, as Optuna does for a dynamic space.
* Seeds: trial k is asked with ``TPESampler(seed=trial_seed(seed, k))``, so
  a proposal is a function of the run seed, its index and the scores told so
  far, and nothing else.  That is what makes a resumed search exact:
  Optuna's sampler keeps its random state in memory only (its own recipe is
  to pickle the sampler), while Keras Tuner reloads an oracle from its
  directory through ``get_state``/``set_state``.
* Resume: the study is rebuilt from Keras Tuner's own trial files (already
  reloaded when ``set_state`` runs) by replaying each trial, in the order
  it was asked, with ``create_trial``/``add_trial``: completed ones with their
  score, failed or never-run ones as ``FAIL`` (TPE ignores those), one still
  running when the process stopped as ``RUNNING`` (Keras Tuner retries it and
  ``end_trial`` then tells it).

Optuna is optional (``pip install .[optuna]``): it is imported only when an
oracle is made, so the strategy lists, as unavailable, without it.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from typing import Any

import keras_tuner as kt

from tuning.core.budget import Budget
from tuning.core.seeds import oracle_seed, trial_seed
from tuning.core.space import SearchSpace
from tuning.strategies.base import Strategy
from tuning.strategies.bayesian import initial_points
from tuning.strategies.keras_tuner_space import oracle_args

INSTALL_HINT = "pip install .[optuna]"
HP = kt.engine.hyperparameters
_TrialStatus = kt.engine.trial.TrialStatus


def _optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise ImportError(f"the tpe strategy needs Optuna; install it with: {INSTALL_HINT}") from None
    return optuna


@contextlib.contextmanager
def _quiet(optuna: Any) -> Iterator[None]:
    """Optuna logs a line per trial (and, for the conditional widths, that they are sampled
    univariately); our progress line already says what matters."""
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(level)


def distribution(hp: Any) -> Any:
    """The Optuna distribution of one Keras Tuner hyperparameter (``Fixed`` has none: it is not searched)."""
    d = _optuna().distributions
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
    d = _optuna().distributions
    if isinstance(dist, d.CategoricalDistribution):
        return trial.suggest_categorical(name, list(dist.choices))
    if isinstance(dist, d.IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
    return trial.suggest_float(name, dist.low, dist.high, step=dist.step, log=dist.log)


class TPEOracle(kt.Oracle):
    """Keras Tuner ``Oracle`` whose proposals come from Optuna's ``TPESampler`` (ask in
    ``populate_space``, tell in ``end_trial``), resumable from its directory."""

    def __init__(
        self,
        objective: Any = None,
        max_trials: int | None = None,
        hyperparameters: Any = None,
        seed: int | None = None,
        n_startup_trials: int = 10,
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
            raise ValueError("TPEOracle supports a single objective")
        self.sampler_seed = random.randrange(2**31) if seed is None else int(seed)
        self.n_startup_trials = int(n_startup_trials)
        self._optuna = _optuna()
        self._numbers: dict[str, int] = {}  # Keras Tuner trial id -> Optuna trial number
        self.study = self._new_study()

    # -- the study --------------------------------------------------------------
    def sampler(self, index: int) -> Any:
        """The sampler that proposes the ``index``-th trial: TPE seeded by (run seed, index)."""
        return self._optuna.samplers.TPESampler(
            seed=trial_seed(self.sampler_seed, str(index)),
            n_startup_trials=self.n_startup_trials,
            multivariate=True,
        )

    def _new_study(self) -> Any:
        direction = "maximize" if self.objective.direction == "max" else "minimize"
        with _quiet(self._optuna):
            return self._optuna.create_study(direction=direction, sampler=self.sampler(0))

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
        with _quiet(self._optuna):
            trial = self.study.ask()
            hps = HP.HyperParameters()
            for hp in self.hyperparameters.space:
                hps.merge([hp])
                if not hps.is_active(hp):
                    continue
                value = hp.value if isinstance(hp, HP.Fixed) else _suggest(trial, hp.name, distribution(hp))
                hps.values[hp.name] = value
        self._numbers[trial_id] = trial.number
        return {"status": _TrialStatus.RUNNING, "values": dict(hps.values)}

    # -- tell ---------------------------------------------------------------------
    def end_trial(self, trial: Any) -> None:
        """Let Keras Tuner settle the trial (score, retries), then tell Optuna how it ended."""
        super().end_trial(trial)
        ended = self.trials[trial.trial_id]
        state, value = self._outcome(ended)
        if state is not None and trial.trial_id in self._numbers:
            with _quiet(self._optuna):
                self.study.tell(self._numbers[trial.trial_id], value, state=state, skip_if_finished=True)
            self.save()  # Keras Tuner saved before the tell; keep the file in step

    def _outcome(self, trial: Any) -> tuple[Any, float | None]:
        """(Optuna state, value) of a Keras Tuner trial; state None while it may still run (a retry)."""
        states = self._optuna.trial.TrialState
        if trial.status == _TrialStatus.COMPLETED:
            return states.COMPLETE, float(trial.score)
        if trial.status in (_TrialStatus.FAILED, _TrialStatus.STOPPED):
            return states.FAIL, None  # failed, or never run (over budget): TPE learns nothing from it
        return None, None

    # -- resume -------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        state = super().get_state()
        state["tpe"] = {"seed": self.sampler_seed, "n_startup_trials": self.n_startup_trials}
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore the settings, then rebuild the study from the reloaded trials, in the order they were asked."""
        super().set_state(state)
        self.sampler_seed = state["tpe"]["seed"]
        self.n_startup_trials = state["tpe"]["n_startup_trials"]
        self.study = self._new_study()
        self._numbers = {}
        optuna = self._optuna
        with _quiet(optuna):
            for trial_id in self.start_order:
                kt_trial = self.trials[trial_id]
                values = kt_trial.hyperparameters.values  # the active ones only, as populate_space gave them
                dists = self.distributions(values)
                state_, value = self._outcome(kt_trial)
                frozen = optuna.trial.create_trial(
                    state=state_ or optuna.trial.TrialState.RUNNING,
                    value=value,
                    params={k: values[k] for k in dists},
                    distributions=dists,
                )
                self.study.add_trial(frozen)
                self._numbers[trial_id] = len(self.study.trials) - 1


def settings(space: SearchSpace, budget: Budget) -> dict[str, Any]:
    return {
        "max_trials": budget.trials,
        "sampler": "optuna.samplers.TPESampler",
        "n_startup_trials": initial_points(budget),
        "multivariate": True,
        "sampler_seed": "trial_seed(seed, trial index), one sampler per trial",
    }


def tpe_oracle(space: SearchSpace, seed: int, max_trials: int, n_startup_trials: int) -> TPEOracle:
    """A TPE oracle given what every oracle here is given (``oracle_args``)."""
    args = oracle_args(space, seed)
    args["seed"] = seed  # TPEOracle shifts it for Keras Tuner itself and keeps the run seed for its samplers
    return TPEOracle(max_trials=max_trials, n_startup_trials=n_startup_trials, **args)


def make_oracle(space: SearchSpace, budget: Budget, seed: int) -> TPEOracle:
    return tpe_oracle(space, seed, budget.trials, initial_points(budget))


STRATEGY = Strategy(
    name="tpe",
    summary="Optuna's TPESampler (multivariate) as a Keras Tuner oracle, a third of trials random first",
    make_oracle=make_oracle,
    requires=("optuna",),
    install_hint=INSTALL_HINT,
    settings=settings,
)
