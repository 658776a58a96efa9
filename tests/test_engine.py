"""Whole runs on Dask distributed, on loopback only (127.0.0.1): a worker SIGKILLed mid-run costs nothing.

A local scheduler and two single-threaded workers run a small smoke bench;
one worker is killed while its run is between trials; every result arrives
exactly once and equals the serial run's (same trials, same accuracies), and
the killed run continued from its work folder.  Bounded in time; the
cluster's processes are gone afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psutil
import pytest

from tuning import strategies
from tuning.execution.engine import DaskEngine, RunFailed, RunSpec, SerialEngine, _failure
from tuning.execution.workdir import WORK_DIR
from tuning.problems.mnist_mlp import BUDGETS, SPACE

from documents import outcome

BUDGET = BUDGETS["smoke"]
TIMEOUT = 300.0
NAMES = [n for n in ("random", "hyperband", "tpe") if strategies.get(n).available()]


def _victim(results: Path, workers: dict[str, int], deadline: float) -> tuple[str, int]:
    """A run with a finished trial and more to train, and the pid of the worker process that holds it."""
    while time.monotonic() < deadline:
        for work in sorted((results / "mnist-mlp" / BUDGET.name / WORK_DIR).glob("*-seed0")):
            try:
                state = json.loads((work / "checkpoint.json").read_text())
                pid = int((work / ".lock").read_text())
            except (OSError, ValueError):
                continue
            if state["records"] and not state["finished"] and pid in workers.values():
                return work.name, pid
        time.sleep(0.02)
    raise AssertionError("no run reached a checkpoint in time")


@pytest.mark.training
@pytest.mark.skipif(
    os.environ.get("KERAS_BACKEND") == "tensorflow",
    reason="on TensorFlow a one-thread worker's test loss differs in its last digits from a two-thread serial run "
    "on this project's current 2-core host (the code before problems fails the same way here); JAX is compared",
)
def test_a_worker_killed_mid_run_costs_nothing(tmp_path: Path, smoke_result: Callable[[str], dict[str, Any]]) -> None:
    serial = {name: outcome(smoke_result(name)) for name in NAMES}
    specs = [RunSpec(name, BUDGET.name, 0) for name in NAMES]
    results = tmp_path / "results"
    deadline = time.monotonic() + TIMEOUT
    engine = DaskEngine(results, workers=2)
    pids: dict[str, int] = {}
    try:
        info = engine.client.scheduler_info()
        addresses = [info["address"], *info["workers"]]
        assert all(a.startswith("tcp://127.0.0.1:") for a in addresses), addresses
        pids = engine.workers()
        engine.submit(specs)
        killed_run, victim = _victim(results, pids, deadline)
        os.kill(victim, signal.SIGKILL)
        outcomes = {spec.strategy: engine.outcome(spec, timeout=deadline - time.monotonic()) for spec in specs}
        # A run that cannot succeed fails with one line naming it and why, and is not retried.
        with pytest.raises(RunFailed, match=r"^run random seed 0 huge failed: unknown budget 'huge'; choose from"):
            engine.submit([RunSpec("random", "huge", 0)])
            engine.outcome(RunSpec("random", "huge", 0), timeout=60)
    finally:
        engine.close()

    written = sorted(p.name for p in (results / "mnist-mlp" / BUDGET.name).iterdir())
    assert written == sorted(f"{name}-seed0.json" for name in NAMES)  # each result once, no work folder left
    for name, got in outcomes.items():
        from_file = json.loads((results / "mnist-mlp" / BUDGET.name / f"{name}-seed0.json").read_text())
        assert outcome(got.result.to_json()) == outcome(from_file) == serial[name], name
        assert got.worker.startswith("tcp://127.0.0.1:") and got.seconds > 0 and got.device["kind"] in {"CPU", "GPU"}
    resumed = outcomes[killed_run.removesuffix("-seed0")].result
    assert resumed.environment["resumes"] >= 1  # the rescheduled run continued from the work folder
    time.sleep(1.0)
    alive = [pid for pid in pids.values() if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]
    assert not alive, f"worker processes left running: {alive}"


def test_a_failing_run_is_one_line_naming_it_and_its_last_error(tmp_path: Path) -> None:
    engine = SerialEngine(tmp_path)
    with pytest.raises(RunFailed) as failed:
        engine.outcome(RunSpec("annealing", "smoke", 0))
    assert str(failed.value).startswith("run annealing seed 0 smoke failed: unknown strategy 'annealing'")
    assert not any(tmp_path.iterdir())


def test_a_run_whose_workers_keep_dying_says_so_in_one_line() -> None:
    from distributed.scheduler import KilledWorker

    error: Any = KilledWorker("tuning-run-smoke-random-seed0", SimpleNamespace(address="tcp://127.0.0.1:4001"), 3)
    line = _failure(error, retries=2)
    assert "\n" not in line and line.startswith("every worker that ran it died")
    assert _failure(ValueError("bad\nthings happened"), retries=2) == "ValueError: things happened (after 3 tries)"


_ALLOCATIONS = """
import sys, time
import numpy as np
if sys.argv[1] == "prepared":
    from tuning.execution.engine import prepare_worker
    prepare_worker()
started = time.perf_counter()
for _ in range(3000):  # a training step's worth of fresh 1.6 MB buffers, each written once
    np.ones(400_000, dtype=np.float32).sum()
print(time.perf_counter() - started)
"""


def test_a_worker_undoes_dasks_malloc_trim_threshold() -> None:
    """A Dask nanny's MALLOC_TRIM_THRESHOLD_ turns every large buffer into a fresh mmap (3x slower training
    here); ``prepare_worker`` restores glibc's thresholds.  Ratios of one run, in fresh processes."""
    import subprocess
    import sys

    if not sys.platform.startswith("linux"):
        pytest.skip("glibc's mallopt")
    env = {**os.environ, "MALLOC_TRIM_THRESHOLD_": "65536"}

    def seconds(mode: str) -> float:
        out = subprocess.run([sys.executable, "-c", _ALLOCATIONS, mode], env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return float(out.stdout.strip().splitlines()[-1])

    plain, prepared = min(seconds("plain") for _ in range(2)), min(seconds("prepared") for _ in range(2))
    assert prepared * 1.5 < plain, f"with the threshold {plain:.3f}s, prepared {prepared:.3f}s"


@pytest.mark.backend
def test_initial_weights_do_not_depend_on_other_threads_drawing_from_random() -> None:
    """On a Dask worker the event loop thread draws from Python's global ``random`` (timer jitter, back-off)
    while a run trains.  Keras's own initializers drew their seeds from it, which changed 2 of 20 standard
    runs on two workers; the model's initial weights must come from the trial seed alone."""
    import random
    import threading

    import keras
    import numpy as np

    from tuning.objectives.live.model import build_model

    config = {"num_layers": 3, "units_0": 64, "units_1": 32, "units_2": 96, "optimizer": "adam", "learning_rate": 1e-3}
    keras.backend.clear_session()
    quiet = build_model(config, SPACE, seed=1234).get_weights()
    stop = threading.Event()

    def draw() -> None:
        while not stop.is_set():
            random.random()
            np.random.random()

    noise = threading.Thread(target=draw, daemon=True)
    noise.start()
    try:
        builds = []
        for _ in range(5):
            keras.backend.clear_session()
            builds.append(build_model(config, SPACE, seed=1234).get_weights())
    finally:
        stop.set()
        noise.join()
    assert all(np.array_equal(a, b) for weights in builds for a, b in zip(weights, quiet))
