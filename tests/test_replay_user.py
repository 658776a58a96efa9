"""The surrogate's generic encoding of a space it knows nothing about (a user's model), and the seed's kept."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras_tuner as kt
import numpy as np
import pytest

from tuning.objectives.replay import surrogate as surrogate_module
from tuning.objectives.replay.surrogate import features
from tuning.problems.keras_space import KerasTunerSpace
from tuning.problems.mnist_mlp import SPACE

# -- the generic encoding -----------------------------------------------------------------


def conditional_space() -> KerasTunerSpace:
    """A mixed, conditional space: a choice that switches a log-sampled float and an int on, and a boolean."""
    hp = kt.HyperParameters()
    hp.Choice("kind", ["plain", "tuned"])
    with hp.conditional_scope("kind", ["tuned"]):
        hp.Float("rate", 1e-4, 1e-1, sampling="log")
        hp.Int("size", 1, 9)
    hp.Boolean("shuffle")
    return KerasTunerSpace(hp)


def check_encoding(encode: Callable[[list[dict[str, Any]], Any], np.ndarray]) -> None:
    """What the generic encoding must do: log-scaled numbers, one-hot choices, booleans as 0/1, an inactive
    hyperparameter as 0 with its indicator off (columns: kind one-hot, rate, on?, size, on?, shuffle)."""
    space = conditional_space()
    configs: list[dict[str, Any]] = [
        {"kind": "plain", "shuffle": False},
        {"kind": "tuned", "rate": 1e-4, "size": 1, "shuffle": True},
        {"kind": "tuned", "rate": 10**-2.5, "size": 5, "shuffle": False},
        {"kind": "tuned", "rate": 1e-1, "size": 9, "shuffle": True},
    ]
    x = encode([space.validate(c) for c in configs], space)
    assert x.shape == (4, 7), x.shape
    np.testing.assert_allclose(x[0], [1, 0, 0, 0, 0, 0, 0])  # inactive: 0 and the indicator off
    np.testing.assert_allclose(x[1:, :2], [[0, 1]] * 3)  # a choice is one-hot, not a magnitude
    np.testing.assert_allclose(x[1:, 2], [0.0, 0.5, 1.0], atol=1e-12)  # a decade counts alike: log-scaled
    np.testing.assert_allclose(x[1:, [3, 5]], [[1, 1]] * 3)  # active: the indicators on
    np.testing.assert_allclose(x[1:, 4], [0.0, 0.5, 1.0])  # an int on its range
    np.testing.assert_allclose(x[:, 6], [0, 1, 0, 1])  # a boolean as 0/1


def test_the_generic_encoding_scales_one_hots_and_marks_inactive_hyperparameters() -> None:
    check_encoding(features)


def test_a_broken_generic_encoding_fails_its_check(monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as m:  # the log scale forgotten
        m.setattr(surrogate_module, "_log_sampled", lambda space: set())
        with pytest.raises(AssertionError):
            check_encoding(features)
    with monkeypatch.context() as m:  # every hyperparameter taken as always active: no indicators
        m.setattr(surrogate_module, "_conditional", lambda space: set())
        with pytest.raises(AssertionError):
            check_encoding(features)

    def collapsed(configs: list[dict[str, Any]], space: Any) -> np.ndarray:
        """Categoricals as their option's index (a magnitude they do not have), the rest as it should be."""
        x = features(configs, space)
        return np.column_stack([x[:, 1], np.zeros(len(x)), x[:, 2:]])

    with pytest.raises(AssertionError):
        check_encoding(collapsed)


def test_the_seed_space_keeps_its_architecture_features() -> None:
    """The seed problem's surrogate is unchanged: depth, widths, log10 learning rate, optimizer, log10 parameters."""
    config = {"num_layers": 2, "units_0": 32, "units_1": 64, "optimizer": "sgd", "learning_rate": 1e-3}
    parameters = 784 * 32 + 32 + 32 * 64 + 64 + 64 * 10 + 10
    expected = [2, 32, 64, 0, 0, 0, -3.0, 0, 1, 0, np.log10(parameters)]
    np.testing.assert_array_equal(features([config], SPACE)[0], expected)
