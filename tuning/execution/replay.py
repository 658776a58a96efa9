"""Replay mode: fit and validate a budget's surrogate (``tuning fit``), replay strategies (``tuning replay``).

A replay runs the very same oracle through the very same ``SearchLoop`` as
``tuning run`` (``runner.execute``), with the replay objective in place of
training and Keras Tuner's per-trial saves off.  Its result file has the
live schema, marked ``"mode": "replay"``, and under ``replay`` the table and
surrogate it came from (model, SHA-256 of the table, validation figures,
where and with what the table was recorded) and the clock: the wall-clock
is simulated, the recorded or predicted seconds of every trial and of the
final test plus the strategy's own decision time, measured (everything the
run spent outside the objective: the oracle, the loop).

``tuning fit`` writes ``surrogate.json`` (the model kept, the table's
SHA-256, the figures) and ``SURROGATE.md`` beside the table; a replay refits
that model from the table, and refuses a table that changed since.
"""

from __future__ import annotations

import datetime as _dt
import functools
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from tuning import strategies
from tuning.core.budget import Budget
from tuning.core.errors import UsageError
from tuning.core.records import RunResult
from tuning.execution.pool import map_runs
from tuning.execution.record import LOCAL_TABLES, TABLES, live_configs
from tuning.execution.runner import execute, resolve
from tuning.objectives.base import unmet
from tuning.objectives.replay import table as replay_table
from tuning.objectives.replay.objective import ReplayObjective
from tuning.problems.mnist_mlp import BUDGETS, PROBLEM, SPACE
from tuning.results import (
    LOCAL_RESULTS,
    REFERENCE_RESULTS,
    RUNS_FILE,
    ResultError,
    ensure_writable,
    read_json,
    read_runs,
    replay_dir,
    result_name,
    write_atomic,
    write_result,
    write_runs,
)

SURROGATE_FILE = "surrogate.json"
SURROGATE_REPORT = "SURROGATE.md"


def live_only() -> dict[str, str]:
    """Strategy -> why a replay cannot answer it (what it needs of training)."""
    return {n: LIVE_ONLY_NOTE for n in strategies.names() if unmet(strategies.get(n).needs, ReplayObjective)}


LIVE_ONLY_NOTE = (
    "hypergradient descent changes the learning rate inside training, which recorded curves cannot answer: "
    "it is live-only and not replayed"
)


def _table(budget: Budget, table_root: Path) -> tuple[Path, list[Any]]:
    directory = Path(table_root) / budget.name
    try:
        recordings = replay_table.read_table(directory, budget, SPACE)
    except replay_table.TableError as e:
        raise UsageError(str(e)) from None
    if not recordings:
        raise UsageError(
            f"no replay table in {directory}; record one with: tuning record --budget {budget.name} --configs N --seeds K"
        )
    return directory, recordings


def _summary(recordings: Sequence[Any]) -> dict[str, Any]:
    """What the table is and where it was recorded, in a few words, for every file made from it."""
    provenance = [r.provenance for r in recordings]

    def distinct(values: Any) -> str:
        return ", ".join(sorted({str(v) for v in values})) or "unknown"

    commits = distinct((p.get("git") or {}).get("commit", "?") or "?" for p in provenance)
    labels = sorted({str(p["label"]) for p in provenance if p.get("label")})
    keys = {r.key for r in recordings}
    counts: dict[str, int] = {}
    for r in recordings:
        counts[r.key] = counts.get(r.key, 0) + 1
    return {
        "digest": replay_table.digest(recordings),
        "recordings": len(recordings),
        "configurations": len(keys),
        "replicated": sum(1 for n in counts.values() if n >= 2),
        "devices": distinct(
            f"{(p.get('device') or {}).get('kind', '?')} {(p.get('device') or {}).get('name', '?')}" for p in provenance
        ),
        "backends": distinct((p.get("versions") or {}).get("backend", "?") for p in provenance),
        "commits": commits,
        "label": "; ".join(labels),  # e.g. "pilot ..." (tuning record --label)
        "recorded": f"{min(p.get('created', '?') for p in provenance)} .. {max(p.get('created', '?') for p in provenance)}",
    }


# -- tuning fit ------------------------------------------------------------------


@dataclass
class Fitted:
    directory: Path
    chosen: str
    report: str
    error: str = "none"


