"""SMAC3's facades as a Keras Tuner Oracle (ask/tell), the space translated to ConfigSpace, conditions included.

* The space is translated from the Keras Tuner ``HyperParameters`` the oracle
  holds, so it works for any Keras Tuner space: ``Int`` -> ``Integer`` (step 1)
  or ``OrdinalHyperparameter`` over its grid (step > 1: ConfigSpace 1.x has
  no quantised integer), ``Float`` -> ``Float`` (``log`` kept), ``Choice`` ->
  ``Categorical`` or, ordered, ``OrdinalHyperparameter``, ``Boolean`` ->
  ``Categorical``.  Keras Tuner's conditions become ``InCondition`` on the
  parent (``units_i`` active only when ``num_layers > i``); several on one
  hyperparameter, an ``AndConjunction``.  A ``Fixed`` one is not searched.
* SMAC minimises a cost: it is told 1 - validation accuracy; a failed trial
  the scenario's ``crash_cost`` (1, an accuracy of 0).  A trial the budget
  never ran is not told (the search ends there).
* The scenario is not deterministic (``deterministic=False``, the default here): a trial's
  weights and shuffling follow its own seed, so the same configuration scores
  differently, and SMAC's intensification re-evaluates incumbents (its own
  ``seed`` per evaluation is not passed on: our trials are seeded by their id).
* Resume: SMAC keeps its state in Python objects (run history, intensifier
  queues, random states).  ``set_state`` rebuilds it by replaying the
  search: a fresh SMAC with the same seed is asked once per reloaded trial,
  in order, and told that trial's outcome.  SMAC's asks are a function of its
  seed and what it was told, so the replay reaches the same state; each
  replayed proposal is checked against the reloaded trial, and a mismatch
  refuses the checkpoint (``ValueError``) rather than continue another search.
* SMAC writes its run history to an output folder: a temporary one per
  oracle, removed with the oracle.

SMAC is optional (``pip install .[smac]``): imported only when an oracle is
made, so the strategies list, as unavailable, without it.  SMAC 2.4's random
forest is scikit-learn's (pyrfr is an optional extra of SMAC that we do not need).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import warnings
import weakref
from collections.abc import Iterator
from typing import Any

import keras_tuner as kt

from tuning.core.space import SearchSpace
from tuning.strategies.keras_tuner_space import oracle_args

INSTALL_HINT = "pip install .[smac]"
HP = kt.engine.hyperparameters
_TrialStatus = kt.engine.trial.TrialStatus
CRASH_COST = 1.0  # 1 - accuracy of a failed trial
FACADES = ("hpo", "multi_fidelity")


def smac_modules(strategy: str) -> tuple[Any, Any]:
    """(smac, ConfigSpace), or ImportError with the install hint."""
    try:
        import ConfigSpace
        import smac
    except ImportError:
        raise ImportError(f"the {strategy} strategy needs SMAC3; install it with: {INSTALL_HINT}") from None
    return smac, ConfigSpace


def config_space(hyperparameters: Any, seed: int) -> Any:
    """The ConfigSpace ``ConfigurationSpace`` of a Keras Tuner ``HyperParameters``, conditions included."""
    _, cs = smac_modules("this")
    space = cs.ConfigurationSpace(seed=seed)
    made: dict[str, Any] = {}
    for hp in hyperparameters.space:
        if isinstance(hp, HP.Fixed):
            continue
        made[hp.name] = _translate(cs, hp)
    space.add(list(made.values()))
    conditions = []
    for hp in hyperparameters.space:
        if hp.name not in made or not hp.conditions:
            continue
        parts = []
        for condition in hp.conditions:
            if condition.name not in made:
                raise ValueError(f"{hp.name}: its condition's parent {condition.name!r} is not searched")
            parent = made[condition.name]
            legal = [v for v in condition.values if _legal(parent, v)]
            parts.append(cs.InCondition(made[hp.name], parent, legal))
        conditions.append(parts[0] if len(parts) == 1 else cs.AndConjunction(*parts))
    if conditions:
        space.add(conditions)
    return space


def _legal(hp: Any, value: Any) -> bool:
    try:
        return bool(hp.legal_value(value))
    except (TypeError, ValueError):
        return False


def _translate(cs: Any, hp: Any) -> Any:
    if isinstance(hp, HP.Boolean):
        return cs.Categorical(hp.name, [False, True])
    if isinstance(hp, HP.Choice):
        if hp.ordered:
            return cs.OrdinalHyperparameter(hp.name, list(hp.values))
        return cs.Categorical(hp.name, list(hp.values))
    if isinstance(hp, (HP.Int, HP.Float)) and hp.sampling not in ("linear", "log"):
        raise ValueError(f"{hp.name}: ConfigSpace has no {hp.sampling!r} sampling")
    log = hp.sampling == "log"
    step = hp.step or 1 if isinstance(hp, HP.Int) else hp.step
    if log and step not in (None, 1):
        raise ValueError(f"{hp.name}: ConfigSpace has no geometric grid (log sampling with step {hp.step})")
    if isinstance(hp, HP.Int):
        if step == 1:
            return cs.Integer(hp.name, (hp.min_value, hp.max_value), log=log)
        return cs.OrdinalHyperparameter(hp.name, list(range(hp.min_value, hp.max_value + 1, step)))
    if isinstance(hp, HP.Float):
        if step is not None:
            raise ValueError(f"{hp.name}: a stepped Float has no ConfigSpace counterpart here")
        return cs.Float(hp.name, (hp.min_value, hp.max_value), log=log)
    raise ValueError(f"{hp.name}: no ConfigSpace hyperparameter for {type(hp).__name__}")


def _plain(value: Any) -> Any:
    """numpy scalars (ConfigSpace's ordinals and categoricals) as Python values."""
    return value.item() if hasattr(value, "item") else value


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """SMAC logs its progress and every model refit at INFO/WARNING; our progress line says what matters.
    In a Dask worker scikit-learn warns at every forest fit that it uses one job, as it does anyway here."""
    logger = logging.getLogger("smac")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Inside a Dask worker", category=UserWarning)
            yield
    finally:
        logger.setLevel(level)


class SmacOracle(kt.Oracle):
    """Keras Tuner ``Oracle`` whose proposals come from a SMAC3 facade (``ask`` in ``populate_space``,
    ``tell`` in ``end_trial``).  ``facade``: ``"hpo"`` (random-forest BO) or ``"multi_fidelity"``
    (Hyperband with SMAC's model, budgets in epochs up to ``max_epochs``, reduction factor ``eta``)."""

    def __init__(
        self,
        objective: Any = None,
        max_trials: int | None = None,
        hyperparameters: Any = None,
        seed: int | None = None,
        *,
        facade: str = "hpo",
        max_epochs: int = 1,
        eta: int = 3,
        deterministic: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            objective=objective, max_trials=max_trials, hyperparameters=hyperparameters, seed=seed, **kwargs
        )
        if hasattr(self.objective, "name_to_direction"):
            raise ValueError("SmacOracle supports a single objective")
        if facade not in FACADES:
            raise ValueError(f"facade {facade!r}: one of {', '.join(FACADES)}")
        self.smac_seed = int(self.seed)
        self.facade, self.max_epochs, self.eta = facade, int(max_epochs), int(eta)
        self.deterministic = bool(deterministic)
        self._smac, self._cs = smac_modules("smac")
        self._output = tempfile.mkdtemp(prefix="smac-")
        weakref.finalize(self, shutil.rmtree, self._output, True)
        self._infos: dict[str, Any] = {}  # Keras Tuner trial id -> SMAC's TrialInfo, until told
        self.optimizer = self._new_optimizer()

    def _new_optimizer(self) -> Any:
        smac = self._smac
        space = config_space(self.hyperparameters, self.smac_seed)
        multi_fidelity = self.facade == "multi_fidelity"
        scenario = smac.Scenario(
            space,
            deterministic=self.deterministic,
            n_trials=self.max_trials or 10**6,
            seed=self.smac_seed,
            crash_cost=CRASH_COST,
            output_directory=self._output,
            **({"min_budget": 1, "max_budget": self.max_epochs} if multi_fidelity else {}),
        )
        facade = smac.MultiFidelityFacade if multi_fidelity else smac.HyperparameterOptimizationFacade
        extra = {"intensifier": facade.get_intensifier(scenario, eta=self.eta)} if multi_fidelity else {}
        with _quiet():
            return facade(scenario, target_function=None, overwrite=True, logging_level=False, **extra)

    # -- ask ----------------------------------------------------------------------
    def _ask(self) -> tuple[Any, dict[str, Any]]:
        """SMAC's next trial and the Keras Tuner values it stands for."""
        with _quiet():
            info = self.optimizer.ask()
        config = {k: _plain(v) for k, v in dict(info.config).items()}
        hps = HP.HyperParameters()
        for hp in self.hyperparameters.space:
            hps.merge([hp])
            if not hps.is_active(hp):
                continue
            hps.values[hp.name] = hp.value if isinstance(hp, HP.Fixed) else config[hp.name]
        values = dict(hps.values)
        if self.facade == "multi_fidelity":
            values["tuner/epochs"] = self.epochs(info.budget)
            values["tuner/initial_epoch"] = 0  # SMAC's Hyperband trains each budget from scratch
        return info, values

    def epochs(self, budget: float) -> int:
        """SMAC's budgets are floats (max / eta^k): trained as the nearest whole epoch, at least one."""
        return max(1, min(self.max_epochs, round(budget)))

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        info, values = self._ask()
        self._infos[trial_id] = info
        return {"status": _TrialStatus.RUNNING, "values": values}

    # -- tell ---------------------------------------------------------------------
    def end_trial(self, trial: Any) -> None:
        super().end_trial(trial)
        self._tell(self.trials[trial.trial_id])

    def _tell(self, trial: Any) -> None:
        info = self._infos.get(trial.trial_id)
        if info is None:
            return
        dataclasses = self._smac.runhistory.dataclasses
        status = self._smac.runhistory.enumerations.StatusType
        if trial.status == _TrialStatus.COMPLETED:
            score = float(trial.score)
            value = dataclasses.TrialValue(cost=1.0 - score if self.objective.direction == "max" else score)
        elif trial.status == _TrialStatus.FAILED:
            value = dataclasses.TrialValue(cost=CRASH_COST, status=status.CRASHED)
        else:
            return  # still running (a retry), or never run (over budget): nothing to tell
        del self._infos[trial.trial_id]
        with _quiet():
            self.optimizer.tell(info, value, save=False)

    # -- resume -------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        state = super().get_state()
        state["smac"] = {
            "seed": self.smac_seed,
            "facade": self.facade,
            "max_epochs": self.max_epochs,
            "eta": self.eta,
            "deterministic": self.deterministic,
        }
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        """Replay the reloaded trials through a fresh SMAC (see the module's docstring)."""
        super().set_state(state)
        saved = state["smac"]
        self.smac_seed, self.facade = saved["seed"], saved["facade"]
        self.max_epochs, self.eta, self.deterministic = saved["max_epochs"], saved["eta"], saved["deterministic"]
        self.optimizer = self._new_optimizer()
        self._infos = {}
        for trial_id in self.start_order:
            trial = self.trials[trial_id]
            info, values = self._ask()
            if values != trial.hyperparameters.values:
                raise ValueError(
                    f"SMAC replayed trial {trial_id} as {values}, the checkpoint holds "
                    f"{trial.hyperparameters.values}: its state cannot be rebuilt"
                )
            self._infos[trial_id] = info
            self._tell(trial)


def smac_oracle(space: SearchSpace, seed: int, max_trials: int, **kwargs: Any) -> SmacOracle:
    """A SMAC oracle given what every oracle here is given (``oracle_args``)."""
    smac_modules("smac")
    return SmacOracle(max_trials=max_trials, **oracle_args(space, seed), **kwargs)
