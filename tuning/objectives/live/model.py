"""The model a configuration describes: Input(784) -> Dense(relu) x num_layers -> Dense(10, softmax)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import keras
import numpy as np

from tuning.core.space import SPACE, Space

OptimizerFactory = Callable[[str, float], keras.optimizers.Optimizer]

# Several steps per compiled call: the same batches in the same order, so the
# same numbers, but far less Python per step at batch size 32.
STEPS_PER_EXECUTION = 64


def keras_optimizer(name: str, learning_rate: float, space: Space = SPACE) -> keras.optimizers.Optimizer:
    """The plain Keras optimizer the space names, with Keras's defaults otherwise."""
    cls = getattr(keras.optimizers, space.optimizers[name])
    return cls(learning_rate=learning_rate)


class SeededGlorotUniform(keras.initializers.Initializer):
    """Keras's default kernel initializer (Glorot uniform), drawn with numpy from a seeded generator.

    Why not Keras's own: on JAX every new weight shape compiles a random-number
    kernel (1-3 s per trial at this space's sizes, more than the training
    steps of a standard trial), and the draws differ between backends.  numpy
    draws cost microseconds and give the same initial weights on every backend.
    """

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> np.ndarray:
        fan_in, fan_out = shape
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        return self.rng.uniform(-limit, limit, size=shape).astype(np.float32)


class NumpyZeros(keras.initializers.Initializer):
    """Zeros (Keras's default bias), made by numpy: no compiled kernel per shape on JAX."""

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> np.ndarray:
        return np.zeros(shape, dtype=np.float32)


def build_model(
    config: Mapping[str, Any],
    space: Space = SPACE,
    optimizer: OptimizerFactory | None = None,
    seed: int = 0,
) -> keras.Model:
    """Build and compile the model of ``config`` (validated first, never clipped).

    ``optimizer`` lets a strategy train with its own optimizer (the
    hypergradient strategy learns the learning rate); it is called with the
    optimizer name and learning rate of ``config``.  ``seed`` draws the
    initial weights (layer by layer, in order).
    """
    config = space.validate(config)
    rng = np.random.default_rng(seed)

    def dense(units: int, activation: str, name: str) -> keras.layers.Dense:
        return keras.layers.Dense(
            units,
            activation=activation,
            name=name,
            kernel_initializer=SeededGlorotUniform(rng),
            bias_initializer=NumpyZeros(),
        )

    layers: list[keras.layers.Layer] = [keras.Input(shape=(space.inputs,))]
    for i, units in enumerate(space.widths(config)):
        layers.append(dense(units, space.hidden_activation, f"dense_{i}"))
    layers.append(dense(space.classes, "softmax", "output"))
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