def fit(
    budget_name: str,
    table_root: Path = LOCAL_TABLES,
    live_dir: Path = REFERENCE_RESULTS,
    models: Sequence[str] | None = None,
) -> Fitted:
    """Cross-validate every candidate model, keep the best, hold out each strategy's configurations;
    write ``surrogate.json`` and ``SURROGATE.md`` beside the table."""
    from tuning.objectives.replay import validate
    from tuning.objectives.replay.surrogate import ERRORS, MODELS

    if budget_name not in BUDGETS:
        raise UsageError(f"unknown budget {budget_name!r}; choose from {', '.join(BUDGETS)}")
    unknown = [m for m in models or () if m not in MODELS]
    if unknown:
        raise UsageError(f"unknown surrogate model {', '.join(unknown)}; choose from {', '.join(MODELS)}")
    budget = BUDGETS[budget_name]
    directory, recordings = _table(budget, table_root)
    if len({r.key for r in recordings}) < 2:
        raise UsageError(f"the table in {directory} holds one configuration: a surrogate needs at least two")
    tried: dict[str, set[str]] = {}
    for key, (_, names) in live_configs(live_dir, budget, SPACE).items():
        for name in names:
            tried.setdefault(name, set()).add(key)
    with threadpool_limits(limits=1):  # see replay_run
        candidates = validate.compare(recordings, SPACE, models or MODELS)
        chosen = validate.best(candidates)
        searches = {error: validate.best_of(recordings, SPACE, chosen, error) for error in ERRORS}
        error = validate.best_error(searches)
        per_strategy = {
            name: validate.hold_out(recordings, keys, chosen, SPACE)
            for name, keys in sorted(tried.items())
            if name in strategies.names() and not unmet(strategies.get(name).needs, ReplayObjective)
        }
    summary = _summary(recordings)
    command = f"python -m tuning fit --budget {budget.name}" + (f" --models {','.join(models)}" if models else "")
    report = validate.markdown(budget.name, summary, candidates, chosen, per_strategy, command, searches, error)
    write_atomic(
        directory / SURROGATE_FILE,
        {
            "kind": "surrogate",
            "budget": budget.name,
            "model": chosen,
            "error": error,
            "table": summary,
            "searches": {e: [b.to_json() for b in found] for e, found in searches.items()},
            "candidates": {m: f.to_json() for m, f in candidates.items()},
            "per_strategy": {n: f.to_json() if f else None for n, f in per_strategy.items()},
        },
    )
    (directory / SURROGATE_REPORT).write_text(report)
    return Fitted(directory, chosen, report, error)


# -- tuning replay ---------------------------------------------------------------


def load(budget_name: str, table_root: Path) -> tuple[Any, dict[str, Any]]:
    """(surrogate, its provenance) for a budget: the table refitted with the model ``tuning fit`` kept
    (once per process while the table's files stay as they are)."""
    directory = Path(table_root) / budget_name
    stamps = tuple(
        (p.stat().st_mtime_ns, p.stat().st_size) if p.exists() else None
        for p in (directory / replay_table.SEALED, directory / replay_table.PENDING, directory / SURROGATE_FILE)
    )
    return _load(budget_name, Path(table_root), stamps)


@functools.lru_cache(maxsize=2)
def _load(budget_name: str, table_root: Path, stamps: tuple[Any, ...]) -> tuple[Any, dict[str, Any]]:
    from tuning.objectives.replay.surrogate import Surrogate

    budget = BUDGETS[budget_name]
    directory, recordings = _table(budget, table_root)
    fitted_path = directory / SURROGATE_FILE
    try:
        fitted = read_json(fitted_path)
    except ResultError:
        raise UsageError(
            f"{fitted_path} is missing or unreadable: validate the table first with: tuning fit --budget {budget.name}"
        ) from None
    summary = _summary(recordings)
    if fitted.get("table", {}).get("digest") != summary["digest"]:
        raise UsageError(
            f"the table in {directory} changed since its surrogate was validated; run: tuning fit --budget {budget.name}"
        )
    surrogate = Surrogate(recordings, SPACE, fitted["model"], fitted.get("error", "none"))
    provenance = {
        "table": str(directory / replay_table.SEALED),
        "table_summary": summary,
        "surrogate": surrogate.describe(),
        "validation": fitted["candidates"][fitted["model"]],
    }
    return surrogate, provenance


@functools.lru_cache(maxsize=1)
def _threads() -> Any:
    """threadpoolctl's view of this process's BLAS/OpenMP libraries, found once (finding them takes 20 ms)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@functools.lru_cache(maxsize=1)
def _environment() -> dict[str, Any]:
    """This process's provenance, measured once (versions, device, commit: 40 ms a run otherwise)."""
    from tuning.execution.provenance import environment

    return environment()


