"""Initial values made by numpy, not by compiled kernels.

On JAX, every array Keras creates for a new shape (a random kernel, the
zeros an optimizer's moments start from, even a numpy array it is handed)
runs an XLA program compiled for that shape: 5-15 ms each, and a search
meets new shapes in nearly every trial (a 3-layer network with Adam: 24
compiles, 0.1-0.2 s, more than some trials' training steps).  numpy makes
the same values in microseconds, the same on every backend, and
``backend.device_array`` hands them over without a compile.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np

from tuning.objectives.live import backend


class Given(keras.initializers.Initializer):
    """A variable's starting value, drawn beforehand with numpy (``model.initial_weights``).

    Why not Keras's initializers: on JAX every new weight shape compiles a
    random-number kernel (1-3 s per trial at this space's sizes), and the draws
    differ between backends; numpy draws cost microseconds and are the same on
    every backend.
    """

    def __init__(self, value: np.ndarray) -> None:
        self.value = value

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> Any:
        if tuple(shape) != self.value.shape:
            raise ValueError(f"a value of shape {self.value.shape} for a variable of shape {tuple(shape)}")
        return backend.device_array(self.value)


def glorot_uniform(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """One kernel, U(-l, l) with l = sqrt(6 / (fan_in + fan_out)), as float32."""
    fan_in, fan_out = shape
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape).astype(np.float32)


class NumpyZeros(keras.initializers.Initializer):
    """Zeros (where every optimizer moment starts), made by numpy."""

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> np.ndarray:
        return backend.device_array(np.zeros(shape, dtype=np.dtype(dtype or "float32")))


class NumpyZeroSlots:
    """Mixin for a Keras optimizer: its variables that start at zero (momenta, velocities) are made by numpy.

    Keras builds them with ``ops.zeros`` when training starts; the values are the same, only
    the per-shape compiles on JAX go (45-80 ms a trial for Adam or RMSprop).
    """

    def add_variable(self, shape: Any, initializer: Any = "zeros", *args: Any, **kwargs: Any) -> Any:
        if isinstance(initializer, str) and initializer == "zeros":
            initializer = NumpyZeros()
        return super().add_variable(shape, initializer, *args, **kwargs)  # type: ignore[misc]
