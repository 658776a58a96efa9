"""Which of a per-strategy training test's cases run on every backend (CI's TensorFlow pass: ``-m backend``).

The strategies differ in how they search, which no backend changes; the backend
changes only the training they ask for.  These four cover every way a strategy
asks: a plain trial (random, through a Keras Tuner oracle), a trial continued
from saved weights (hyperband), a trial with its own optimizer (hypergradient)
and a trial stopped by a per-epoch report (asha, through Optuna's pruner).
"""

from __future__ import annotations

from typing import Any

import pytest

from tuning import strategies

ON_EACH_BACKEND = ("random", "hyperband", "hypergradient", "asha")


def strategy_cases() -> list[Any]:
    """The available strategies' names, those in ``ON_EACH_BACKEND`` marked ``backend``."""
    names = [n for n in strategies.names() if strategies.get(n).available()]
    return [pytest.param(n, marks=pytest.mark.backend) if n in ON_EACH_BACKEND else n for n in names]
