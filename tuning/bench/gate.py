"""Regression gates: the smoke bench against a committed baseline, for accuracy and for speed.

Quality: with the same seeds, each strategy must choose the same
hyperparameters and reach the same test accuracy.  On one machine runs are
bit-for-bit deterministic; across machines of one kind, floating-point
order can move accuracies slightly, so we allow ``ACCURACY_TOLERANCE``
(absolute).

Speed: a run's wall-clock is multiplied by the speed of the bench's own
training steps (samples per second of every baseline run's steps, compiling
excluded, on the same single-threaded workers), so a slower machine does not
fail the gate but a slower harness does: building, deciding, bookkeeping,
validating or waiting outside the steps; a run may cost up to
``SPEED_TOLERANCE`` times its baseline cost.  (The throughput benchmark's
1x448 figure was the calibration before: measured on both cores in another
process, it moved 2x between three benches of one commit on an idle
machine, docs/ci-gate.md.)  How fast the steps themselves are is the
throughput benchmark's question, not this gate's.

A smoke run lasts seconds, so one stall of a shared machine can still double
it: the gate takes several benches of the same commit (CI runs two) and a
run's cost is its least over them, as ``timeit`` takes the least of its
repeats.  A slower harness is slower every time; a stall is not.  Choices
and accuracy are checked in every bench, so two benches that disagree with
each other fail too: a run that is not deterministic on one machine.  The
baseline is written the same way, from several benches.

When a run's choices or accuracy moved, ``explain`` says in one paragraph
which run and (where the baseline keeps trajectories) which trial diverged
first, and which packages' versions differ from the baseline's provenance:
when a dependency changes a strategy (Optuna 5 changed TPE's defaults), the
failure names it.  Whether a strategy got *worse*, rather than merely
different, is the quality gate's question (``tuning.bench.quality``).

Refresh the baseline on purpose, never to make CI green:
``python -m tuning gate BENCH1 BENCH2 --baseline results/baseline/smoke.json --write``
after two smoke benches, then commit the file with a message that says why.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuning.bench.calibration import THROUGHPUT_FILE
from tuning.core.records import RunResult
from tuning.results import ResultError, read_result, write_atomic

ACCURACY_TOLERANCE = 0.01
SPEED_TOLERANCE = 1.5


class GateError(ValueError):
    """The gate cannot run: no runs, no training steps, an unreadable or outdated baseline."""


@dataclass(frozen=True)
class Check:
    run: str
    check: str
    baseline: str
    current: str
    change: str
    ok: bool


def steps_speed(found: dict[str, RunResult], keys: Sequence[str] | None = None) -> float:
    """Samples per second of the training steps (compiling excluded) over the runs ``keys`` (all by default):
    the machine's speed as the runs themselves met it, on the same workers at the same time."""
    samples = seconds = 0.0
    for key in found if keys is None else keys:
        if key not in found:
            continue
        for trial in found[key].trials:
            samples += trial.samples or 0
            seconds += (trial.train_seconds or 0.0) - (trial.compile_seconds or 0.0)
    if samples <= 0 or seconds <= 0:
        raise GateError("the runs record no training steps (samples and train_seconds): no speed to compare with")
    return samples / seconds


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
    """Wall-clock in units of 'samples this bench's training steps train in that time'."""
    return wall_clock_seconds / seconds_per_sample


@dataclass(frozen=True)
class Bench:
    """One bench's folder: its runs and the speed of their training steps."""

    directory: Path
    seconds_per_sample: float
    runs: dict[str, RunResult]

    def cost(self, key: str) -> float:
        return normalized_cost(self.runs[key].wall_clock_seconds, self.seconds_per_sample)


Benches = Path | Sequence[Path]


def benches(results_dirs: Benches, keys: Sequence[str] | None = None) -> list[Bench]:
    """The benches to judge together (one folder or several of the same commit), each with the speed of the
    steps of its runs ``keys`` (the baseline's: the same mix of models on both sides)."""
    dirs = [Path(results_dirs)] if isinstance(results_dirs, (str, Path)) else [Path(d) for d in results_dirs]
    if not dirs:
        raise GateError("no bench folder given")
    found = [(d, runs(d)) for d in dirs]
    return [Bench(d, 1.0 / steps_speed(r, keys), r) for d, r in found]


def _read(benches_or_dirs: Benches | Sequence[Bench], keys: Sequence[str] | None) -> list[Bench]:
    """Benches already read (``compare`` and ``explain`` share one reading), or read them now."""
    if (
        isinstance(benches_or_dirs, (list, tuple))
        and benches_or_dirs
        and all(isinstance(b, Bench) for b in benches_or_dirs)
    ):
        return list(benches_or_dirs)
    return benches(benches_or_dirs, keys)  # type: ignore[arg-type]


def trajectory(run: RunResult) -> list[dict[str, Any]]:
    """Each trial's choice and score, in order: what ``explain`` compares to find the first trial that diverged."""
    return [{"hyperparameters": t.hyperparameters, "val_accuracy": t.val_accuracy_final} for t in run.trials]


