"""Named budgets: the fidelity every strategy is held to.

A budget fixes the data (train / validation sizes), the epochs a full trial
trains, the trials a fixed-fidelity strategy runs, and so the total epoch
budget (trials x epochs) that every strategy - Hyperband included - may
spend.  ``paper`` is the seed example's own protocol.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


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

    def describe(self) -> dict[str, object]:
        return {**asdict(self), "seeds": list(self.seeds), "epoch_budget": self.epoch_budget}


BUDGETS: dict[str, Budget] = {
    b.name: b
    for b in (
        Budget("smoke", n_train=2_000, n_val=1_000, epochs=2, trials=3, seeds=(0,)),
        Budget("standard", n_train=12_000, n_val=3_000, epochs=3, trials=8, seeds=(0, 1, 2)),
        Budget("paper", n_train=48_000, n_val=12_000, epochs=10, trials=10, seeds=(0, 1, 2, 3, 4)),
    )
}
