"""Regression gates: the smoke bench against a committed baseline, for accuracy and for speed.

Quality: with the same seeds, each strategy must choose the same
hyperparameters and reach the same test accuracy.  On one machine runs are
bit-for-bit deterministic; across machines of one kind, floating-point
order can move accuracies slightly, so we allow ``ACCURACY_TOLERANCE``
(absolute).  Speed: a run's wall-clock is divided by the calibration
measured in the same session (seconds per sample of the 1x448 throughput
benchmark), so a slower machine does not fail the gate but a slower harness
does; a run may cost up to ``SPEED_TOLERANCE`` times its baseline cost.

Refresh the baseline on purpose, never to make CI green:
``python -m tuning gate results/ci/smoke --baseline results/baseline/smoke.json --write``
after a smoke bench, then commit the file with a message that says why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuning.bench.calibration import THROUGHPUT_FILE, read_calibration
from tuning.core.records import RunResult
from tuning.results import ResultError, read_result, write_atomic

ACCURACY_TOLERANCE = 0.01
SPEED_TOLERANCE = 1.5


class GateError(ValueError):
    """The gate cannot run: no calibration, no runs, an unreadable baseline."""


@dataclass(frozen=True)
class Check:
    run: str
    check: str
    baseline: str
    current: str
    change: str
    ok: bool


def calibration(results_dir: Path) -> float:
    """Seconds per calibration sample, from the throughput benchmark of the same session."""
    try:
        return 1.0 / read_calibration(results_dir)
    except ValueError as e:
        raise GateError(f"{e}; run the throughput benchmark in the same session") from None


def runs(results_dir: Path) -> dict[str, RunResult]:
    found: dict[str, RunResult] = {}
    for path in sorted(Path(results_dir).glob("*.json")):
        if path.name == THROUGHPUT_FILE:
            continue
        try:
            result = read_result(path)
        except ResultError:
            continue
        found[f"{result.strategy}-seed{result.seed}"] = result
    if not found:
        raise GateError(f"no result files in {results_dir}")
    return found


def normalized_cost(wall_clock_seconds: float, seconds_per_sample: float) -> float:
    """Wall-clock in units of 'calibration samples this machine trains in that time'."""
    return wall_clock_seconds / seconds_per_sample


def make_baseline(results_dir: Path) -> dict[str, Any]:
    per_sample = calibration(results_dir)
    baseline_runs = {
        key: {
            "hyperparameters": r.best.hyperparameters,
            "test_accuracy": r.best.test_accuracy,
            "wall_clock_seconds": r.wall_clock_seconds,
            "cost": normalized_cost(r.wall_clock_seconds, per_sample),
        }
        for key, r in runs(results_dir).items()
    }
    any_run = next(iter(runs(results_dir).values()))
    return {
        "kind": "baseline",
        "budget": any_run.budget.name,
        "calibration_samples_per_second": 1.0 / per_sample,
        "accuracy_tolerance": ACCURACY_TOLERANCE,
        "speed_tolerance": SPEED_TOLERANCE,
        "environment": any_run.environment,
        "runs": baseline_runs,
    }


def read_baseline(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise GateError(f"cannot read baseline {path}: {e}") from None
    if not isinstance(doc, dict) or doc.get("kind") != "baseline" or not isinstance(doc.get("runs"), dict):
        raise GateError(f"{path} is not a baseline (expected kind 'baseline' with runs)")
    return doc


def compare(baseline: dict[str, Any], results_dir: Path) -> list[Check]:
    """Every check of every baseline run; a run missing from the current bench fails."""
    per_sample = calibration(results_dir)
    current = runs(results_dir)
    checks: list[Check] = []
    for key, base in sorted(baseline["runs"].items()):
        now = current.get(key)
        if now is None:
            checks.append(Check(key, "present", "ran", "missing", "", False))
            continue
        hp_now = now.best.hyperparameters
        checks.append(
            Check(
                key,
                "hyperparameters",
                _short(base["hyperparameters"]),
                _short(hp_now),
                "",
                hp_now == base["hyperparameters"],
            )
        )
        acc_now, acc_base = now.best.test_accuracy, base["test_accuracy"]
        checks.append(
            Check(
                key,
                "test accuracy",
                f"{acc_base:.4f}",
                f"{acc_now:.4f}",
                f"{acc_now - acc_base:+.4f}",
                acc_now >= acc_base - ACCURACY_TOLERANCE,
            )
        )
        cost_now = normalized_cost(now.wall_clock_seconds, per_sample)
        ratio = cost_now / base["cost"]
        checks.append(
            Check(
                key,
                "cost (wall-clock / calibration)",
                f"{base['cost']:.0f}",
                f"{cost_now:.0f}",
                f"x{ratio:.2f}",
                ratio <= SPEED_TOLERANCE,
            )
        )
    return checks


def write_baseline(results_dir: Path, path: Path) -> Path:
    return write_atomic(Path(path), make_baseline(results_dir))


def _short(hp: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in hp.items())
