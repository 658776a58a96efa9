"""Named budgets: the fidelity every strategy is held to.

A budget fixes the data (train / validation sizes), the epochs a full trial
trains, the trials a fixed-fidelity strategy runs, and so the total epoch
budget (trials x epochs) that every strategy - Hyperband included - may
spend.  ``paper`` is the seed example's own protocol.
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


BUDGETS: dict[str, Budget] = {
    b.name: b
    for b in (
        Budget("smoke", n_train=2_000, n_val=1_000, epochs=2, trials=3, seeds=(0,)),
        Budget("standard", n_train=12_000, n_val=3_000, epochs=3, trials=8, seeds=tuple(range(10))),
        Budget("paper", n_train=48_000, n_val=12_000, epochs=10, trials=10, seeds=(0, 1, 2, 3, 4)),
    )
}
