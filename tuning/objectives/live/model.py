"""The model a configuration describes: Input(784) -> Dense(relu) x num_layers -> Dense(10, softmax)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import keras

from tuning.core.space import SPACE, Space

OptimizerFactory = Callable[[str, float], keras.optimizers.Optimizer]

# Several steps per compiled call: the same batches in the same order, so the
# same numbers, but far less Python per step at batch size 32.
STEPS_PER_EXECUTION = 64


def keras_optimizer(name: str, learning_rate: float, space: Space = SPACE) -> keras.optimizers.Optimizer:
    """The plain Keras optimizer the space names, with Keras's defaults otherwise."""
    cls = getattr(keras.optimizers, space.optimizers[name])
    return cls(learning_rate=learning_rate)


def build_model(
    config: Mapping[str, Any],
    space: Space = SPACE,
    optimizer: OptimizerFactory | None = None,
) -> keras.Model:
    """Build and compile the model of ``config`` (validated first, never clipped).

    ``optimizer`` lets a strategy train with its own optimizer (the
    hypergradient strategy learns the learning rate); it is called with the
    optimizer name and learning rate of ``config``.
    """
    config = space.validate(config)
    layers: list[keras.layers.Layer] = [keras.Input(shape=(space.inputs,))]
    for i, units in enumerate(space.widths(config)):
        layers.append(keras.layers.Dense(units, activation=space.hidden_activation, name=f"dense_{i}"))
    layers.append(keras.layers.Dense(space.classes, activation="softmax", name="output"))
    model = keras.Sequential(layers)
    make = optimizer or (lambda name, lr: keras_optimizer(name, lr, space))
    model.compile(
        optimizer=make(config[space.optimizer.name], config[space.learning_rate.name]),
        loss=space.loss,
        metrics=["accuracy"],
        steps_per_execution=STEPS_PER_EXECUTION,
        jit_compile="auto",
    )
    return model
