"""The result schema, once: a trial record and a run result, to and from JSON, versioned.

Every part speaks these records: objectives return ``TrialRecord``, the
execution part assembles a ``RunResult``, ``tuning.results`` writes and reads
it, the report and the gates read it.  ``from_json`` checks kinds and ranges as
well as keys, so a bad file is refused with a reason instead of breaking a
table halfway through.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from tuning.core.budget import Budget

Config = dict[str, Any]

SCHEMA_VERSION = 1
MODES = ("live", "replay")  # live: trained here; replay: looked up in a table of recorded runs or predicted from it
REQUIRED = (
    "schema_version",
    "strategy",
    "seed",
    "budget",
    "trials",
    "best",
    "wall_clock_seconds",
    "epochs_trained",
    "throughput_samples_per_second",
    "environment",
)


class RecordError(ValueError):
    """A document that is not a record of this schema; the message says what is wrong."""


class NotARunResult(RecordError):
    """One of the suite's other files (throughput, side by side, baseline): readers of results pass it by."""


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


@dataclass
class TrialRecord:
    """One trial as it ran: what it tried and what it cost."""

    trial_id: str
    hyperparameters: Config
    val_accuracy: list[float]  # one per epoch trained in this trial
    epochs: int  # epochs trained in this trial (a Hyperband continuation counts only its new ones)
    initial_epoch: int = 0
    resumed_from: str | None = None
    seconds: float = 0.0  # wall-clock of the whole trial: build, fit, validation
    train_seconds: float = 0.0  # time spent in training steps alone (a new model's first compiled call included)
    samples: int = 0  # training samples processed
    status: str = "COMPLETED"
    extra: dict[str, Any] = field(default_factory=dict)
    # Where a live trial's time went besides training steps; None where not measured (replays, older files).
    compile_seconds: float | None = None  # part of train_seconds: tracing, lowering, compiling (JAX's report)
    validation_seconds: float | None = None  # scoring the validation images after each epoch

    @property
    def score(self) -> float:
        """What the oracle is told: validation accuracy after the trial's last epoch."""
        return self.val_accuracy[-1] if self.val_accuracy else float("nan")

    @property
    def val_accuracy_final(self) -> float | None:
        return self.score if self.val_accuracy else None

    def to_json(self) -> dict[str, Any]:
        """The record's fields; the time breakdown only where it was measured, so a replay's trials and
        files from before it keep their layout."""
        out = asdict(self)
        for key in ("compile_seconds", "validation_seconds"):
            if out[key] is None:
                del out[key]
        out["val_accuracy_final"] = self.val_accuracy_final
        return out

    @classmethod
    def from_json(cls, data: Any, where: str = "trial") -> TrialRecord:
        if not isinstance(data, dict):
            raise RecordError(f"{where} is not an object")
        if not is_number(data.get("epochs")) or not is_number(data.get("seconds")):
            raise RecordError(f"{where} lacks numeric epochs/seconds")
        final = data.get("val_accuracy_final")
        if final is not None and not isinstance(final, (int, float)):
            raise RecordError(f"{where}.val_accuracy_final is {final!r}")
        curve = data.get("val_accuracy", [] if final is None else [final])
        if not isinstance(curve, list) or not all(isinstance(v, (int, float)) for v in curve):
            raise RecordError(f"{where}.val_accuracy is not a list of numbers")
        if not isinstance(data.get("hyperparameters"), dict):
            raise RecordError(f"{where}.hyperparameters is not an object")
        for key in ("compile_seconds", "validation_seconds"):
            value = data.get(key)
            if value is not None and not (is_number(value) and value >= 0):
                raise RecordError(f"{where}.{key} is {value!r}, expected a non-negative number or null")
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known} | {"val_accuracy": list(curve)})


@dataclass
class BestTrial:
    """The trial a run chose (best validation accuracy) and what its weights scored on the test images."""

    trial_id: str
    hyperparameters: Config
    val_accuracy: float
    epochs: int
    test_accuracy: float
    test_loss: float | None = None
    parameters: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> BestTrial:
        if not isinstance(data, dict):
            raise RecordError("best is not an object")
        for key in ("test_accuracy", "val_accuracy"):
            if not is_number(data.get(key)) or not 0.0 <= data[key] <= 1.0:
                raise RecordError(f"best.{key} is {data.get(key)!r}, expected a number in [0, 1]")
        known = {f.name for f in fields(cls)}
        try:
            return cls(**{k: v for k, v in data.items() if k in known})
        except TypeError as e:
            raise RecordError(f"best: {e}") from None


