"""The interface every objective implements, and the capabilities a strategy may need of one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from tuning.core.records import TrialRecord
from tuning.core.space import Config

# Called after each epoch a trial trains with (epoch, 1-based; validation accuracy after it); True stops the trial
# there.  Optional: only a pruning strategy's search passes one (Optuna's report/should_prune, per epoch).
EpochReport = Callable[[int, float], bool]


class Objective(Protocol):
    """Trains (or imitates training) one configuration for some epochs, and scores a chosen trial.

    ``capabilities`` says what the objective offers beyond plain training, as
    ``"training:<variant>"`` names; a strategy's ``needs`` must be a subset.
    """

    capabilities: frozenset[str]

    def evaluate(
        self,
        trial_id: str,
        config: Config,
        epochs: int,
        initial_epoch: int,
        resume_from: str | None,
        report: EpochReport | None = None,
    ) -> TrialRecord:
        """Train ``config`` from ``initial_epoch`` (continuing trial ``resume_from``) up to ``epochs``, or up to
        the epoch after which ``report`` says stop; the record counts the epochs actually trained."""
        ...

    def test(self, trial_id: str, config: Config) -> tuple[float, float]:
        """(test loss, test accuracy) of a trained trial."""
        ...

    def data(self) -> dict[str, Any]:
        """What the objective trains and tests on, for the result's provenance."""
        ...

    def settings(self) -> dict[str, Any]:
        """Parameters of the training variant in use, for the result's provenance."""
        ...


def unmet(needs: frozenset[str], objective: Objective) -> list[str]:
    """What a strategy needs that ``objective`` does not offer (empty when it can serve the strategy)."""
    return sorted(needs - objective.capabilities)
