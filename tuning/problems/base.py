"""What a problem is: a search space, data and a protocol per budget, and the objectives it offers.

After CARP-S's ``Problem`` and Syne Tune's benchmark definitions: a problem
is one object, and everything that varies between problems lives in it - the
space its configurations come from, the data its models train, validate and
test on, the fidelity (epochs) and the sizes each budget gives it, and how a
configuration is scored: live training, a replay of a recorded table, or a
synthetic stand-in for the tests.  Strategies, the search loop, result files
and the report see a problem only through this interface.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from tuning.core.budget import SEARCH, Budget, TrainingProtocol, make_budget
from tuning.core.errors import UsageError
from tuning.core.space import SearchSpace
from tuning.objectives.base import Objective

MODES = ("live", "replay", "synthetic")


class Problem(ABC):
    """One benchmark problem.  Subclasses set the class attributes and define ``live``."""

    name: str
    summary: str
    space: SearchSpace
    protocols: dict[str, TrainingProtocol]
    capabilities: frozenset[str] = frozenset()  # what its live objective offers beyond plain training
    # Whether a replay table of it is committed (``tuning problems`` lists replay for it).  Any problem can be
    # recorded (``tuning record --problem``) and is replayed wherever its table exists (``execution.simulate``).
    replayable: bool = False
    # Which of its configurations learn steeply (a small change of hyperparameters, a far-apart score), in
    # words: SURROGATE.md names them where it explains the surrogate's error tail.  None: a generic phrase.
    steep: str | None = None

    def budget_names(self) -> list[str]:
        return [name for name in SEARCH if name in self.protocols]

    def budget(self, name: str) -> Budget:
        """The budget a run of this problem under ``name`` is held to (``UsageError`` naming the choices)."""
        if name not in self.protocols or name not in SEARCH:
            raise UsageError(f"unknown budget {name!r}; choose from {', '.join(self.budget_names())}")
        return make_budget(SEARCH[name], self.protocols[name])

    def budgets(self) -> dict[str, Budget]:
        return {name: self.budget(name) for name in self.budget_names()}

    def modes(self) -> tuple[str, ...]:
        """The objectives this problem offers (``tuning problems`` lists them)."""
        offered = {"live": True, "replay": self.replayable, "synthetic": self.has_synthetic()}
        return tuple(mode for mode in MODES if offered[mode])

    def check(self) -> None:
        """Load and check the data now, so that bad input is refused before anything is written
        (``UsageError``).  Built-in problems find their data lazily; a user's module is checked here."""
        return None

    @abstractmethod
    def live(
        self,
        budget: Budget,
        seed: int,
        training: str | None = None,
        weights_dir: Path | None = None,
        curves: bool = False,
    ) -> Objective:
        """Real training of this problem's models under ``budget`` (``UsageError`` for missing or bad data).

        ``training`` names a training variant a strategy needs (see ``capabilities``); ``weights_dir``
        is where each finished trial's weights are also written (a run's work folder); ``curves``
        records per-epoch learning curves (a replay table's recording)."""

    def has_synthetic(self) -> bool:
        return False

    def synthetic(self) -> Objective:
        """A deterministic stand-in for training, for fast tests of the strategies on this space."""
        raise UsageError(f"problem {self.name!r} has no synthetic objective")

    def provenance(self) -> dict[str, Any]:
        """What a result records of the problem: its name, and for a user's module its file and hash."""
        return {"name": self.name}

    def describe(self) -> str:
        """One line for ``tuning problems``."""
        return (
            f"{self.name:<20} {self.summary}  [{', '.join(self.modes())}; {len(self.space.params())} hyperparameters]"
        )
