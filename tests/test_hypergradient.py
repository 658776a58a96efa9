"""Hypergradient descent: the optimizers against the paper's formulas, their behaviour, and the strategy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest
from keras import ops

from tuning import strategies
from tuning.core.budget import Budget
from tuning.objectives.live.data import Split
from tuning.objectives.live.hypergradient_optimizers import (
    SGDHD,
    VARIANTS,
    AdamHD,
    HypergradientOptimizer,
    LearningRateTrajectory,
    RMSpropHD,
    current_learning_rate,
    hypergradient_optimizer,
)
from tuning.objectives.live.train import KerasObjective
from tuning.problems.mnist_mlp import SPACE
from tuning.results import read_result

from property_checks import synthetic_search

pytestmark = pytest.mark.backend  # Keras computes here: CI runs these on each backend

# A tiny least-squares problem: f(w) = ½‖Aw − b‖², ∇f(w) = Aᵀ(Aw − b).
A = np.array([[1.0, 2.0, 0.0], [0.5, -1.0, 1.0], [0.0, 1.0, 3.0], [2.0, 0.0, -1.0]])
B = np.array([1.0, -1.0, 2.0, 0.5])
W0 = np.array([0.3, -0.2, 0.1])


def grad(w: np.ndarray) -> np.ndarray:
    return A.T @ (A @ w - B)


def keras_steps(
    optimizer: HypergradientOptimizer, gradient: Callable[[np.ndarray], np.ndarray], w0: np.ndarray, steps: int
) -> tuple[list[np.ndarray], list[float]]:
    """Run ``optimizer`` on its own (no model): the weights and learning rate after each step."""
    w = keras.Variable(w0.astype("float32"))
    ws, alphas = [], []
    for _ in range(steps):
        g = gradient(ops.convert_to_numpy(w).astype("float64")).astype("float32")
        optimizer.apply([ops.convert_to_tensor(g)], [w])
        ws.append(ops.convert_to_numpy(w).astype("float64"))
        alphas.append(current_learning_rate(optimizer))
    return ws, alphas


# -- the paper's algorithms, written out step by step in float64 ---------------------------


def sgd_hd_by_hand(alpha: float, beta: float, steps: int) -> tuple[list[np.ndarray], list[float]]:
    """Algorithm 4 (SGD-HD): α_t = α_{t−1} − β·g_t·∇_α u_{t−1}, ∇_α u_{t−1} = −g_{t−1}; θ_t = θ_{t−1} − α_t g_t."""
    w, grad_alpha_u = W0.copy(), np.zeros(3)
    ws, alphas = [], []
    for _ in range(steps):
        g = grad(w)
        alpha = alpha - beta * (g @ grad_alpha_u)
        w = w - alpha * g
        grad_alpha_u = -g
        ws.append(w)
        alphas.append(alpha)
    return ws, alphas


def adam_hd_by_hand(
    alpha: float, beta: float, steps: int, b1: float = 0.9, b2: float = 0.999, eps: float = 0.0
) -> tuple[list[np.ndarray], list[float]]:
    """Algorithm 6 (Adam-HD): ∇_α u_{t−1} = −m̂_{t−1}/(√v̂_{t−1} + ε)."""
    w, m, v, grad_alpha_u = W0.copy(), np.zeros(3), np.zeros(3), np.zeros(3)
    ws, alphas = [], []
    for t in range(1, steps + 1):
        g = grad(w)
        alpha = alpha - beta * (g @ grad_alpha_u)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        w = w - alpha * m_hat / (np.sqrt(v_hat) + eps)
        grad_alpha_u = -m_hat / (np.sqrt(v_hat) + eps)
        ws.append(w)
        alphas.append(alpha)
    return ws, alphas


def rmsprop_hd_by_hand(
    alpha: float, beta: float, steps: int, rho: float = 0.9, eps: float = 1e-7
) -> tuple[list[np.ndarray], list[float]]:
    """RMSprop-HD as derived in tuning.objectives.live.hypergradient_optimizers: ∇_α u_{t−1} = −g_{t−1}/√(v_{t−1} + ε)."""
    w, v, grad_alpha_u = W0.copy(), np.zeros(3), np.zeros(3)
    ws, alphas = [], []
    for _ in range(steps):
        g = grad(w)
        alpha = alpha - beta * (g @ grad_alpha_u)
        v = rho * v + (1 - rho) * g * g
        w = w - alpha * g / np.sqrt(v + eps)
        grad_alpha_u = -g / np.sqrt(v + eps)
        ws.append(w)
        alphas.append(alpha)
    return ws, alphas


@pytest.mark.parametrize(
    "make, by_hand",
    [
        (lambda: SGDHD(learning_rate=0.05, hypergradient_lr=1e-3), lambda: sgd_hd_by_hand(0.05, 1e-3, 3)),
        (
            lambda: AdamHD(learning_rate=0.05, hypergradient_lr=1e-2, epsilon=0.0),
            lambda: adam_hd_by_hand(0.05, 1e-2, 3),
        ),
        (lambda: RMSpropHD(learning_rate=0.05, hypergradient_lr=1e-2), lambda: rmsprop_hd_by_hand(0.05, 1e-2, 3)),
    ],
    ids=["SGD-HD", "Adam-HD", "RMSprop-HD"],
)
def test_steps_match_the_papers_formula(make: Callable[[], HypergradientOptimizer], by_hand: Callable[[], Any]) -> None:
    ws, alphas = keras_steps(make(), grad, W0, 3)
    ws_ref, alphas_ref = by_hand()
    assert alphas[0] == pytest.approx(0.05, rel=1e-6)  # d_0 = 0: the first step keeps α_0
    assert abs(alphas_ref[2] - 0.05) > 1e-3  # the learning rate really moved, so the check means something
    # float32 against float64: Adam's 1 − 0.999^t alone loses ~1e-5 to cancellation in float32.
    np.testing.assert_allclose(alphas, alphas_ref, rtol=1e-4)
    np.testing.assert_allclose(ws, ws_ref, rtol=1e-4, atol=1e-5)


def test_sgd_hd_second_step_by_hand() -> None:
    """α_2 = α_1 + β·g_2·g_1, with every number spelled out."""
    alpha, beta = 0.05, 1e-3
    g1 = grad(W0)
    w1 = W0 - alpha * g1
    g2 = grad(w1)
    alpha2 = alpha + beta * float(g2 @ g1)
    _, alphas = keras_steps(SGDHD(learning_rate=alpha, hypergradient_lr=beta), grad, W0, 2)
    assert alphas[1] == pytest.approx(alpha2, rel=1e-5)


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_beta_zero_is_the_plain_keras_optimizer(name: str) -> None:
    """With β = 0 each variant is Keras's own optimizer with its defaults: the only difference is the learned α."""
    plain = getattr(keras.optimizers, SPACE.optimizers[name])(learning_rate=0.05)
    ws, alphas = keras_steps(hypergradient_optimizer(name, 0.05, hypergradient_lr=0.0), grad, W0, 5)
    w = keras.Variable(W0.astype("float32"))
    for _ in range(5):
        plain.apply([ops.convert_to_tensor(grad(ops.convert_to_numpy(w).astype("float64")).astype("float32"))], [w])
    np.testing.assert_allclose(ws[-1], ops.convert_to_numpy(w), rtol=1e-5, atol=1e-6)
    assert alphas == pytest.approx([0.05] * 5, rel=1e-6)


