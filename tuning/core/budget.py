"""Named budgets: the search resources every strategy is held to, and the budget a run records.

A budget's name (``smoke``, ``standard``, ``paper``) fixes the search
resources, the same for every problem (``SEARCH``: the trials a
fixed-fidelity strategy runs and the default seeds); a problem fixes what it
trains on under that name (``TrainingProtocol``: training and validation
sizes, epochs of a full trial).  Together they make the ``Budget`` a run is
held to and its result file records, with the total epoch budget (trials x
epochs) that every strategy - Hyperband included - may spend.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Budget:
    name: str
    n_train: int
    n_val: int
    epochs: int
    trials: int
    seeds: tuple[int, ...]

    def __post_init__(self) -> None:
        if min(self.n_train, self.n_val, self.epochs, self.trials) < 1:
            raise ValueError(f"budget {self.name}: sizes, epochs and trials must be positive")

    @property
    def epoch_budget(self) -> int:
        """Total training epochs a run may spend, whatever its strategy."""
        return self.trials * self.epochs

    def to_json(self) -> dict[str, object]:
        return {**asdict(self), "seeds": list(self.seeds), "epoch_budget": self.epoch_budget}

    @classmethod
    def from_json(cls, data: Any, error: type[Exception] = ValueError) -> Budget:
        """The budget a result file records (it may be one this version does not define); ``error`` says why not."""
        if not isinstance(data, dict):
            raise error("budget is not an object")
        if not isinstance(data.get("name"), str):
            raise error("budget has no name")
        for key in ("n_train", "n_val", "epochs", "trials", "epoch_budget"):
            value = data.get(key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise error(f"budget.{key} is {value!r}, expected a non-negative integer")
        seeds = data.get("seeds", [])
        if not isinstance(seeds, list) or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
            raise error(f"budget.seeds is {seeds!r}, expected a list of integers")
        try:
            budget = cls(data["name"], data["n_train"], data["n_val"], data["epochs"], data["trials"], tuple(seeds))
        except ValueError as e:
            raise error(str(e)) from None
        if budget.epoch_budget != data["epoch_budget"]:
            raise error(f"budget.epoch_budget is {data['epoch_budget']}, but trials x epochs is {budget.epoch_budget}")
        return budget


@dataclass(frozen=True)
class SearchBudget:
    """A budget's search resources: trials of a full-fidelity strategy, and the seeds a bench runs by default."""

    name: str
    trials: int
    seeds: tuple[int, ...]


@dataclass(frozen=True)
class TrainingProtocol:
    """What one problem trains on under a budget: training and validation sizes, epochs of a full trial."""

    n_train: int
    n_val: int
    epochs: int


SEARCH: dict[str, SearchBudget] = {
    b.name: b
    for b in (
        SearchBudget("smoke", trials=3, seeds=(0,)),
        SearchBudget("standard", trials=8, seeds=tuple(range(10))),
        SearchBudget("paper", trials=10, seeds=(0, 1, 2, 3, 4)),
    )
}


def make_budget(search: SearchBudget, protocol: TrainingProtocol) -> Budget:
    """The budget a run of a problem under ``search`` is held to."""
    return Budget(search.name, protocol.n_train, protocol.n_val, protocol.epochs, search.trials, search.seeds)
