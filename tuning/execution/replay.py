"""Replay mode's commands: fit and validate a budget's surrogate (``tuning fit``), replay strategies over
many seeds (``tuning replay``).

``tuning fit`` writes ``surrogate.json`` (the model kept, the table's
SHA-256, the figures) and ``SURROGATE.md`` beside the table; a replay refits
that model from the table, and refuses a table that changed since.  One
replayed run is ``tuning.execution.simulate``; ``tuning replay`` hands its
runs to the same engine as the live runs (``RunSpec(mode="replay")``) and
writes their one runs file when all are done.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from threadpoolctl import threadpool_limits

from tuning import problems, strategies
from tuning.core.errors import UsageError
from tuning.core.records import RunResult
from tuning.execution.engine import RunFailed, RunSpec, make_engine
from tuning.execution.record import LOCAL_TABLES, default_tables, live_configs
from tuning.execution.runner import as_problem, live_only_reason, resolve
from tuning.execution.simulate import (
    SURROGATE_FILE,
    describe_table,
    load,
    problem_option,
    recordings_of,
    replayable,
    table_root_of,
)
from tuning.results import (
    LOCAL_RESULTS,
    REFERENCE_RESULTS,
    RUNS_FILE,
    ResultError,
    ensure_writable,
    holdout_dir,
    read_runs,
    replay_dir,
    write_atomic,
    write_runs,
)

SURROGATE_REPORT = "SURROGATE.md"


# -- tuning fit ------------------------------------------------------------------


@dataclass
class Fitted:
    directory: Path
    chosen: str
    report: str
    error: str = "none"


def fit(
    budget_name: str,
    table_root: Path | None = LOCAL_TABLES,
    live_dir: Path = REFERENCE_RESULTS,
    models: Sequence[str] | None = None,
    problem: str = problems.DEFAULT,
) -> Fitted:
    """Cross-validate every candidate model, keep the best, hold out each strategy's configurations;
    write ``surrogate.json`` and ``SURROGATE.md`` beside the table (``table_root`` None: the problem's own
    tables on this machine, where ``tuning record`` put them)."""
    from tuning.objectives.replay import validate
    from tuning.objectives.replay.surrogate import ERRORS, MODELS

    chosen = as_problem(problem)
    chosen.check()
    budgets = chosen.budgets()
    if budget_name not in budgets:
        raise UsageError(f"unknown budget {budget_name!r}; choose from {', '.join(budgets)}")
    unknown = [m for m in models or () if m not in MODELS]
    if unknown:
        raise UsageError(f"unknown surrogate model {', '.join(unknown)}; choose from {', '.join(MODELS)}")
    budget, space = budgets[budget_name], chosen.space
    root = table_root if table_root is not None else default_tables(chosen, reading=False)
    directory, recordings = recordings_of(budget, root, problem)
    if len({r.key for r in recordings}) < 2:
        raise UsageError(f"the table in {directory} holds one configuration: a surrogate needs at least two")
    tried: dict[str, set[str]] = {}
    for key, (_, names) in live_configs(live_dir, budget, space, chosen.name).items():
        for name in names:
            tried.setdefault(name, set()).add(key)
    held = held_out_runs(live_dir, chosen.name, budget.name)  # a bad file is refused before minutes of fitting
    with threadpool_limits(limits=1):  # see replay_run
        candidates = validate.compare(recordings, space, models or MODELS)
        kept = validate.best(candidates)
        searches = {error: validate.best_of(recordings, space, kept, error) for error in ERRORS}
        live = {error: validate.live_best_of(recordings, space, kept, error, held) for error in ERRORS} if held else {}
        error = validate.best_error_live(live) or validate.best_error(searches)
        per_strategy = {
            name: validate.hold_out(recordings, keys, kept, space)
            for name, keys in sorted(tried.items())
            if name in strategies.names() and not live_only_reason(strategies.get(name))
        }
    summary = describe_table(recordings)
    command = f"python -m tuning fit{problem_option(problem)} --budget {budget.name}" + (
        f" --models {','.join(models)}" if models else ""
    )
    steep = chosen.steep or validate.GENERIC_STEEP
    report = validate.markdown(
        budget.name, summary, candidates, kept, per_strategy, command, searches, error, steep, live
    )
    write_atomic(
        directory / SURROGATE_FILE,
        {
            "kind": "surrogate",
            "budget": budget.name,
            "model": kept,
            "error": error,
            "table": summary,
            "searches": {e: [b.to_json() for b in found] for e, found in searches.items()},
            "error_chosen_by": "held-out live searches" if validate.best_error_live(live) else "simulated searches",
            "live_searches": {e: [b.to_json() for b in found] for e, found in live.items()},
            "candidates": {m: f.to_json() for m, f in candidates.items()},
            "per_strategy": {n: f.to_json() if f else None for n, f in per_strategy.items()},
        },
    )
    (directory / SURROGATE_REPORT).write_text(report)
    return Fitted(directory, kept, report, error)


def held_out_runs(results_dir: Path, problem: str, budget: str) -> list[RunResult]:
    """The problem's held-out live runs under ``budget`` (``<results>/<problem>/holdout/<budget>/runs.jsonl.gz``);
    none where there is no such file."""
    path = holdout_dir(results_dir, problem, budget) / RUNS_FILE
    try:
        return [r for r in read_runs(path) if r.mode == "live"] if path.exists() else []
    except ResultError as e:
        raise UsageError(f"{e}: the held-out live runs that choose the model error") from None


# -- tuning replay ---------------------------------------------------------------


def replay(
    budget_name: str,
    seeds: Sequence[int],
    names: Sequence[str] | None = None,
    results_dir: Path = LOCAL_RESULTS,
    table_root: Path | None = None,
    workers: int = 1,
    progress: Callable[[str], None] | None = None,
    scheduler: str | None = None,
    problem: str = problems.DEFAULT,
) -> Path:
    """The whole of ``tuning replay``: every (strategy, seed), into the one runs file
    ``<results_dir>/<problem>/replay/<budget>/runs.jsonl.gz`` (replacing those strategies' and seeds' lines, keeping
    the others); return its path.  The file is written once, when every replay is done: never half of it."""
    target = as_problem(problem)
    target.check()
    budgets = target.budgets()
    if budget_name not in budgets:
        raise UsageError(f"unknown budget {budget_name!r}; choose from {', '.join(budgets)}")
    if workers < 1:
        raise UsageError(f"--workers must be an integer >= 1, got {workers}")
    budget = budgets[budget_name]
    chosen = replayable(names)
    for name in chosen:
        resolve(name, budget.name, 0, problem)  # an unavailable strategy is refused before anything runs
    root = table_root_of(target, table_root)
    load(budget.name, root, problem)  # a missing or stale table is refused before anything runs
    out = replay_dir(results_dir, target.name, budget.name)
    ensure_writable(out)
    path = out / RUNS_FILE
    try:
        kept = read_runs(path) if path.exists() else []
    except ResultError as e:
        raise UsageError(f"{e}: move it aside or delete it to replay afresh") from None
    specs = [
        RunSpec(name, budget.name, seed, problem, mode="replay", table_root=str(root.resolve()))
        for name in chosen
        for seed in seeds
    ]
    done = []
    engine = make_engine(results_dir, workers, scheduler, write=False)
    try:
        engine.submit(specs)
        for spec in specs:
            try:
                result = engine.outcome(spec).result
            except RunFailed as e:
                raise UsageError(f"{e}; nothing written") from None
            done.append(result)
            if progress:
                progress(
                    f"[replay {budget.name}] {spec.strategy} seed {spec.seed}: test {result.best.test_accuracy:.4f} "
                    f"val {result.best.val_accuracy:.4f} simulated {result.wall_clock_seconds:.1f}s "
                    f"(decision {result.replay['clock']['decision_seconds']:.2f}s)"  # type: ignore[index]
                )
    finally:
        engine.close()
    replaced = {(s.strategy, s.seed) for s in specs}
    return write_runs(path, [r for r in kept if (r.strategy, r.seed) not in replaced] + done)


def surrogate_answers(
    budget_name: str, table_root: Path, problem: str = problems.DEFAULT
) -> Callable[[RunResult], float | None] | None:
    """``live run -> the surrogate's expected test accuracy of what the run reports``, were its own full-budget
    configurations answered by the surrogate a replay uses (``validate.answered``): what splits the certificate's
    bias into the surrogate's part and the search's.  None where the table has no fitted surrogate; the surrogate is
    loaded at the first question (a replay with no held-out runs to certify asks none).  ``problem``: as the user
    named it (a module's path, say)."""
    from tuning.objectives.replay.validate import answered

    if not (Path(table_root) / budget_name / SURROGATE_FILE).exists():
        return None

    def expected(run: RunResult) -> float | None:
        surrogate, _ = load(budget_name, table_root, problem)  # fitted once per process (load's cache)
        surrogate.prefetch([t.hyperparameters for t in run.trials])
        answers = answered(surrogate, run)
        return None if answers is None else float(answers[:, 1].mean())

    return expected
