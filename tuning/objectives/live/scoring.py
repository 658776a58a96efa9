"""Scoring a trained network's weights on held-out images, in numpy, with no compiled evaluation step.

The network is the space's dense stack: hidden layers with the space's
activation, then a softmax output.  Accuracy is the share of images whose
largest output is the label (softmax is monotone, so the largest logit);
the loss is sparse categorical cross-entropy, computed stably in float64.

Why numpy and not ``model.evaluate``: Keras compiles an evaluation function
for every new model (0.2-0.5 s per trial on JAX, more on TensorFlow), longer
than a standard trial's validation itself takes in numpy (a few
milliseconds: one float32 matrix product per layer).  The weights are the
ones training produced, read with ``model.get_weights()``; the arithmetic is
the forward pass Keras would run, in float32.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import keras
import numpy as np
from threadpoolctl import threadpool_limits

from tuning.objectives.live import backend

ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "linear": lambda z: z,
}

BATCH = 1_000  # rows per matrix product: bounded memory, the same result for every split size


def logits(weights: Sequence[np.ndarray], x: np.ndarray, activation: str = "relu") -> np.ndarray:
    """The output layer's pre-softmax values for ``x``, from Dense weights as ``[kernel, bias, ...]``."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"no numpy forward pass for activation {activation!r}; known: {', '.join(ACTIVATIONS)}")
    act = ACTIVATIONS[activation]
    layers = list(zip(weights[0::2], weights[1::2]))
    z = x
    for i, (kernel, bias) in enumerate(layers):
        z = z @ kernel + bias
        if i < len(layers) - 1:
            z = act(z)
    return z


def score(weights: Sequence[np.ndarray], x: np.ndarray, y: np.ndarray, activation: str = "relu") -> tuple[float, float]:
    """(mean cross-entropy loss, accuracy) of the network with ``weights`` on ``(x, y)``.

    Each block of ``BATCH`` rows on one BLAS thread: OpenBLAS's float32 products differ in the last bits
    between one thread and several, and a run must score the same wherever it runs (a Dask worker has one
    thread).  Blocks go to as many threads as the run computes on (``backend.compute_threads``): the same
    products, in parallel, so the same numbers.
    """
    starts = range(0, len(x), BATCH)
    threads = min(backend.compute_threads(), len(starts))

    def block(start: int) -> tuple[int, float]:
        return _score(weights, x[start : start + BATCH], y[start : start + BATCH], activation)

    with threadpool_limits(limits=1, user_api="blas"):
        if threads > 1:
            with ThreadPoolExecutor(threads) as pool:
                parts = list(pool.map(block, starts))
        else:
            parts = [block(start) for start in starts]
    correct, loss = 0, 0.0
    for right, summed in parts:  # in block order, as one thread adds them
        correct, loss = correct + right, loss + summed
    return loss / len(x), correct / len(x)


def _score(weights: Sequence[np.ndarray], x: np.ndarray, y: np.ndarray, activation: str) -> tuple[int, float]:
    """(images right, summed loss) of one block."""
    z = logits(weights, x, activation).astype(np.float64)
    correct = int(np.sum(np.argmax(z, axis=1) == y))
    top = z.max(axis=1, keepdims=True)
    log_norm = top[:, 0] + np.log(np.exp(z - top).sum(axis=1))
    return correct, float(np.sum(log_norm - z[np.arange(len(y)), y]))


class EpochValidation(keras.callbacks.Callback):
    """Scores the weights after every epoch on the validation images; keeps accuracy, loss and seconds per epoch."""

    def __init__(self, x: np.ndarray, y: np.ndarray, activation: str = "relu") -> None:
        super().__init__()
        self.x, self.y, self.activation = x, y, activation
        self.accuracy: list[float] = []
        self.loss: list[float] = []
        self.seconds: list[float] = []

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        started = time.perf_counter()
        loss, accuracy = score(self.model.get_weights(), self.x, self.y, self.activation)
        self.seconds.append(time.perf_counter() - started)
        self.loss.append(loss)
        self.accuracy.append(accuracy)