def make_baseline(results_dirs: Benches) -> dict[str, Any]:
    """The baseline from one bench or several: each run's least cost; its choices must be the same in all."""
    found = benches(results_dirs)
    first = found[0]
    baseline_runs = {}
    for key, r in first.runs.items():
        for other in found[1:]:
            again = other.runs.get(key)
            if again is None:
                raise GateError(f"{key} is in {first.directory} but not in {other.directory}; a baseline needs both")
            if (again.best.hyperparameters, again.best.test_accuracy) != (r.best.hyperparameters, r.best.test_accuracy):
                raise GateError(
                    f"{key} chose differently in {other.directory} than in {first.directory}: "
                    "the runs are not deterministic here, so they make no baseline"
                )
        costs = [b.cost(key) for b in found]
        baseline_runs[key] = {
            "hyperparameters": r.best.hyperparameters,
            "test_accuracy": r.best.test_accuracy,
            "wall_clock_seconds": min(b.runs[key].wall_clock_seconds for b in found),
            "cost": min(costs),
            "costs": costs,
            "trials": trajectory(r),
        }
    return {
        "kind": "baseline",
        "budget": next(iter(first.runs.values())).budget.name,
        "steps_samples_per_second": [1.0 / b.seconds_per_sample for b in found],
        "benches": len(found),
        "accuracy_tolerance": ACCURACY_TOLERANCE,
        "speed_tolerance": SPEED_TOLERANCE,
        "environment": next(iter(first.runs.values())).environment,
        "runs": baseline_runs,
    }


def read_baseline(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise GateError(f"cannot read baseline {path}: {e}") from None
    if not isinstance(doc, dict) or doc.get("kind") != "baseline" or not isinstance(doc.get("runs"), dict):
        raise GateError(f"{path} is not a baseline (expected kind 'baseline' with runs)")
    if "steps_samples_per_second" not in doc:
        raise GateError(f"{path} measures cost against the throughput calibration; refresh it (--write)")
    return doc


def compare(baseline: dict[str, Any], results_dirs: Benches | Sequence[Bench]) -> list[Check]:
    """Every check of every baseline run, over every bench; a run missing from any bench fails."""
    found = _read(results_dirs, sorted(baseline["runs"]))
    checks: list[Check] = []
    for key, base in sorted(baseline["runs"].items()):
        missing = [str(b.directory) for b in found if key not in b.runs]
        if missing:
            checks.append(Check(key, "present", "ran", f"missing from {', '.join(missing)}", "", False))
            continue
        now = [b.runs[key] for b in found]
        choices = _distinct(_short(r.best.hyperparameters) for r in now)
        checks.append(
            Check(
                key,
                "hyperparameters",
                _short(base["hyperparameters"]),
                " | ".join(choices),
                "",
                all(r.best.hyperparameters == base["hyperparameters"] for r in now),
            )
        )
        acc_base = base["test_accuracy"]
        accuracies = [r.best.test_accuracy for r in now]
        worst = min(accuracies)
        checks.append(
            Check(
                key,
                "test accuracy",
                f"{acc_base:.4f}",
                " | ".join(_distinct(f"{a:.4f}" for a in accuracies)),
                f"{worst - acc_base:+.4f}",
                worst >= acc_base - ACCURACY_TOLERANCE and len(set(accuracies)) == 1,
            )
        )
        cost_now = min(b.cost(key) for b in found)
        ratio = cost_now / base["cost"]
        checks.append(
            Check(
                key,
                "cost (wall-clock x steps' speed)" if len(found) == 1 else f"cost (least of {len(found)} benches)",
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


def explain(baseline: dict[str, Any], results_dirs: Benches | Sequence[Bench], checks: list[Check]) -> str | None:
    """One paragraph on a trajectory mismatch: the first run and trial that diverged, and the packages that moved.

    ``None`` when every run made the baseline's choices and accuracy (a speed regression explains itself).
    """
    moved = sorted({c.run for c in checks if not c.ok and c.check in ("hyperparameters", "test accuracy")})
    if not moved:
        return None
    found = _read(results_dirs, sorted(baseline["runs"]))
    first = moved[0]
    base = baseline["runs"][first]
    bench = next(
        (
            b
            for b in found
            if first in b.runs
            and (b.runs[first].best.hyperparameters, b.runs[first].best.test_accuracy)
            != (base["hyperparameters"], base["test_accuracy"])
        ),
        found[0],
    )
    current = bench.runs
    where = first_divergence(base, current[first])
    if len(found) > 1:
        where += f" in {bench.directory}"
    drift = version_drift(baseline, current)
    packages = (
        f"Packages whose version differs from the baseline's: {', '.join(drift)}."
        if drift
        else "No package version differs from the baseline's, so the change is in this code or the machine "
        f"(baseline commit {((baseline.get('environment') or {}).get('git') or {}).get('commit', 'unknown')})."
    )
    others = f" ({len(moved) - 1} other run(s) moved too: {', '.join(moved[1:])})" if len(moved) > 1 else ""
    return f"Trajectory mismatch: {first} diverged first, {where}{others}. {packages}"


def write_baseline(results_dirs: Benches, path: Path) -> Path:
    return write_atomic(Path(path), make_baseline(results_dirs))


def _distinct(values: Any) -> list[str]:
    """Each value once, in the order first seen: one bench's value, or where several benches disagree."""
    return list(dict.fromkeys(values))


def _short(hp: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in hp.items())
