"""The live objective's training: models restarted between trials, initial values without compiles, timings.

Tiny random data: these check what a trial computes and records, not how well it learns.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import keras
import numpy as np
import pytest

from tuning.objectives.live import backend
from tuning.objectives.live.data import Split
from tuning.objectives.live.model import build_model, initial_weights
from tuning.objectives.live.train import KerasObjective, clear_session
from tuning.problems.mnist_mlp import SPACE

pytestmark = pytest.mark.backend  # Keras computes here: CI runs these on each backend

ADAM = {"num_layers": 2, "units_0": 96, "units_1": 32, "optimizer": "adam", "learning_rate": 1e-3}
RMSPROP = {"num_layers": 1, "units_0": 64, "optimizer": "rmsprop", "learning_rate": 3e-3}
SGD = {"num_layers": 3, "units_0": 32, "units_1": 64, "units_2": 32, "optimizer": "sgd", "learning_rate": 1e-2}


def tiny_split(n: int = 160) -> Split:
    rng = np.random.default_rng(0)
    x = rng.random((3 * n, 784), dtype=np.float32)
    y = x[:, :10].argmax(axis=1).astype("uint8")
    return Split(x[:n], y[:n], x[n : 2 * n], y[n : 2 * n], x[2 * n :], y[2 * n :], source="random test data")


def same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("config", [ADAM, RMSPROP, SGD], ids=lambda c: c["optimizer"])
def test_initial_weights_are_the_ones_build_model_draws(config: dict[str, Any]) -> None:
    clear_session()
    built = build_model(config, SPACE, seed=42).get_weights()
    assert same(built, initial_weights(config, SPACE, seed=42))
    assert not same(built, initial_weights(config, SPACE, seed=43))


@pytest.mark.skipif(not backend.restarts_like_new(), reason="models are restarted on JAX only; others build anew")
def test_a_restarted_model_trains_like_a_new_one() -> None:
    """Trials of an architecture and optimizer seen before reuse its model (no new trace or compile), and
    end with the very weights and accuracies a new model gives: other learning rates, other trial seeds,
    and a continuation from stored weights (Hyperband's) included."""
    split = tiny_split()
    reusing = KerasObjective(split, SPACE, seed=7)
    builds = []
    build = reusing.build

    def counted(config: Any, seed: int = 0) -> keras.Model:
        builds.append(config)
        return build(config, seed)

    reusing.build = counted  # type: ignore[method-assign]
    faster = {**ADAM, "learning_rate": 4e-3}
    other = {**RMSPROP, "learning_rate": 1e-4}
    plan = [
        ("0", ADAM, 2, 0, None),
        ("1", RMSPROP, 2, 0, None),
        ("2", faster, 2, 0, None),
        ("3", faster, 3, 2, "2"),
        ("4", other, 2, 0, None),
    ]
    records = {tid: reusing.evaluate(tid, c, epochs, first, source) for tid, c, epochs, first, source in plan}
    assert [c["optimizer"] for c in builds] == ["adam", "rmsprop"], "trials 2-4 should have restarted a model"
    compiled = [records[tid].compile_seconds for tid, *_ in plan]
    assert all(c is not None and c > 0 for c in compiled[:2]) and compiled[2:] == [0.0, 0.0, 0.0], compiled

    for tid, config, epochs, first, source in plan[2:]:
        fresh = KerasObjective(split, SPACE, seed=7)
        if source is not None:
            fresh.weights.put(source, reusing.weights.get(source))
        record = fresh.evaluate(tid, config, epochs, first, source)
        assert record.val_accuracy == records[tid].val_accuracy, f"trial {tid}"
        assert same(fresh.weights.get(tid), reusing.weights.get(tid)), f"trial {tid}"


def test_a_trial_records_where_its_time_went() -> None:
    objective = KerasObjective(tiny_split(), SPACE, seed=0)
    record = objective.evaluate("0", SGD, epochs=3, initial_epoch=0, resume_from=None)
    assert record.validation_seconds is not None and record.validation_seconds > 0
    if backend.compile_clock() is None:
        assert record.compile_seconds is None
    else:  # a new model traces and lowers its step, and compiles it or loads it from the cache
        assert record.compile_seconds is not None and 0 < record.compile_seconds < record.train_seconds
    assert record.train_seconds + record.validation_seconds < record.seconds
    measured = {"validation_seconds"} | ({"compile_seconds"} if backend.compile_clock() else set())
    assert measured <= set(record.to_json())


@pytest.fixture
def compiles() -> Iterator[list[str]]:
    """The names of the programs JAX compiles while the test runs."""
    import jax

    names: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            match = re.match(r"Compiling (?:jit\()?(\w+)", record.getMessage())
            if match:
                names.append(match.group(1))

    handler, logger = Collect(level=logging.DEBUG), logging.getLogger("jax")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    jax.config.update("jax_log_compiles", True)
    try:
        yield names
    finally:
        jax.config.update("jax_log_compiles", False)
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.mark.skipif(backend.name() != "jax", reason="JAX compiles per shape; the other backends do not")
def test_a_new_architecture_compiles_nothing_but_its_training_step(compiles: list[str]) -> None:
    """Initial weights, biases and optimizer moments are made by numpy and handed over without a compile:
    Keras's own way compiles a small program for every new shape (5-15 ms each, 24 for 3 layers with Adam)."""
    objective = KerasObjective(tiny_split(), SPACE, seed=0)
    objective.evaluate("0", {**ADAM, "units_0": 32, "units_1": 32}, 1, 0, None)  # the process's one-off programs
    compiles.clear()
    for i, config in enumerate([{**ADAM, "units_0": 416, "units_1": 224}, {**RMSPROP, "units_0": 352}]):
        objective.evaluate(str(i + 1), config, 1, 0, None)
    assert compiles == ["train_step", "train_step"]


def test_scoring_on_several_threads_gives_the_same_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Validation and test scoring split the images into blocks of ``BATCH`` rows, each on one BLAS thread;
    with more threads the blocks run in parallel and the loss and accuracy stay the same to the last bit."""
    from tuning.objectives.live import scoring

    rng = np.random.default_rng(3)
    config = {**ADAM, "units_0": 512, "units_1": 256}
    weights = [w + rng.normal(0, 0.01, w.shape).astype(np.float32) for w in initial_weights(config, SPACE, seed=1)]
    x = rng.random((3 * scoring.BATCH + 123, 784), dtype=np.float32)
    y = rng.integers(0, 10, len(x))
    results = {}
    for threads in (1, 2, 3):
        monkeypatch.setattr(backend, "compute_threads", lambda n=threads: n)
        results[threads] = scoring.score(weights, x, y)
    assert results[1] == results[2] == results[3]
    assert 0 < results[1][0] and 0 <= results[1][1] <= 1


def test_a_report_that_says_stop_ends_the_trial_after_that_epoch() -> None:
    """The per-epoch hook a pruner uses: each epoch's validation accuracy is reported as it is recorded, and
    training stops after the epoch the hook says stop; the record counts only the epochs trained."""
    heard: list[tuple[int, float]] = []

    def stop_after_two(epoch: int, value: float) -> bool:
        heard.append((epoch, value))
        return epoch == 2

    objective = KerasObjective(tiny_split(), SPACE, seed=0)
    record = objective.evaluate("0", RMSPROP, epochs=5, initial_epoch=0, resume_from=None, report=stop_after_two)
    assert [e for e, _ in heard] == [1, 2]
    assert record.epochs == 2 and record.samples == 2 * 160
    assert record.val_accuracy == [v for _, v in heard]
    full = KerasObjective(tiny_split(), SPACE, seed=0).evaluate("0", RMSPROP, 5, 0, None, report=lambda e, v: False)
    assert full.epochs == 5 and full.val_accuracy[:2] == record.val_accuracy  # the same trial, only shorter
