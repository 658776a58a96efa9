"""Loading: every result file under a directory, read into the core records, bad ones named and skipped."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuning.core.errors import UsageError
from tuning.core.records import RunResult
from tuning.results import HOLDOUT_DIR, REPLAY_DIR, RUNS_FILE, ResultError, SuiteFile, read_result, read_runs

BUDGET_KEYS = ("name", "n_train", "n_val", "epochs", "trials", "epoch_budget")
SEED_PROBLEM = "mnist-mlp"  # what a result file from before problems (no "problem" key) ran
LOCAL = "local"  # results/local/: this machine's bench, never part of a report on the reference above it


@dataclass(frozen=True)
class ResultFile:
    """One result file: where it lies and the run it records."""

    path: Path
    result: RunResult

    @property
    def strategy(self) -> str:
        return self.result.strategy

    @property
    def seed(self) -> int:
        return self.result.seed

    @property
    def problem(self) -> str:
        return self.result.problem or SEED_PROBLEM

    @property
    def budget_key(self) -> tuple[Any, ...]:
        """Runs are only compared within one problem and one budget: same name *and* same sizes, and one mode
        (a replay's runs are never pooled with live ones)."""
        return (self.problem, *(getattr(self.result.budget, k) for k in BUDGET_KEYS), self.result.mode)

    @property
    def test_accuracy(self) -> float:
        return float(self.result.best.test_accuracy)

    @property
    def val_accuracy(self) -> float:
        return float(self.result.best.val_accuracy)

    @property
    def environment(self) -> dict[str, Any]:
        return self.result.environment


def hidden(path: Path) -> bool:
    """Under a hidden folder (an interrupted run's ``.work``) or hidden itself: never a result to report."""
    return any(part.startswith(".") for part in path.parts)


def load(directory: Path, warn: Callable[[str], None]) -> list[ResultFile]:
    """Every reportable result under ``directory`` (recursively); ``warn`` hears each file skipped and why."""
    directory = Path(directory)
    if not directory.exists():
        raise UsageError(f"no such directory: {directory}")
    if not directory.is_dir():
        raise UsageError(f"not a directory: {directory}")
    runs: list[ResultFile] = []
    seen: dict[tuple[Any, ...], Path] = {}
    paths = sorted(
        p
        for pattern in ("*.json", RUNS_FILE)
        for p in directory.rglob(pattern)
        if p.is_file() and not hidden(p.relative_to(directory))
    )
    local = {p for p in paths if LOCAL in p.relative_to(directory).parts[:-1]}
    if local:
        # The bench writes a user's runs to results/local/; beside the reference they would be duplicates.
        warn(
            f"not reading {len(local)} file(s) in {LOCAL}/ folders under {directory} (this machine's runs: "
            f"report them on their own, or beside this directory with --reference {directory})"
        )
        paths = [p for p in paths if p not in local]
    replays = {p for p in paths if {REPLAY_DIR, HOLDOUT_DIR} & set(p.relative_to(directory).parts[:-1])}
    if replays:
        # Replays (results/<problem>/replay/<budget>/) and the live runs held out to check them
        # (results/<problem>/holdout/<budget>/) are reported on their own, never inside the live reference's report.
        warn(
            f"not reading {len(replays)} file(s) in {REPLAY_DIR}/ folders (and {HOLDOUT_DIR}/ ones: live runs held out "
            f"to check a replay) under {directory} (report them on their own, e.g. tuning report "
            f"{sorted({p.parent.parent for p in replays})[0]})"
        )
        paths = [p for p in paths if p not in replays]
    for path, result in _results(paths, warn):
        run = ResultFile(path, result)
        key = (run.budget_key, run.strategy, run.seed)
        if key in seen:
            # Two files for one (budget, strategy, seed) would count that seed twice.
            warn(f"skipped {path}: duplicate of {seen[key]} (same problem, budget, strategy and seed)")
            continue
        seen[key] = path
        runs.append(run)
    if not runs:
        skipped = f" ({len(paths)} JSON file{'s' if len(paths) != 1 else ''} skipped)" if paths else ""
        raise UsageError(f"no result files under {directory}{skipped}")
    return runs


def _results(paths: Iterable[Path], warn: Callable[[str], None]) -> Iterable[tuple[Path, RunResult]]:
    """(path, result) for every result in ``paths``: a result file, or each line of a runs file."""
    for path in paths:
        try:
            if path.name == RUNS_FILE:
                yield from ((path, r) for r in read_runs(path))
            else:
                yield path, read_result(path)
        except SuiteFile:  # the bench's throughput.json, a side by side: ours, and known not to be results
            continue
        except ResultError as e:
            warn(f"skipped {e}")


def by_budget(runs: Iterable[ResultFile]) -> dict[tuple[Any, ...], list[ResultFile]]:
    """Runs grouped by problem and budget, the seed problem first, then by name; smallest budget first
    (problems and budgets are never pooled)."""
    groups: dict[tuple[Any, ...], list[ResultFile]] = {}
    for run in runs:
        groups.setdefault(run.budget_key, []).append(run)

    def order(kv: tuple[tuple[Any, ...], list[ResultFile]]) -> tuple[Any, ...]:
        key, members = kv
        return (key[0] != SEED_PROBLEM, key[0], members[0].result.budget.epoch_budget, key[1], key[-1])

    return dict(sorted(groups.items(), key=order))
