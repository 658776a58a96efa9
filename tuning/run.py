"""One run: a strategy searches the space under a budget with a seed, and the result file is written.

The run trains every trial through ``tuning.search.Search``, takes the trial
with the best validation accuracy, scores its weights once on the 10,000 test
images, and writes ``<results>/<budget>/<strategy>-seed<N>.json`` atomically.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from tuning import backend, strategies
from tuning.budget import BUDGETS, Budget
from tuning.data import DataError, load_mnist, make_split
from tuning.errors import RunError, UsageError
from tuning.provenance import environment
from tuning.results import SCHEMA_VERSION, check_writable, result_path, write_atomic
from tuning.search import Search, TrialRecord, last_line
from tuning.space import SPACE, Space
from tuning.strategies.base import Strategy
from tuning.train import KerasObjective


def resolve(strategy_name: str, budget_name: str, seed: int) -> tuple[Strategy, Budget]:
    """Check a run's arguments before anything is loaded or trained."""
    if strategy_name not in strategies.REGISTRY:
        raise UsageError(f"unknown strategy {strategy_name!r}; choose from {', '.join(strategies.names())}")
    if budget_name not in BUDGETS:
        raise UsageError(f"unknown budget {budget_name!r}; choose from {', '.join(BUDGETS)}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise UsageError(f"seed must be a non-negative integer, got {seed!r}")
    strategy = strategies.get(strategy_name)
    if not strategy.available():
        raise UsageError(
            f"strategy {strategy_name!r} needs {', '.join(strategy.missing())}; install with: {strategy.install_hint}"
        )
    return strategy, BUDGETS[budget_name]


def stderr_progress(label: str) -> Callable[[TrialRecord, int, Search], None]:
    started = time.perf_counter()

    def report(record: TrialRecord, k: int, search: Search) -> None:
        score = f"{record.score:.4f}" if record.val_accuracy else record.status.lower()
        print(
            f"[{label}] trial {k} val_acc {score} best {search.best_score():.4f} "
            f"epochs {search.epochs_used}/{search.budget.epoch_budget} elapsed {time.perf_counter() - started:.1f}s",
            file=sys.stderr,
            flush=True,
        )

    return report


def execute(
    strategy: Strategy,
    budget: Budget,
    seed: int,
    space: Space = SPACE,
    progress: Callable[[TrialRecord, int, Search], None] | None = None,
) -> dict[str, Any]:
    """Search, pick, test; return the result document (nothing is written here)."""
    try:
        split = make_split(load_mnist(), budget.n_train, budget.n_val)
    except DataError as e:
        raise UsageError(str(e)) from None
    backend.make_deterministic()
    objective = KerasObjective(split, space, seed, strategy.optimizer, strategy.callbacks, strategy.describe)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tuning-") as work:
        search = Search(strategy.make_oracle(space, budget, seed), objective, space, budget, work, progress=progress)
        try:
            records = search.run()
        except RuntimeError as e:  # Keras Tuner gives up after consecutive failed trials
            raise RunError(f"trials kept failing; last error: {last_line(str(e))}") from None
        best = search.best()
        if best is None:
            errors = [r.extra.get("error", "") for r in records if r.extra.get("error")]
            raise RunError(f"no trial completed ({len(records)} ran); last error: {errors[-1] if errors else 'none'}")
        test_loss, test_accuracy = objective.test(best.trial_id, best.hyperparameters)
    wall = time.perf_counter() - started
    samples = sum(r.samples for r in records)
    train_seconds = sum(r.train_seconds for r in records)
    return {
        "schema_version": SCHEMA_VERSION,
        "strategy": strategy.name,
        "seed": seed,
        "budget": budget.describe(),
        "strategy_settings": strategy.settings(space, budget),
        "split": split.describe(),
        "trials": [r.to_json() for r in records],
        "trials_skipped_over_budget": search.skipped_over_budget,
        "best": {
            "trial_id": best.trial_id,
            "hyperparameters": best.hyperparameters,
            "val_accuracy": best.score,
            "epochs": best.initial_epoch + best.epochs,
            "test_accuracy": test_accuracy,
            "test_loss": test_loss,
            "parameters": space.parameter_count(best.hyperparameters),
        },
        "wall_clock_seconds": wall,
        "epochs_trained": sum(r.epochs for r in records),
        "samples_trained": samples,
        "train_seconds": train_seconds,
        "throughput_samples_per_second": samples / train_seconds if train_seconds > 0 else None,
        "environment": environment(),
    }


def run(strategy_name: str, seed: int, budget_name: str, results_dir: Path, quiet: bool = False) -> Path:
    """The whole of ``tuning run``: check, search, write; return the result file's path."""
    strategy, budget = resolve(strategy_name, budget_name, seed)
    results_dir = Path(results_dir)
    try:
        check_writable(results_dir / budget.name)
    except OSError as e:
        raise UsageError(f"cannot write results under {results_dir}: {e.strerror or e}") from None
    label = f"{strategy.name} seed {seed} {budget.name}"
    result = execute(strategy, budget, seed, progress=None if quiet else stderr_progress(label))
    return write_atomic(result_path(results_dir, budget.name, strategy.name, seed), result)
