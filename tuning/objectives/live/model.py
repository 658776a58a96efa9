"""The model a configuration describes: Input(784) -> Dense(relu) x num_layers -> Dense(10, softmax)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import keras
import numpy as np

from tuning.core.space import Space
from tuning.objectives.live.initial_values import Given, NumpyZeroSlots, glorot_uniform

OptimizerFactory = Callable[[str, float], keras.optimizers.Optimizer]

# Several steps per compiled call: the same batches in the same order, so the
# same numbers, but far less Python per step at batch size 32.
STEPS_PER_EXECUTION = 64


def keras_optimizer(name: str, learning_rate: float, space: Space) -> keras.optimizers.Optimizer:
    """The plain Keras optimizer the space names, with Keras's defaults otherwise (its zero moments made by numpy)."""
    return _numpy_slots(getattr(keras.optimizers, space.optimizers[name]))(learning_rate=learning_rate)


@functools.cache
def _numpy_slots(cls: type[keras.optimizers.Optimizer]) -> type[keras.optimizers.Optimizer]:
    """``cls`` with ``NumpyZeroSlots``: the same optimizer, the same numbers, no compile per moment's shape."""
    return type(cls.__name__, (NumpyZeroSlots, cls), {"__module__": __name__, "__doc__": cls.__doc__})


def build_model(
    config: Mapping[str, Any],
    space: Space,
    optimizer: OptimizerFactory | None = None,
    seed: int = 0,
) -> keras.Model:
    """Build and compile the model of ``config`` (validated first, never clipped).

    ``optimizer`` lets a strategy train with its own optimizer (the
    hypergradient strategy learns the learning rate); it is called with the
    optimizer name and learning rate of ``config``.  ``seed`` draws the
    initial weights (``initial_weights``).
    """
    config = space.validate(config)
    start = iter(initial_weights(config, space, seed))

    def dense(units: int, activation: str, name: str) -> keras.layers.Dense:
        kernel, bias = next(start), next(start)
        return keras.layers.Dense(
            units, activation=activation, name=name, kernel_initializer=Given(kernel), bias_initializer=Given(bias)
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


def initial_weights(config: Mapping[str, Any], space: Space, seed: int = 0) -> list[np.ndarray]:
    """The weights ``build_model(config, space, seed=seed)`` starts from, in ``get_weights()`` order: one
    Glorot-uniform kernel per layer, drawn input to output from ``seed``, and zero biases."""
    config = space.validate(config)
    rng = np.random.default_rng(seed)
    sizes = [space.inputs, *space.widths(config), space.classes]
    weights: list[np.ndarray] = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        weights += [glorot_uniform(rng, (fan_in, fan_out)), np.zeros(fan_out, dtype=np.float32)]
    return weights


def restart(model: keras.Model, config: Mapping[str, Any], space: Space, seed: int = 0) -> None:
    """Put a model built by ``build_model`` for ``config``'s architecture and optimizer back where a fresh
    ``build_model(config, space, seed=seed)`` starts: its initial weights, the optimizer's moments and step
    count at zero, and ``config``'s learning rate.  Its compiled training step stays: no new trace or compile.
    """
    config = space.validate(config)
    model.set_weights(initial_weights(config, space, seed))
    optimizer = model.optimizer
    for variable in optimizer.variables:
        variable.assign(np.zeros(variable.shape, dtype=variable.dtype))
    optimizer.learning_rate = config[space.learning_rate.name]
