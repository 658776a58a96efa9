"""A real smoke run killed with SIGKILL at random points continues where it stopped, and ends as if never killed.

For every strategy, ``tuning run`` is started, killed at a random moment
once it holds its work folder (``KILLS`` times, each continuing the last),
then run to the end; its result file must equal an uninterrupted run's in
everything but timings, and the process that finished it must train only
the trials the last checkpoint did not hold.  One kill per strategy in the
default suite (6); four (24) under the Hypothesis profile ``thorough``
(``tox -e py -- --hypothesis-profile=thorough``), at fresh random points.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from tuning.cli import main
from tuning.execution.workdir import work_path
from tuning.problems.mnist_mlp import BUDGETS

from backends import strategy_cases
from documents import outcome

THOROUGH = settings.default.max_examples >= settings.get_profile("thorough").max_examples
KILLS = 4 if THOROUGH else 1
TIMEOUT = 300.0
BUDGET = BUDGETS["smoke"]


def _holds(work: Path, pid: int) -> bool:
    """Whether process ``pid`` has locked the work folder (it writes its pid into the lock file)."""
    try:
        return (work / ".lock").read_text().strip() == str(pid)
    except OSError:
        return False


def _checkpointed(work: Path) -> tuple[int, bool]:
    """(finished trials, search finished) in the work folder's last checkpoint."""
    try:
        state = json.loads((work / "checkpoint.json").read_text())
    except FileNotFoundError:
        return 0, False
    return len(state["records"]), bool(state["finished"])


def _kill_at(cmd: list[str], work: Path, delay: float) -> bool:
    """Start ``cmd``; ``delay`` s after it has locked its work folder, SIGKILL it. False if it finished first."""
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONHASHSEED": "0"}
    )
    try:
        deadline = time.monotonic() + TIMEOUT
        while not _holds(work, proc.pid) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        try:
            proc.wait(timeout=delay)
            return False
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.training
@pytest.mark.parametrize("name", strategy_cases())
def test_a_killed_run_resumes_to_the_uninterrupted_result(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], smoke_result: Callable[[str], dict[str, Any]]
) -> None:
    reference = smoke_result(name)
    window = 1.5 * reference["wall_clock_seconds"] + 1.0  # data loading and the test score included
    rng = random.Random(None if THOROUGH else name)
    results = tmp_path / "results"
    args = ["run", "--strategy", name, "--seed", "0", "--budget", BUDGET.name, "--results-dir", str(results)]
    work = work_path(results, "mnist-mlp", BUDGET.name, name, 0)
    result_file = results / "mnist-mlp" / BUDGET.name / f"{name}-seed0.json"

    kills: list[tuple[float, int, bool, bool]] = []  # (delay s, trials checkpointed, search over, file written)
    chain = 0  # kills since the run last started from nothing
    for _ in range(4 * KILLS):
        if len(kills) == KILLS:
            break
        delay = rng.uniform(0.0, window)
        if _kill_at([sys.executable, "-m", "tuning", *args], work, delay):
            kills.append((delay, *_checkpointed(work), result_file.exists()))
            chain += 1
        else:  # the run outran its kill: start that chain again
            result_file.unlink()
            chain = 0
    assert len(kills) == KILLS, f"only {len(kills)} of {KILLS} kills landed before the run ended"

    capsys.readouterr()
    assert main(args) == 0  # the same command again, in this process (where TensorFlow is loaded already)
    out, err = capsys.readouterr()
    assert Path(out.strip().splitlines()[-1]) == result_file
    assert not work.exists(), "the work folder outlived its result file"
    resumed = json.loads(result_file.read_text())
    assert outcome(resumed) == outcome(reference), f"kills (delay s, trials, over, written): {kills}"

    # Finished trials are not trained again: the last process trained only what the checkpoint lacked,
    # and every process that found a checkpoint continued from it.
    _, done, over, written = kills[-1]
    trained = [line for line in err.splitlines() if line.startswith(f"[{name} seed 0 smoke] trial")]
    assert len(trained) == (0 if over or written else len(resumed["trials"]) - done), (kills, err)
    continued = sum(1 for _, n, _, _ in kills[len(kills) - chain : len(kills) - 1 if written else None] if n > 0)
    assert (done > 0 and not written) <= resumed["environment"]["resumes"] <= continued, kills


@pytest.mark.training
@pytest.mark.backend
def test_damaged_weights_are_found_on_resume_and_trained_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], smoke_result: Callable[[str], dict[str, Any]]
) -> None:
    """Old: a run resumed with truncated weight files trained the remaining trials, then died at the test score
    with a zipfile.BadZipFile traceback and wrote nothing.  Now the checkpoint's digests find the damage when
    the run resumes; those trials are trained again (their seeds give the same weights), with one line saying so."""
    name = "hyperband"  # its continuations need earlier trials' weights, as the final test score does
    reference = smoke_result(name)
    results = tmp_path / "results"
    args = ["run", "--strategy", name, "--seed", "0", "--budget", BUDGET.name, "--results-dir", str(results)]
    work = work_path(results, "mnist-mlp", BUDGET.name, name, 0)
    last = len(reference["trials"]) - 1
    proc = subprocess.Popen(
        [sys.executable, "-m", "tuning", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    try:  # killed once every trial but the last is checkpointed: the last one and the test need their weights
        deadline = time.monotonic() + TIMEOUT
        while _checkpointed(work)[0] < last and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert proc.poll() is None, "the run ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    state = json.loads((work / "checkpoint.json").read_text())
    damaged = sorted(state["weights"])
    assert len(damaged) == last == len(state["records"]) and not state["finished"]
    needed = {reference["best"]["trial_id"], reference["trials"][-1]["resumed_from"]}
    assert needed & set(damaged), "the damage would not matter: nothing left to do needs those weights"
    for trial_id in damaged[::2]:  # half truncated, as a partial copy or a full disk leaves them; half gone
        path = work / "weights" / f"{trial_id}.npz"
        path.write_bytes(path.read_bytes()[:100])
    for trial_id in damaged[1::2]:
        (work / "weights" / f"{trial_id}.npz").unlink()

    capsys.readouterr()
    assert main(args) == 0
    _, err = capsys.readouterr()
    assert "Traceback" not in err
    (line,) = [line for line in err.splitlines() if "missing or damaged" in line]
    assert f"trained again {len(damaged)} trial(s)" in line and all(t in line for t in damaged), line
    resumed = json.loads((results / "mnist-mlp" / BUDGET.name / f"{name}-seed0.json").read_text())
    assert outcome(resumed) == outcome(reference)
