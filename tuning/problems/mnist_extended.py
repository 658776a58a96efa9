"""``mnist-mlp-extended``: the seed's whole list of key hyperparameters, on the seed's data.

The seed document names what matters when tuning a dense network: learning
rate, batch size, optimizer, depth, width per layer, activation, and dropout
against overfitting.  This problem searches all of them on the same MNIST
split and budgets as ``mnist-mlp``: a mixed, conditional space of 11
hyperparameters (7 to 11 active), to test whether a ranking of strategies
found on the seed's 4-8 dimensions holds on a harder space.

It is defined the way a user's own model is (``build_model(hp)`` and
``load_data()``, ``tuning.problems.hypermodel``), so it also exercises that
path end to end; the grid visits the declared ``GRID`` values.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tuning.problems.hypermodel import HyperModelProblem

MAX_LAYERS = 5
GRID = {
    **{f"units_{i}": [64, 256, 512] for i in range(MAX_LAYERS)},
    "learning_rate": [1e-3, 1e-4, 1e-2],
    "dropout": [0.0, 0.2, 0.4],
    "batch_size": [32, 128],
}


def build_model(hp: Any) -> Any:
    import keras

    depth = hp.Int("num_layers", 1, MAX_LAYERS)
    activation = hp.Choice("activation", ["relu", "tanh", "elu"])
    dropout = hp.Float("dropout", 0.0, 0.5)
    layers: list[Any] = [keras.Input(shape=(784,))]
    for i in range(MAX_LAYERS):
        with hp.conditional_scope("num_layers", list(range(i + 1, MAX_LAYERS + 1))):
            units = hp.Int(f"units_{i}", 32, 512, step=32)
        if i < depth:
            layers.append(keras.layers.Dense(units, activation=activation))
            if dropout > 0:
                layers.append(keras.layers.Dropout(dropout))
    layers.append(keras.layers.Dense(10, activation="softmax"))
    hp.Choice("batch_size", [32, 64, 128, 256])  # fit's batch size (tuning.objectives.live.hypermodel)
    optimizer = hp.Choice("optimizer", ["adam", "sgd", "rmsprop"])
    learning_rate = hp.Float("learning_rate", 1e-4, 1e-2, sampling="log")
    model = keras.Sequential(layers)
    model.compile(
        optimizer={"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD, "rmsprop": keras.optimizers.RMSprop}[
            optimizer
        ](learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def load_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """MNIST as the seed problem reads it, scaled to [0, 1] and flattened."""
    from tuning.core.errors import UsageError
    from tuning.objectives.live.data import DataError, load_mnist

    try:
        mnist = load_mnist()
    except DataError as e:
        raise UsageError(str(e)) from None

    def flat(x: np.ndarray) -> np.ndarray:
        return x.reshape(len(x), -1).astype(np.float32) / 255.0

    return (flat(mnist.x_train), mnist.y_train.astype(np.int64)), (flat(mnist.x_test), mnist.y_test.astype(np.int64))


PROBLEM = HyperModelProblem(
    name="mnist-mlp-extended",
    summary="the seed's key hyperparameters on MNIST: + batch size, activation, dropout (11 dimensions, conditional)",
    build_model=build_model,
    load_data=load_data,
    grid=GRID,
    where="mnist-mlp-extended",
    source={"module": __name__},
)
