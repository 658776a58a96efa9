"""One run: strategy + objective + budget + seed + work folder -> a ``RunResult``; and ``tuning run``.

The run trains every trial through ``SearchLoop``, takes the trial with the
best validation accuracy, scores its weights once on the test images, and
(``run_to_file``) writes ``<results>/<budget>/<strategy>-seed<N>.json``
atomically.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tuning import strategies
from tuning.core.budget import BUDGETS, Budget
from tuning.core.errors import RunError, UsageError
from tuning.core.records import BestTrial, RunResult, TrialRecord
from tuning.core.seeds import check_seed
from tuning.core.space import SPACE, Space
from tuning.execution.loop import Progress, SearchLoop, last_line
from tuning.execution.provenance import environment
from tuning.objectives.base import Objective, unmet
from tuning.results import ensure_writable, result_path, write_result
from tuning.strategies.base import Strategy


def resolve(strategy_name: str, budget_name: str, seed: int) -> tuple[Strategy, Budget]:
    """Check a run's arguments before anything is loaded or trained."""
    if strategy_name not in strategies.REGISTRY:
        raise UsageError(f"unknown strategy {strategy_name!r}; choose from {', '.join(strategies.names())}")
    if budget_name not in BUDGETS:
        raise UsageError(f"unknown budget {budget_name!r}; choose from {', '.join(BUDGETS)}")
    try:
        check_seed(seed)
    except ValueError as e:
        raise UsageError(str(e)) from None
    strategy = strategies.get(strategy_name)
    if not strategy.available():
        raise UsageError(
            f"strategy {strategy_name!r} needs {', '.join(strategy.missing())}; install with: {strategy.install_hint}"
        )
    return strategy, BUDGETS[budget_name]


def stderr_progress(label: str) -> Progress:
    started = time.perf_counter()

    def report(record: TrialRecord, k: int, loop: SearchLoop) -> None:
        score = f"{record.score:.4f}" if record.val_accuracy else record.status.lower()
        print(
            f"[{label}] trial {k} val_acc {score} best {loop.best_score():.4f} "
            f"epochs {loop.epochs_used}/{loop.budget.epoch_budget} elapsed {time.perf_counter() - started:.1f}s",
            file=sys.stderr,
            flush=True,
        )

    return report


def live(strategy: Strategy, budget: Budget, seed: int, space: Space = SPACE) -> Objective:
    """The live objective for this run; a missing or corrupt dataset is a usage error."""
    from tuning.objectives.live import live_objective
    from tuning.objectives.live.data import DataError

    try:
        return live_objective(budget, seed, strategy.training, space)
    except DataError as e:
        raise UsageError(str(e)) from None


def execute(
    strategy: Strategy,
    budget: Budget,
    seed: int,
    objective: Objective | None = None,
    space: Space = SPACE,
    progress: Progress | None = None,
    workdir: Path | None = None,
    persist: bool = True,
    env: dict[str, Any] | None = None,
) -> RunResult:
    """Search, pick, test; return the run's result (nothing is written here).

    ``objective`` defaults to live training; ``workdir`` holds Keras Tuner's
    oracle state (a temporary folder when None), written after every trial
    unless ``persist`` is false (a replay: ``SearchLoop``'s ``persist``).
    ``env`` is the provenance to record (``environment()`` when None; a replay
    of hundreds of runs passes one it measured once).
    """
    objective = objective if objective is not None else live(strategy, budget, seed, space)
    missing = unmet(strategy.needs, objective)
    if missing:
        raise UsageError(f"strategy {strategy.name!r} needs {', '.join(missing)}, which this objective does not offer")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tuning-") as scratch:
        loop = SearchLoop(strategy.make_oracle(space, budget, seed), objective, space, budget,
                          str(workdir or scratch), progress=progress, persist=persist)  # fmt: skip
        try:
            records = loop.search()
        except RuntimeError as e:  # Keras Tuner gives up after consecutive failed trials
            raise RunError(f"trials kept failing; last error: {last_line(str(e))}") from None
        best = loop.best()
        if best is None:
            errors = [r.extra.get("error", "") for r in records if r.extra.get("error")]
            raise RunError(f"no trial completed ({len(records)} ran); last error: {errors[-1] if errors else 'none'}")
        test_loss, test_accuracy = objective.test(best.trial_id, best.hyperparameters)
    wall = time.perf_counter() - started
    samples = sum(r.samples for r in records)
    train_seconds = sum(r.train_seconds for r in records)
    return RunResult(
        strategy=strategy.name,
        seed=seed,
        budget=budget,
        strategy_settings={**strategy.settings(space, budget), **objective.settings()},
        split=objective.data(),
        trials=records,
        trials_skipped_over_budget=loop.skipped_over_budget,
        best=BestTrial(
            trial_id=best.trial_id,
            hyperparameters=best.hyperparameters,
            val_accuracy=best.score,
            epochs=best.initial_epoch + best.epochs,
            test_accuracy=test_accuracy,
            test_loss=test_loss,
            parameters=space.parameter_count(best.hyperparameters),
        ),
        wall_clock_seconds=wall,
        epochs_trained=sum(r.epochs for r in records),
        samples_trained=samples,
        train_seconds=train_seconds,
        throughput_samples_per_second=samples / train_seconds if train_seconds > 0 else None,
        environment=env if env is not None else environment(),
    )


def run_to_file(strategy_name: str, seed: int, budget_name: str, results_dir: Path, quiet: bool = False) -> Path:
    """The whole of ``tuning run``: check, search, write; return the result file's path."""
    strategy, budget = resolve(strategy_name, budget_name, seed)
    results_dir = Path(results_dir)
    ensure_writable(results_dir / budget.name)
    label = f"{strategy.name} seed {seed} {budget.name}"
    result = execute(strategy, budget, seed, progress=None if quiet else stderr_progress(label))
    return write_result(result_path(results_dir, budget.name, strategy.name, seed), result)
