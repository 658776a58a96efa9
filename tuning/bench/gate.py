"""Regression gates: the smoke bench against a committed baseline, for accuracy and for speed.

Quality: with the same seeds, each strategy must choose the same
hyperparameters and reach the same test accuracy.  On one machine runs are
bit-for-bit deterministic; across machines of one kind, floating-point
order can move accuracies slightly, so we allow ``ACCURACY_TOLERANCE``
(absolute).  Speed: a run's wall-clock is divided by the calibration
measured in the same session (seconds per sample of the 1x448 throughput
benchmark), so a slower machine does not fail the gate but a slower harness
does; a run may cost up to ``SPEED_TOLERANCE`` times its baseline cost.

When a run's choices or accuracy moved, ``explain`` says in one paragraph
which run and (where the baseline keeps trajectories) which trial diverged
first, and which packages' versions differ from the baseline's provenance:
when a dependency changes a strategy (Optuna 5 changed TPE's defaults), the
failure names it.  Whether a strategy got *worse*, rather than merely
different, is the quality gate's question (``tuning.bench.quality``).

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


def trajectory(run: RunResult) -> list[dict[str, Any]]:
    """Each trial's choice and score, in order: what ``explain`` compares to find the first trial that diverged."""
    return [{"hyperparameters": t.hyperparameters, "val_accuracy": t.val_accuracy_final} for t in run.trials]


def make_baseline(results_dir: Path) -> dict[str, Any]:
    per_sample = calibration(results_dir)
    baseline_runs = {
        key: {
            "hyperparameters": r.best.hyperparameters,
            "test_accuracy": r.best.test_accuracy,
            "wall_clock_seconds": r.wall_clock_seconds,
            "cost": normalized_cost(r.wall_clock_seconds, per_sample),
            "trials": trajectory(r),
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


def first_divergence(base: dict[str, Any], now: RunResult, tolerance: float = 1e-6) -> str:
    """Where a run's trajectory left the baseline's: the first trial with another choice or score."""
    trials = base.get("trials")
    if not isinstance(trials, list):
        return "(the baseline keeps each run's chosen trial only, so the trial is not known; --write records them)"
    for i, (was, trial) in enumerate(zip(trials, now.trials)):
        score = trial.val_accuracy_final
        if was.get("hyperparameters") != trial.hyperparameters:
            return (
                f"at trial {i} (another choice: {_short(trial.hyperparameters)}, was {_short(was['hyperparameters'])})"
            )
        if (score is None) != (was.get("val_accuracy") is None) or (
            score is not None and abs(score - was["val_accuracy"]) > tolerance
        ):
            return f"at trial {i} (same choice, validation accuracy {score} instead of {was.get('val_accuracy')})"
    if len(trials) != len(now.trials):
        return f"after trial {min(len(trials), len(now.trials)) - 1} ({len(now.trials)} trials, was {len(trials)})"
    return "in its final scoring (every trial the same)"


def version_drift(baseline: dict[str, Any], current: dict[str, RunResult]) -> list[str]:
    """``name was -> now`` for every package whose version differs from the baseline's provenance."""
    was = (baseline.get("environment") or {}).get("versions") or {}
    now: dict[str, set[str]] = {}
    for run in current.values():
        for name, version in ((run.environment or {}).get("versions") or {}).items():
            now.setdefault(name, set()).add(str(version))
    drift = []
    for name in sorted(set(was) | set(now)):
        versions = now.get(name, {"absent"})
        if versions != {str(was.get(name, "absent"))}:
            drift.append(f"{name} {was.get(name, 'absent')} -> {' | '.join(sorted(versions))}")
    return drift


def explain(baseline: dict[str, Any], results_dir: Path, checks: list[Check]) -> str | None:
    """One paragraph on a trajectory mismatch: the first run and trial that diverged, and the packages that moved.

    ``None`` when every run made the baseline's choices and accuracy (a speed regression explains itself).
    """
    moved = sorted({c.run for c in checks if not c.ok and c.check in ("hyperparameters", "test accuracy")})
    if not moved:
        return None
    current = runs(results_dir)
    first = moved[0]
    where = first_divergence(baseline["runs"][first], current[first])
    drift = version_drift(baseline, current)
    packages = (
        f"Packages whose version differs from the baseline's: {', '.join(drift)}."
        if drift
        else "No package version differs from the baseline's, so the change is in this code or the machine "
        f"(baseline commit {((baseline.get('environment') or {}).get('git') or {}).get('commit', 'unknown')})."
    )
    others = f" ({len(moved) - 1} other run(s) moved too: {', '.join(moved[1:])})" if len(moved) > 1 else ""
    return f"Trajectory mismatch: {first} diverged first, {where}{others}. {packages}"


def write_baseline(results_dir: Path, path: Path) -> Path:
    return write_atomic(Path(path), make_baseline(results_dir))


def _short(hp: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in hp.items())
