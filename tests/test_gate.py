"""The regression gates fail on a planted regression and pass a merely slower machine."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import keras
import pytest

from tuning.bench import gate
from tuning.bench.calibration import THROUGHPUT_FILE
from tuning.cli import main
from tuning.core.records import RunResult
from tuning.execution.runner import execute
from tuning.objectives.live.train import KerasObjective
from tuning.problems.mnist_mlp import BUDGETS
from tuning.results import write_atomic
from tuning.strategies import get

from documents import result_document


def _result(strategy: str, seed: int, acc: float, wall: float, lr: float = 1e-3, steps: float = 1.0) -> dict[str, Any]:
    """A run of three trials of 4,000 samples, each with ``steps`` seconds of training steps."""
    doc = result_document(strategy, seed, acc)
    doc["best"]["hyperparameters"] = {"num_layers": 1, "units_0": 64, "optimizer": "adam", "learning_rate": lr}
    doc["wall_clock_seconds"] = wall
    for trial in doc["trials"]:
        trial["train_seconds"] = steps
    return doc


def _bench(directory: Path, results: list[dict[str, Any] | RunResult]) -> Path:
    for r in results:
        doc = r.to_json() if isinstance(r, RunResult) else r
        write_atomic(directory / f"{doc['strategy']}-seed{doc['seed']}.json", doc)
    # The throughput benchmark's file, as a bench writes it: the gate no longer reads it.
    write_atomic(directory / THROUGHPUT_FILE, {"kind": "throughput", "calibration_samples_per_second": 8000.0})
    return directory


def _verdicts(baseline_dir: Path, current_dir: Path) -> dict[tuple[str, str], bool]:
    checks = gate.compare(gate.make_baseline(baseline_dir), current_dir)
    return {(c.run, c.check.split()[0]): c.ok for c in checks}


def test_unchanged_bench_passes(tmp_path: Path) -> None:
    base = _bench(tmp_path / "a", [_result("random", 0, 0.90, 10.0)])
    assert all(_verdicts(base, base).values())


def test_accuracy_loss_fails(tmp_path: Path) -> None:
    base = _bench(tmp_path / "a", [_result("random", 0, 0.90, 10.0)])
    now = _bench(tmp_path / "b", [_result("random", 0, 0.85, 10.0)])
    assert _verdicts(base, now) == {
        ("random-seed0", "hyperparameters"): True,
        ("random-seed0", "test"): False,
        ("random-seed0", "cost"): True,
    }


def test_other_choice_fails(tmp_path: Path) -> None:
    base = _bench(tmp_path / "a", [_result("random", 0, 0.90, 10.0)])
    now = _bench(tmp_path / "b", [_result("random", 0, 0.90, 10.0, lr=2e-3)])
    assert not _verdicts(base, now)[("random-seed0", "hyperparameters")]


def test_slower_harness_fails_but_slower_machine_passes(tmp_path: Path) -> None:
    """A slower machine trains its steps slower too; a slower harness spends the time outside them."""
    base = _bench(tmp_path / "a", [_result("random", 0, 0.90, 10.0)])
    slower_harness = _bench(tmp_path / "b", [_result("random", 0, 0.90, 20.0)])
    slower_machine = _bench(tmp_path / "c", [_result("random", 0, 0.90, 20.0, steps=2.0)])
    assert not _verdicts(base, slower_harness)[("random-seed0", "cost")]
    assert _verdicts(base, slower_machine)[("random-seed0", "cost")]


def test_a_stall_in_one_of_two_benches_passes_but_a_slower_harness_in_both_fails(tmp_path: Path) -> None:
    """A run's cost is its least over the benches: a stall happens once, a slower harness every time."""
    base = _bench(tmp_path / "a", [_result("random", 0, 0.90, 10.0)])
    stalled = _bench(tmp_path / "b", [_result("random", 0, 0.90, 25.0)])
    steady = _bench(tmp_path / "c", [_result("random", 0, 0.90, 11.0)])
    slower = _bench(tmp_path / "d", [_result("random", 0, 0.90, 20.0)])
    baseline = gate.make_baseline(base)
    assert not {c.check: c.ok for c in gate.compare(baseline, stalled)}["cost (wall-clock x steps' speed)"]
    assert all(c.ok for c in gate.compare(baseline, [stalled, steady]))
    assert not {c.check: c.ok for c in gate.compare(baseline, [stalled, slower])}["cost (least of 2 benches)"]
    # The baseline too is each run's least cost over its benches.
    assert gate.make_baseline([stalled, base])["runs"]["random-seed0"]["cost"] == pytest.approx(10.0 * 4000.0)


