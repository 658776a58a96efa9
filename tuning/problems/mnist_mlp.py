"""``mnist-mlp``: the seed problem, the classic Keras Tuner MNIST example.

1-5 dense ReLU layers of 32-512 units (step 32), optimizer adam/sgd/rmsprop
and a log-uniform learning rate in [1e-4, 1e-2], batch 32, on MNIST with the
example's ``validation_split=0.2`` (the last 12,000 training images validate;
smaller budgets take prefixes of both parts).  Unlike the example's plain
``for i in range(...)`` loop, ``units_i`` lives in a conditional scope entered
for every ``i``, so inactive widths are never sampled, reported or counted as
dimensions.  Its live objective trains with numpy-drawn initial weights and
scores in numpy (``tuning.objectives.live``), and it has a recorded replay
table.
"""

from __future__ import annotations

from pathlib import Path

from tuning.core.budget import Budget, TrainingProtocol
from tuning.core.space import Choice, Float, Int, Space
from tuning.objectives.base import Objective
from tuning.problems.base import Problem

SPACE = Space(
    depth=Int("num_layers", 1, 5),
    width=Int("units", 32, 512, step=32, grid=(64, 256, 512)),
    optimizer=Choice("optimizer", ("adam", "sgd", "rmsprop")),
    learning_rate=Float("learning_rate", 1e-4, 1e-2, log=True, grid=(1e-3, 1e-4, 1e-2)),
)
"""The classic Keras Tuner MNIST space.

Grid (a deliberate choice, see ``Space.grid_points``): depth 1..5, widths
64/256/512, the three optimizers and learning rates 1e-3, 1e-4, 1e-2 - the
common default first, then a decade either side.  That is
(3 + 9 + 27 + 81 + 243) x 3 x 3 = 3,267 points.
"""

PROTOCOLS = {
    "smoke": TrainingProtocol(n_train=2_000, n_val=1_000, epochs=2),
    "standard": TrainingProtocol(n_train=12_000, n_val=3_000, epochs=3),
    "paper": TrainingProtocol(n_train=48_000, n_val=12_000, epochs=10),  # the seed example's own protocol
}


class MnistMlp(Problem):
    name = "mnist-mlp"
    summary = "the seed: Keras Tuner's MNIST example, 1-5 dense ReLU layers, optimizer, learning rate"
    space = SPACE
    protocols = PROTOCOLS
    replayable = True
    # Its live objective's training variants (``KerasObjective.capabilities``; a test keeps them equal),
    # stated here so that listing what serves the problem imports no Keras.
    capabilities = frozenset({"training:hypergradient"})
    steep = "plain SGD, whose few epochs end anywhere between chance and 88 % with its learning rate and depth"

    def live(
        self,
        budget: Budget,
        seed: int,
        training: str | None = None,
        weights_dir: Path | None = None,
        curves: bool = False,
    ) -> Objective:
        from tuning.core.errors import UsageError
        from tuning.objectives.live import live_objective
        from tuning.objectives.live.data import DataError

        try:
            return live_objective(budget, seed, training, SPACE, weights_dir=weights_dir, curves=curves)
        except DataError as e:
            raise UsageError(str(e)) from None

    def has_synthetic(self) -> bool:
        return True

    def synthetic(self) -> Objective:
        from tuning.objectives.synthetic import SyntheticObjective

        return SyntheticObjective(SPACE)


PROBLEM = MnistMlp()
BUDGETS: dict[str, Budget] = PROBLEM.budgets()