# -- behaviour on a quadratic -----------------------------------------------------------------

C = 2.0  # f(x) = ½·C·‖x‖²: plain gradient descent is fastest at α = 1/C


def quadratic(x: np.ndarray) -> np.ndarray:
    return C * x


@pytest.mark.parametrize(
    "cls, too_small, too_large, beta",
    [(SGDHD, 0.01, 0.9, 0.01), (AdamHD, 1e-3, 2.0, 0.01), (RMSpropHD, 1e-3, 2.0, 0.01)],
    ids=["SGD-HD", "Adam-HD", "RMSprop-HD"],
)
def test_learning_rate_rises_from_too_small_and_falls_from_too_large(
    cls: type[HypergradientOptimizer], too_small: float, too_large: float, beta: float
) -> None:
    x0 = np.array([1.0, -2.0, 0.5])
    _, rising = keras_steps(cls(learning_rate=too_small, hypergradient_lr=beta), quadratic, x0, 20)
    _, falling = keras_steps(cls(learning_rate=too_large, hypergradient_lr=beta), quadratic, x0, 20)
    assert rising[-1] > 10 * too_small
    assert falling[-1] < too_large
    if cls is SGDHD:  # for gradient descent the best rate is known: both move towards it
        assert abs(rising[-1] - 1 / C) < abs(too_small - 1 / C)
        assert abs(falling[-1] - 1 / C) < abs(too_large - 1 / C)


