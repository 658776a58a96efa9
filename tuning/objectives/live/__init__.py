"""The live objective: real Keras training on real MNIST, the suite's ground truth.

``data`` finds and checks MNIST, ``model`` builds a configuration's network
(``initial_values``: its starting values, made without compiles),
``train`` trains and scores it, ``variants`` holds training variants that a
strategy may need (hypergradient descent), ``backend`` everything specific to
TensorFlow or JAX.
"""

from __future__ import annotations

from pathlib import Path

from tuning.core.budget import Budget
from tuning.core.space import Space
from tuning.objectives.live import backend
from tuning.objectives.live.data import load_mnist, make_split
from tuning.objectives.live.train import KerasObjective
from tuning.objectives.live.weights import TrialWeights


def live_objective(
    budget: Budget,
    seed: int,
    training: str | None,
    space: Space,
    weights_dir: Path | None = None,
    curves: bool = False,
) -> KerasObjective:
    """The budget's split of MNIST, deterministic kernels, and a Keras objective on them (raises ``DataError``).

    ``weights_dir``: where each finished trial's weights are also written (a run's work folder);
    ``curves``: record per-epoch learning curves too (a replay table's recording)."""
    split = make_split(load_mnist(), budget.n_train, budget.n_val)
    backend.make_deterministic()
    backend.enable_compilation_cache()
    return KerasObjective(split, space, seed, training, TrialWeights(weights_dir), curves=curves)