def replay_run(strategy_name: str, budget: Budget, seed: int, table_root: Path = TABLES) -> RunResult:
    """One strategy, one seed, against the budget's surrogate; the result marked as a replay."""
    strategy, budget = resolve(strategy_name, budget.name, seed)
    surrogate, provenance = load(budget.name, Path(table_root))
    objective = ReplayObjective(surrogate, budget, seed, SPACE)
    # One BLAS/OpenMP thread: the same numbers in every process, and the Gaussian process's many
    # tiny solves (and the surrogate's fits) run twice as fast as with threads that wait on each other.
    env = {**_environment(), "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")}
    with _threads().limit(limits=1), warnings.catch_warnings():
        # The Gaussian process's fit warns when a length scale reaches its bound: once per guided trial,
        # thousands of lines over a replay, and nothing a user of the oracle can act on.
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = execute(strategy, budget, seed, objective, PROBLEM, persist=False, env=env, clock=objective.clock)
    decision = max(0.0, result.wall_clock_seconds - objective.simulated_seconds)
    result.mode = "replay"
    result.replay = {
        **provenance,
        "clock": {
            "simulated_training_seconds": objective.simulated_seconds,
            "decision_seconds": decision,
            "rule": "wall-clock = recorded or predicted seconds of every trial and of the final test "
            "+ the strategy's measured decision time (everything outside the objective)",
        },
        "answers": {
            "recorded": sum(1 for t in result.trials if str(t.extra.get("replay", "")).startswith("recorded")),
            "predicted": sum(1 for t in result.trials if t.extra.get("replay") == "surrogate"),
        },
    }
    return result


def _replay_job(task: tuple[str, int], budget_name: str, table_root: Path) -> dict[str, Any]:
    """A worker's job: one replay, as JSON (the parent writes the file)."""
    return replay_run(task[0], BUDGETS[budget_name], task[1], table_root).to_json()


def replayable(names: Sequence[str] | None = None) -> list[str]:
    """The strategies a replay runs: those named (a live-only one is refused with one line), or every available
    one that needs nothing of training."""
    if names:
        for name in names:
            if name not in strategies.names():
                raise UsageError(f"unknown strategy {name!r}; choose from {', '.join(strategies.names())}")
            missing = unmet(strategies.get(name).needs, ReplayObjective)
            if missing:
                raise UsageError(
                    f"strategy {name!r} needs {', '.join(missing)}, which a replay cannot offer ({LIVE_ONLY_NOTE})"
                )
        return list(names)
    return [n for n in strategies.names() if strategies.get(n).available() and not strategies.get(n).needs]


def replay(
    budget_name: str,
    seeds: Sequence[int],
    names: Sequence[str] | None = None,
    results_dir: Path = LOCAL_RESULTS,
    table_root: Path = TABLES,
    workers: int = 1,
    progress: Callable[[str], None] | None = None,
    scheduler: str | None = None,
) -> Path:
    """The whole of ``tuning replay``: every (strategy, seed), into the one runs file
    ``<results_dir>/<problem>/replay/<budget>/runs.jsonl.gz`` (replacing those strategies' and seeds' lines, keeping
    the others); return its path.  The file is written once, when every replay is done: never half of it."""
    if budget_name not in BUDGETS:
        raise UsageError(f"unknown budget {budget_name!r}; choose from {', '.join(BUDGETS)}")
    if workers < 1:
        raise UsageError(f"--workers must be an integer >= 1, got {workers}")
    budget = BUDGETS[budget_name]
    chosen = replayable(names)
    for name in chosen:
        resolve(name, budget.name, 0)  # an unavailable strategy is refused before anything runs
    load(budget.name, Path(table_root))  # a missing or stale table is refused before anything runs
    out = replay_dir(results_dir, PROBLEM.name, budget.name)
    ensure_writable(out)
    path = out / RUNS_FILE
    try:
        kept = read_runs(path) if path.exists() else []
    except ResultError as e:
        raise UsageError(f"{e}: move it aside or delete it to replay afresh") from None
    tasks = [(name, seed) for name in chosen for seed in seeds]
    job = functools.partial(_replay_job, budget_name=budget.name, table_root=Path(table_root))
    done = []
    for (name, seed), document in map_runs(job, tasks, workers, scheduler=scheduler):
        result = RunResult.from_json(document)
        done.append(result)
        if progress:
            progress(
                f"[replay {budget.name}] {name} seed {seed}: test {result.best.test_accuracy:.4f} "
                f"val {result.best.val_accuracy:.4f} simulated {result.wall_clock_seconds:.1f}s "
                f"(decision {result.replay['clock']['decision_seconds']:.2f}s)"  # type: ignore[index]
            )
    replaced = set(tasks)
    return write_runs(path, [r for r in kept if (r.strategy, r.seed) not in replaced] + done)


def replay_to_file(
    strategy_name: str, seed: int, budget_name: str, results_dir: Path, table_root: Path = TABLES
) -> Path:
    """One replay written to ``<results_dir>/replay/<budget>/<strategy>-seed<N>.json`` (the bench's replay mode)."""
    replayable([strategy_name])
    strategy, budget = resolve(strategy_name, budget_name, seed)
    out = replay_dir(results_dir, PROBLEM.name, budget.name)
    ensure_writable(out)
    result = replay_run(strategy.name, budget, seed, table_root)
    return write_result(out / result_name(strategy.name, seed), result)