def test_learning_rate_is_floored_at_zero() -> None:
    """A β far too large would push α below zero (gradient ascent); it stops at 0 instead."""
    _, alphas = keras_steps(SGDHD(learning_rate=0.9, hypergradient_lr=0.1), quadratic, np.array([1.0, -2.0, 0.5]), 2)
    assert alphas[1] == 0.0


def test_rejects_what_the_derivation_does_not_cover() -> None:
    with pytest.raises(ValueError, match="learns the learning rate"):
        AdamHD(learning_rate=keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9))
    with pytest.raises(ValueError, match="weight_decay"):
        SGDHD(weight_decay=1e-4)
    with pytest.raises(ValueError, match="no hypergradient variant"):
        hypergradient_optimizer("adagrad", 0.01)


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_serializes_like_any_keras_optimizer(name: str) -> None:
    opt = hypergradient_optimizer(name, 0.003)
    again = keras.optimizers.deserialize(keras.optimizers.serialize(opt))
    assert type(again) is type(opt)
    assert again.hypergradient_lr == opt.hypergradient_lr == VARIANTS[name].DEFAULT_BETA
    assert current_learning_rate(again) == pytest.approx(0.003)


# -- inside model.fit, on every backend -------------------------------------------------------

FIT_CODE = textwrap.dedent(
    """
    import numpy as np, keras
    from tuning.objectives.live.hypergradient_optimizers import LearningRateTrajectory, hypergradient_optimizer
    from tuning.objectives.live.model import build_model
    from tuning.problems.mnist_mlp import SPACE

    def fit():
        rng = np.random.default_rng(0)
        x = rng.random((256, 784), dtype=np.float32)
        y = x[:, :10].argmax(axis=1).astype("int32")
        out = {"backend": keras.backend.backend()}
        for name in ("sgd", "adam", "rmsprop"):
            keras.utils.set_random_seed(1)
            config = {"num_layers": 1, "units_0": 32, "optimizer": name, "learning_rate": 0.001}
            model = build_model(config, SPACE, hypergradient_optimizer)  # steps_per_execution=64, jit_compile="auto"
            trajectory = LearningRateTrajectory()
            model.fit(x, y, batch_size=32, epochs=2, verbose=0, callbacks=[trajectory])
            out[name] = [trajectory.initial, *trajectory.per_epoch]
        return out
    """
)


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_learns_inside_compiled_fit(backend: str) -> None:
    """The harness's compile (several steps per compiled call, jit where the backend allows) on each backend."""
    pytest.importorskip(backend)
    if backend == keras.backend.backend():
        namespace: dict[str, Any] = {}
        exec(FIT_CODE, namespace)
        out = namespace["fit"]()
    else:  # a Keras process has one backend: the other one runs in a child
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
        code = FIT_CODE + "\nimport json\nprint(json.dumps(fit()))\n"
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["backend"] == backend
    for name in ("sgd", "adam", "rmsprop"):
        start, *epochs = out[name]
        assert start == pytest.approx(0.001)
        assert len(epochs) == 2 and all(np.isfinite(epochs)) and epochs[-1] != start