def test_two_benches_that_disagree_fail_and_make_no_baseline(tmp_path: Path) -> None:
    """Runs of one commit on one machine are deterministic: another choice or accuracy in either bench fails."""
    base = _bench(tmp_path / "a", [_result("random", 0, 0.90, 10.0)])
    other = _bench(tmp_path / "b", [_result("random", 0, 0.91, 10.0)])
    verdicts = {c.check.split()[0]: c for c in gate.compare(gate.make_baseline(base), [base, other])}
    assert not verdicts["test"].ok and verdicts["test"].current == "0.9000 | 0.9100"
    assert verdicts["hyperparameters"].ok
    with pytest.raises(gate.GateError, match="not deterministic"):
        gate.make_baseline([base, other])


def test_missing_run_fails_and_cli_prints_the_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = _bench(tmp_path / "a", [_result("random", 0, 0.90, 10.0), _result("grid", 0, 0.9, 10.0)])
    now = _bench(tmp_path / "b", [_result("random", 0, 0.80, 10.0)])
    assert main(["gate", str(base), "--baseline", str(tmp_path / "base.json"), "--write"]) == 0
    assert main(["gate", str(now), "--baseline", str(tmp_path / "base.json")]) == 1
    out = capsys.readouterr().out
    assert "grid-seed0" in out and "missing" in out and "REGRESSED" in out and "-0.1000" in out
    # Several benches on the command line: each run's least cost, and the table says so.
    assert main(["gate", str(base), str(base), "--baseline", str(tmp_path / "base.json")]) == 0
    assert "the least of 2 benches" in capsys.readouterr().out


def test_runs_without_training_steps_or_an_outdated_baseline_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = _result("random", 0, 0.90, 10.0)
    for trial in doc["trials"]:
        trial["samples"] = 0
    base = _bench(tmp_path / "a", [doc])
    assert main(["gate", str(base), "--baseline", str(tmp_path / "x.json"), "--write"]) == 2
    assert "no training steps" in capsys.readouterr().err
    # A baseline whose costs were measured against the old throughput calibration is refused, not compared.
    good = _bench(tmp_path / "b", [_result("random", 0, 0.90, 10.0)])
    old = gate.make_baseline(good)
    del old["steps_samples_per_second"]
    write_atomic(tmp_path / "old.json", old)
    assert main(["gate", str(good), "--baseline", str(tmp_path / "old.json")]) == 2
    assert "refresh it" in capsys.readouterr().err


class _Sleep(keras.callbacks.Callback):
    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        time.sleep(self.seconds)


@pytest.mark.training
def test_planted_regressions_in_real_runs_fail_the_gate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real smoke runs: a sleep in the training loop trips the speed gate, a crippled optimizer the quality gate."""
    strategy, budget = get("random"), BUDGETS["smoke"]

    clean = execute(strategy, budget, seed=0)
    base = _bench(tmp_path / "clean", [clean])

    # Sleep so that the run takes about twice as long, whatever this machine's speed.
    pause = clean.wall_clock_seconds / budget.epoch_budget
    monkeypatch.setattr(KerasObjective, "__init__", _with_callback(KerasObjective.__init__, lambda: [_Sleep(pause)]))
    slow = _bench(tmp_path / "slow", [execute(strategy, budget, seed=0)])
    monkeypatch.undo()
    verdicts = _verdicts(base, slow)
    assert not verdicts[("random-seed0", "cost")]
    assert verdicts[("random-seed0", "test")] and verdicts[("random-seed0", "hyperparameters")]

    # A harness that trains with a hundredth of the chosen learning rate loses accuracy.
    original = KerasObjective.build
    monkeypatch.setattr(
        KerasObjective,
        "build",
        lambda self, config, seed=0: original(
            self, {**config, "learning_rate": max(1e-4, config["learning_rate"] / 100)}, seed
        ),
    )
    worse = execute(strategy, budget, seed=0)
    monkeypatch.undo()
    assert not _verdicts(base, _bench(tmp_path / "worse", [worse]))[("random-seed0", "test")]


def _with_callback(init: Any, callbacks: Any) -> Any:
    def patched(self: KerasObjective, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.callbacks = callbacks

    return patched