@dataclass
class RunResult:
    """One run: a strategy searched under a budget with a seed; the file ``tuning run`` writes."""

    strategy: str
    seed: int
    budget: Budget
    trials: list[TrialRecord]
    best: BestTrial
    wall_clock_seconds: float
    epochs_trained: int
    throughput_samples_per_second: float | None
    environment: dict[str, Any]
    strategy_settings: dict[str, Any] = field(default_factory=dict)
    split: dict[str, Any] = field(default_factory=dict)
    trials_skipped_over_budget: int = 0
    samples_trained: int = 0
    train_seconds: float = 0.0
    schema_version: int = SCHEMA_VERSION
    mode: str = "live"
    replay: dict[str, Any] | None = None  # a replay's table and surrogate (its provenance); None when live
    problem: str | None = None  # the problem's name; None in files from before problems (the seed problem's)

    def to_json(self) -> dict[str, Any]:
        """The file's layout (key order included) since schema 1.  ``mode`` and ``replay`` are
        written only by a replay, ``problem`` only where known, so every older file keeps its layout."""
        out = {
            "schema_version": self.schema_version,
            **({"problem": self.problem} if self.problem is not None else {}),
            "strategy": self.strategy,
            "seed": self.seed,
            "budget": self.budget.to_json(),
            "strategy_settings": self.strategy_settings,
            "split": self.split,
            "trials": [t.to_json() for t in self.trials],
            "trials_skipped_over_budget": self.trials_skipped_over_budget,
            "best": self.best.to_json(),
            "wall_clock_seconds": self.wall_clock_seconds,
            "epochs_trained": self.epochs_trained,
            "samples_trained": self.samples_trained,
            "train_seconds": self.train_seconds,
            "throughput_samples_per_second": self.throughput_samples_per_second,
            "environment": self.environment,
        }
        if self.mode != "live":
            out |= {"mode": self.mode, "replay": self.replay}
        return out

    @classmethod
    def from_json(cls, data: Any) -> RunResult:
        """Check and read a result document; ``RecordError`` says what is wrong with it."""
        if not isinstance(data, dict):
            raise RecordError(f"not a result (a JSON {type(data).__name__}, expected an object)")
        if "kind" in data and "schema_version" not in data:  # the suite's throughput and baseline files
            raise NotARunResult(f"a {data['kind']} file, not a run result")
        missing = [k for k in REQUIRED if k not in data]
        if missing:
            raise RecordError(f"not a result (missing {', '.join(missing)})")
        if data["schema_version"] != SCHEMA_VERSION:
            raise RecordError(f"schema_version {data['schema_version']!r}, this reader knows {SCHEMA_VERSION}")
        if not isinstance(data["strategy"], str) or not data["strategy"]:
            raise RecordError(f"strategy is {data['strategy']!r}, expected a name")
        problem = data.get("problem")
        if problem is not None and (not isinstance(problem, str) or not problem):
            raise RecordError(f"problem is {problem!r}, expected a name")
        if not is_count(data["seed"]):
            raise RecordError(f"seed is {data['seed']!r}, expected a non-negative integer")
        budget = Budget.from_json(data["budget"], RecordError)
        best = BestTrial.from_json(data["best"])
        if not is_number(data["wall_clock_seconds"]) or data["wall_clock_seconds"] < 0:
            raise RecordError(f"wall_clock_seconds is {data['wall_clock_seconds']!r}")
        if not is_number(data["epochs_trained"]):
            raise RecordError(f"epochs_trained is {data['epochs_trained']!r}")
        throughput = data["throughput_samples_per_second"]
        if throughput is not None and not is_number(throughput):
            raise RecordError(f"throughput_samples_per_second is {throughput!r}")
        if not isinstance(data["trials"], list):
            raise RecordError("trials is not a list")
        trials = [TrialRecord.from_json(t, f"trials[{i}]") for i, t in enumerate(data["trials"])]
        environment = data["environment"] if isinstance(data["environment"], dict) else {}
        mode = data.get("mode", "live")
        if mode not in MODES:
            raise RecordError(f"mode is {mode!r}, expected one of {', '.join(MODES)}")
        replay = data.get("replay")
        if mode == "replay" and not isinstance(replay, dict):
            raise RecordError("a replay result needs its replay provenance (an object)")
        return cls(
            strategy=data["strategy"],
            seed=data["seed"],
            budget=budget,
            trials=trials,
            best=best,
            wall_clock_seconds=data["wall_clock_seconds"],
            epochs_trained=data["epochs_trained"],
            throughput_samples_per_second=throughput,
            environment=environment,
            strategy_settings=data.get("strategy_settings") or {},
            split=data.get("split") if isinstance(data.get("split"), dict) else {},
            trials_skipped_over_budget=data.get("trials_skipped_over_budget", 0),
            samples_trained=data.get("samples_trained", 0),
            train_seconds=data.get("train_seconds", 0.0),
            schema_version=data["schema_version"],
            mode=mode,
            replay=replay if mode != "live" else None,
            problem=problem,
        )
