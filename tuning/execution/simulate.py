"""One replayed run: a strategy's search answered by a budget's surrogate instead of training.

A replay runs the very same oracle through the very same ``SearchLoop`` as
``tuning run`` (``runner.execute``), with the replay objective in place of
training and Keras Tuner's per-trial saves off.  Its result has the live
schema, marked ``"mode": "replay"``, and under ``replay`` the table and
surrogate it came from (model, SHA-256 of the table, validation figures,
where and with what the table was recorded) and the clock: the wall-clock
is simulated, the recorded or predicted seconds of every trial and of the
final test plus the strategy's own decision time, measured (everything the
run spent outside the objective: the oracle, the loop).  The engine runs it
like a live run (``RunSpec.mode``); ``tuning replay`` and the bench's replay
mode go through the engine.
"""

from __future__ import annotations

import datetime as _dt
import functools
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sklearn.exceptions import ConvergenceWarning

from tuning import problems, strategies
from tuning.core.budget import Budget
from tuning.core.errors import UsageError
from tuning.core.paths import portable
from tuning.core.records import RunResult
from tuning.execution.record import default_tables
from tuning.execution.runner import LIVE_ONLY_NOTE, as_problem, execute, live_only_reason, resolve
from tuning.objectives.replay import table as replay_table
from tuning.objectives.replay.objective import ReplayObjective
from tuning.problems.base import Problem
from tuning.results import SURROGATE_FILE, ResultError, read_json


def live_only() -> dict[str, str]:
    """Strategy -> why a replay cannot answer it (what it needs of training)."""
    return {n: LIVE_ONLY_NOTE for n in strategies.names() if live_only_reason(strategies.get(n))}


def problem_option(problem: str | Problem) -> str:
    """`` --problem X`` for a command a refusal names (nothing for the seed problem, the default)."""
    reference = problem if isinstance(problem, str) else problem.name
    return "" if reference == problems.DEFAULT else f" --problem {reference}"


def recordings_of(
    budget: Budget, table_root: Path, problem: str | Problem = problems.DEFAULT
) -> tuple[Path, list[Any]]:
    """The problem's table of ``budget`` under ``table_root`` (``UsageError`` naming ``tuning record`` when there is
    none: a problem is replayable only where its table exists)."""
    directory = Path(table_root) / budget.name
    try:
        recordings = replay_table.read_table(directory, budget, as_problem(problem).space)
    except replay_table.TableError as e:
        raise UsageError(str(e)) from None
    if not recordings:
        raise UsageError(
            f"no replay table in {directory}; record one with: tuning record{problem_option(problem)} "
            f"--budget {budget.name} --configs N --seeds K"
        )
    return directory, recordings


def table_root_of(problem: str | Problem, table_root: Path | str | None) -> Path:
    """``table_root`` as given, or the problem's own tables to read (``record.default_tables``)."""
    return Path(table_root) if table_root else default_tables(as_problem(problem), reading=True)


def describe_table(recordings: Sequence[Any]) -> dict[str, Any]:
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


def load(budget_name: str, table_root: Path, problem: str = problems.DEFAULT) -> tuple[Any, dict[str, Any]]:
    """(surrogate, its provenance) for a problem's budget: the table refitted with the model ``tuning fit`` kept
    (once per process while the table's files stay as they are)."""
    directory = Path(table_root) / budget_name
    stamps = tuple(
        (p.stat().st_mtime_ns, p.stat().st_size) if p.exists() else None
        for p in (directory / replay_table.SEALED, directory / replay_table.PENDING, directory / SURROGATE_FILE)
    )
    return _load(budget_name, Path(table_root).resolve(), stamps, problem)  # one fit per table, however named


@functools.lru_cache(maxsize=2)
def _load(
    budget_name: str, table_root: Path, stamps: tuple[Any, ...], problem: str = problems.DEFAULT
) -> tuple[Any, dict[str, Any]]:
    from tuning.objectives.replay.surrogate import Surrogate

    chosen = as_problem(problem)
    budget = chosen.budget(budget_name)
    directory, recordings = recordings_of(budget, table_root, problem)
    fitted_path = directory / SURROGATE_FILE
    fit_command = f"tuning fit{problem_option(problem)} --budget {budget.name}"
    try:
        fitted = read_json(fitted_path)
    except ResultError:
        raise UsageError(
            f"{fitted_path} is missing or unreadable: validate the table first with: {fit_command}"
        ) from None
    summary = describe_table(recordings)
    if fitted.get("table", {}).get("digest") != summary["digest"]:
        raise UsageError(f"the table in {directory} changed since its surrogate was validated; run: {fit_command}")
    surrogate = Surrogate(recordings, chosen.space, fitted["model"], fitted.get("error", "none"))
    provenance = {
        "table": portable(directory / replay_table.SEALED),  # the key is resolved: name it as a clone would
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


def replay_run(
    strategy_name: str,
    budget: Budget,
    seed: int,
    table_root: Path | None = None,
    problem: str = problems.DEFAULT,
) -> RunResult:
    """One strategy, one seed, against the problem's surrogate of the budget (``table_root`` None: the problem's
    own tables); the result marked as a replay."""
    strategy, budget = resolve(strategy_name, budget.name, seed, problem)
    chosen = as_problem(problem)
    surrogate, provenance = load(budget.name, table_root_of(chosen, table_root), problem)
    dataset = "MNIST" if chosen.name == problems.DEFAULT else chosen.name
    objective = ReplayObjective(surrogate, budget, seed, chosen.space, dataset=dataset)
    # One BLAS/OpenMP thread: the same numbers in every process, and the Gaussian process's many
    # tiny solves (and the surrogate's fits) run twice as fast as with threads that wait on each other.
    env = {**_environment(), "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")}
    with _threads().limit(limits=1), warnings.catch_warnings():
        # The Gaussian process's fit warns when a length scale reaches its bound: once per guided trial,
        # thousands of lines over a replay, and nothing a user of the oracle can act on.
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = execute(strategy, budget, seed, objective, chosen, persist=False, env=env, clock=objective.clock)
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


def replayable(names: Sequence[str] | None = None) -> list[str]:
    """The strategies a replay runs: those named (a live-only one is refused with one line), or every available
    one that needs nothing of training."""
    if names:
        for name in names:
            if name not in strategies.names():
                raise UsageError(f"unknown strategy {name!r}; choose from {', '.join(strategies.names())}")
            why = live_only_reason(strategies.get(name))
            if why:
                raise UsageError(f"strategy {name!r} {why}")
        return list(names)
    return [n for n in strategies.names() if strategies.get(n).available() and not strategies.get(n).needs]