# -- the strategy ----------------------------------------------------------------------------


def test_proposes_exactly_what_random_search_proposes(tmp_path: Path) -> None:
    """Same seed, same architectures, optimizers and initial learning rates as 'random'."""
    budget = Budget("t", n_train=1, n_val=1, epochs=1, trials=6, seeds=(0,))
    for seed in (0, 3):
        ours = synthetic_search(strategies.get("hypergradient"), SPACE, budget, seed, str(tmp_path / f"h{seed}"))
        theirs = synthetic_search(strategies.get("random"), SPACE, budget, seed, str(tmp_path / f"r{seed}"))
        assert [r.hyperparameters for r in ours.records] == [r.hyperparameters for r in theirs.records]


def tiny_split(n: int = 64) -> Split:
    rng = np.random.default_rng(0)
    x = rng.random((3 * n, 784), dtype=np.float32)
    y = x[:, :10].argmax(axis=1).astype("uint8")
    return Split(x[:n], y[:n], x[n : 2 * n], y[n : 2 * n], x[2 * n :], y[2 * n :], source="random test data")


def test_trial_records_the_learning_rate_trajectory() -> None:
    strategy = strategies.get("hypergradient")
    objective = KerasObjective(tiny_split(), SPACE, 0, training=strategy.training)
    config = {"num_layers": 1, "units_0": 32, "optimizer": "sgd", "learning_rate": 0.001}
    record = objective.evaluate("0", config, epochs=3, initial_epoch=0, resume_from=None)
    extra = record.extra
    assert extra["optimizer_class"] == "SGDHD" and extra["hypergradient_lr"] == SGDHD.DEFAULT_BETA
    assert extra["learning_rate_initial"] == pytest.approx(0.001)
    assert len(extra["learning_rate_per_epoch"]) == 3
    assert extra["learning_rate_final"] == extra["learning_rate_per_epoch"][-1] != extra["learning_rate_initial"]
    json.dumps(extra)  # goes into the result file as is


def test_trajectory_callback_restarts_with_each_fit() -> None:
    trajectory = LearningRateTrajectory()
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=SGDHD(0.01), loss="mse")
    x, y = np.ones((8, 3), "float32"), np.zeros((8, 1), "float32")
    model.fit(x, y, epochs=2, verbose=0, callbacks=[trajectory])
    model.fit(x, y, epochs=1, verbose=0, callbacks=[trajectory])
    assert len(trajectory.per_epoch) == 1


# -- the real thing, at the smoke budget ------------------------------------------------------


def run_cli(strategy: str, results_dir: Path) -> dict[str, Any]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tuning",
            "run",
            "--strategy",
            strategy,
            "--budget",
            "smoke",
            "--seed",
            "0",
            "--results-dir",
            str(results_dir),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return read_result(Path(done.stdout.strip().splitlines()[-1])).to_json()


def comparable(result: dict[str, Any]) -> dict[str, Any]:
    """What must repeat exactly: the trials, their accuracies and extras, and the chosen model's test score."""
    keep = ("trial_id", "hyperparameters", "val_accuracy", "epochs", "status", "extra")
    return {
        "trials": [{k: t[k] for k in keep} for t in result["trials"]],
        "best": result["best"],
    }


@pytest.mark.training
def test_smoke_run_is_valid_and_reproducible(tmp_path: Path) -> None:
    first = run_cli("hypergradient", tmp_path / "a")
    second = run_cli("hypergradient", tmp_path / "b")
    assert first["strategy"] == "hypergradient" and len(first["trials"]) == 3
    for trial in first["trials"]:
        extra = trial["extra"]
        assert extra["learning_rate_initial"] == pytest.approx(trial["hyperparameters"]["learning_rate"], rel=1e-6)
        assert len(extra["learning_rate_per_epoch"]) == trial["epochs"]
        assert all(lr >= 0 for lr in extra["learning_rate_per_epoch"])
    assert comparable(first) == comparable(second)
