"""Steady-state training throughput of fixed architectures: the suite's speed yardstick.

Three points of the space at batch 32: the smallest (1x32), the seed
example's best (1x448, adam) and the largest (5x512).  Each is warmed up
(graph building and the first compiled steps excluded), then timed over
whole epochs of training steps alone.  GFLOP/s counts the dense layers'
multiply-adds, forward and backward: 3 x (forward multiply-adds) x 2 FLOP.
The example's best doubles as the calibration of the speed gate: wall-clock
divided by the time this machine needs per calibration sample is a cost that
travels between machines better than seconds do.  ``peak_matmul`` measures,
in the same backend and process, what one large float32 matrix product
reaches, so that each architecture can be stated as a fraction of this
machine's peak rather than in absolute GFLOP/s.
"""

from __future__ import annotations

import time
from typing import Any

import keras
import numpy as np

from tuning.bench.calibration import CALIBRATION
from tuning.core.space import Config
from tuning.objectives.live import backend
from tuning.objectives.live.data import Split
from tuning.objectives.live.model import build_model
from tuning.objectives.live.train import EpochTimer
from tuning.problems.mnist_mlp import SPACE

ARCHITECTURES: dict[str, Config] = {
    "smallest 1x32": {"num_layers": 1, "units_0": 32, "optimizer": "adam", "learning_rate": 1e-3},
    "example best 1x448": {
        "num_layers": 1,
        "units_0": 448,
        "optimizer": "adam",
        "learning_rate": 0.0011107930392350116,
    },
    "largest 5x512": {
        "num_layers": 5,
        **{f"units_{i}": 512 for i in range(5)},
        "optimizer": "adam",
        "learning_rate": 1e-3,
    },
}
assert CALIBRATION in ARCHITECTURES


def measure(name: str, split: Split, samples: int = 8_192, epochs: int = 3) -> dict[str, Any]:
    space = SPACE  # the seed problem's dense stacks
    """Train ``ARCHITECTURES[name]`` and return its steady-state samples/s and GFLOP/s."""
    config = space.validate(ARCHITECTURES[name])
    keras.backend.clear_session()
    backend.set_seed(0)
    x, y = split.x_train[:samples], split.y_train[:samples]
    model = build_model(config, space)
    model.fit(
        x[: 64 * 32], y[: 64 * 32], batch_size=space.batch_size, epochs=1, verbose=0
    )  # warm-up: trace and compile
    timer = EpochTimer()
    started = time.perf_counter()
    model.fit(x, y, batch_size=space.batch_size, epochs=epochs, verbose=0, shuffle=True, callbacks=[timer])
    wall = time.perf_counter() - started
    seconds = float(np.sum(timer.seconds))
    per_second = len(x) * epochs / seconds
    flop_per_sample = 6 * space.multiply_adds(config)
    return {
        "architecture": name,
        "hyperparameters": config,
        "batch_size": space.batch_size,
        "samples": len(x) * epochs,
        "seconds": seconds,
        "wall_seconds": wall,
        "samples_per_second": per_second,
        "gflops": per_second * flop_per_sample / 1e9,
        "flop_per_sample": flop_per_sample,
    }


def device_summary() -> dict[str, Any]:
    info = dict(backend.device())
    peak = backend.peak_memory_bytes()
    if peak is not None:
        info["peak_memory_bytes"] = peak
    return info


def peak_matmul(n: int = 4096, repeats: int = 10) -> dict[str, Any]:
    """GFLOP/s of an n x n float32 matrix product through ``keras.ops`` (best of ``repeats`` after a warm-up)."""
    rng = np.random.default_rng(0)
    a = keras.ops.convert_to_tensor(rng.random((n, n), dtype=np.float32))
    b = keras.ops.convert_to_tensor(rng.random((n, n), dtype=np.float32))
    keras.ops.convert_to_numpy(keras.ops.matmul(a, b))  # warm-up: compile, allocate
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        keras.ops.convert_to_numpy(keras.ops.matmul(a, b)[0, 0])  # wait for the product, copy one number
        best = min(best, time.perf_counter() - started)
    return {"n": n, "seconds": best, "gflops": 2 * n**3 / best / 1e9}
