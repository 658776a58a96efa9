"""``tuning record``: train configurations of the space under a budget's protocol into its replay table.

Any problem is recorded the same way (``--problem``: the seed ``mnist-mlp``,
``mnist-mlp-extended``, or a user's ``build_model``/``load_data`` module),
into ``<results>/<problem>/replay/<budget>/``; the surrogate encodes the seed's
dense-stack space by its architecture and any other space generically
(``tuning.objectives.replay.surrogate.features``).

What is recorded (``plan``), each for the budget's full epochs (Hyperband's
maximum too) with the problem's live objective, exactly as a live run trains a
trial:

* ``grid``: the grid strategy's first points, in its order, as far as any
  budget's trials reach (10) - for the seed's space, whose grid the suite
  enumerates itself; a discovered Keras Tuner space is walked by Keras
  Tuner's GridSearch, which the surrogate answers like any other strategy;
* ``live:<strategy>``: every configuration the committed live runs of this
  problem and budget tried (``<live-dir>/<problem>/<budget>/*-seed*.json``);
* ``sobol``: the first N points of a scrambled Sobol sequence over the
  space's unit cube (``Space.from_unit``; a prefix of the sequence, so a
  larger N extends a smaller one).

Grid and live configurations, and the first quarter of the Sobol points,
are trained with seeds 0..K-1 (the seed-to-seed spread); the other Sobol
points with seed 0.  Seed 0 of everything comes first, so an early stop
still leaves a table that spans the space.  A user's space gets no more
than this on purpose: a Sobol prefix covers any mixed, conditional space
evenly without knowing what its hyperparameters mean (a random sample
clumps; a grid needs values for every float), and the replicated quarter
gives the surrogate the seed-noise pools it draws from at every accuracy
level.

Recording (``record``) skips what the table already holds, appends one
synced line per finished training (a kill loses only the training in
progress), stops starting new ones after ``max_minutes`` (chunks), spreads
trainings over ``workers`` processes or a Dask cluster (``tuning.execution.pool.map_runs``)
and seals the table at the end.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import math
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuning import problems
from tuning.core.budget import Budget
from tuning.core.errors import UsageError
from tuning.core.space import Config, SearchSpace, Space
from tuning.execution.pool import map_runs
from tuning.objectives.replay import table
from tuning.problems.base import Problem
from tuning.problems.mnist_mlp import BUDGETS, PROBLEM, SPACE
from tuning.results import LOCAL_RESULTS, REFERENCE_RESULTS, ResultError, ensure_writable, read_result, tables_dir

TABLES = tables_dir(REFERENCE_RESULTS, PROBLEM.name)  # the seed's committed tables: <TABLES>/<budget>/
LOCAL_TABLES = tables_dir(LOCAL_RESULTS, PROBLEM.name)  # where a recording goes unless the reference is named

GRID_POINTS = max(b.trials for b in BUDGETS.values())  # the grid strategy never gets further than this
REPLICATED_SOBOL = 0.25  # the share of Sobol points trained with every seed
SOBOL_SEED = 0


@dataclass(frozen=True)
class Task:
    """One training to record: a configuration, a seed, and why it is in the plan."""

    config: Config
    key: str
    seed: int
    sources: tuple[str, ...]

    @property
    def trial_id(self) -> str:
        """A trial id fixed by the configuration alone, so a recording is the same whatever the plan around it."""
        return str(int.from_bytes(hashlib.sha256(self.key.encode()).digest()[:4], "big") & 0x7FFFFFFF)


def default_tables(problem: Problem, reading: bool) -> Path:
    """Where a problem's tables are looked for when no ``--table-dir`` is given: a recording (and a fit) goes to
    this machine's ``results/local/<problem>/replay``; a replay reads the committed
    ``results/<problem>/replay`` when the problem has one there (the seed does), else this machine's: no problem
    is named here, so a user's problem with committed tables is read as the seed's is."""
    committed = tables_dir(REFERENCE_RESULTS, problem.name)
    if reading and committed.is_dir():
        return committed
    return tables_dir(LOCAL_RESULTS, problem.name)


def sobol_configs(n: int, space: SearchSpace, seed: int = SOBOL_SEED) -> list[Config]:
    """The first ``n`` points of a scrambled Sobol sequence, as configurations of ``space``."""
    from scipy.stats import qmc

    if n <= 0:
        return []
    sampler = qmc.Sobol(d=space.dimensions(), scramble=True, seed=seed)
    with warnings.catch_warnings():  # balance needs a power of two; a prefix of the sequence is what we want
        warnings.simplefilter("ignore", UserWarning)
        points = sampler.random(n)
    return [space.from_unit(p) for p in points.tolist()]


def live_configs(
    live_dir: Path, budget: Budget, space: SearchSpace, problem: str = PROBLEM.name
) -> dict[str, tuple[Config, set[str]]]:
    """key -> (configuration, strategies that tried it) over a problem's live result files of this budget."""
    found: dict[str, tuple[Config, set[str]]] = {}
    for path in sorted((Path(live_dir) / problem / budget.name).glob("*-seed*.json")):
        try:
            result = read_result(path)
        except ResultError as e:
            print(f"tuning: record: skipped {e}", file=sys.stderr)
            continue
        if result.mode != "live" or any(getattr(result.budget, k) != getattr(budget, k) for k in table.PROTOCOL):
            continue
        for trial in result.trials:
            config = space.validate(trial.hyperparameters)
            found.setdefault(space.key(config), (config, set()))[1].add(result.strategy)
    return found


def plan(
    budget: Budget,
    configs: int,
    seeds: int,
    grid: int = GRID_POINTS,
    live_dir: Path | None = REFERENCE_RESULTS,
    space: SearchSpace = SPACE,
    problem: str = PROBLEM.name,  # whose live runs' configurations are added
) -> list[Task]:
    """Every training the table should hold, seed 0 of everything first (see the module's docstring)."""
    entries: dict[str, tuple[Config, list[str], bool]] = {}

    def add(config: Config, source: str, replicated: bool) -> None:
        key = space.key(config)
        _, sources, was = entries.setdefault(key, (config, [], replicated))
        sources.append(source)
        entries[key] = (config, sources, was or replicated)

    for config in list(space.grid_points())[:grid] if grid and isinstance(space, Space) else []:
        add(config, "grid", True)
    if live_dir is not None:
        for config, strategies in live_configs(live_dir, budget, space, problem).values():
            for name in sorted(strategies):
                add(config, f"live:{name}", True)
    replicated = math.ceil(REPLICATED_SOBOL * configs)
    for i, config in enumerate(sobol_configs(configs, space)):
        add(config, "sobol", i < replicated)
    return [
        Task(config, key, seed, tuple(sources))
        for seed in range(seeds)
        for key, (config, sources, many) in entries.items()
        if seed == 0 or many
    ]


@functools.lru_cache(maxsize=1)
def _environment() -> dict[str, Any]:
    from tuning.execution.provenance import environment

    return environment()


@functools.lru_cache(maxsize=2)
def _objective(budget_name: str, seed: int, problem: str = PROBLEM.name) -> Any:
    """The problem's live objective recording learning curves (the seed's: ``live_objective(..., curves=True)``)."""
    return problems.get(problem).live(problems.get(problem).budget(budget_name), seed, curves=True)


def train(task: Task, budget_name: str, label: str | None = None, problem: str = PROBLEM.name) -> dict[str, Any]:
    """Train one task with the problem's live objective; its table line, as JSON (runs in a worker process,
    which finds the problem again by its reference: a registered name, or a user's file or module)."""
    budget = problems.get(problem).budget(budget_name)
    from tuning.objectives.live.weights import TrialWeights

    objective = _objective(budget_name, task.seed, problem)
    objective.weights = TrialWeights()  # a recording never continues or tests a trial: keep no weights
    record = objective.evaluate(task.trial_id, task.config, budget.epochs, 0, None)
    provenance = {**_environment(), "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")}
    if label:
        provenance["label"] = label
    return table.Recording(
        key=task.key,
        hyperparameters=task.config,
        seed=task.seed,
        trial_id=task.trial_id,
        budget=budget,
        epochs=record.extra["curves"],
        seconds=record.seconds,
        sources=list(task.sources),
        provenance=provenance,
    ).to_json()


@dataclass
class Outcome:
    directory: Path
    planned: int
    already: int
    recorded: int
    seconds: float  # of this invocation
    table_size: int
    interrupted: bool = False  # Ctrl-C: what finished is kept, the table sealed

    @property
    def remaining(self) -> int:
        return self.planned - self.already - self.recorded


def record(
    budget_name: str,
    configs: int,
    seeds: int,
    table_root: Path | None = LOCAL_TABLES,
    live_dir: Path | None = REFERENCE_RESULTS,
    workers: int = 1,
    max_minutes: float | None = None,
    grid: int = GRID_POINTS,
    label: str | None = None,
    progress: Callable[[str], None] | None = None,
    scheduler: str | None = None,
    problem: str = PROBLEM.name,
) -> Outcome:
    """The whole of ``tuning record``: plan, skip what is recorded, train the rest, seal (see the module).

    ``problem`` is a registered name or a user's file or module (a file by a path its workers can open);
    ``table_root`` None is the problem's own (``default_tables``)."""
    chosen = problems.get(problem)
    chosen.check()  # a user's module: its data and model refused in one line before anything is written
    budgets = chosen.budgets()
    if budget_name not in budgets:
        raise UsageError(f"unknown budget {budget_name!r}; choose from {', '.join(budgets)}")
    for name, value, least in (
        ("--configs", configs, 0),
        ("--seeds", seeds, 1),
        ("--workers", workers, 1),
        ("--grid", grid, 0),
    ):
        if value < least:
            raise UsageError(f"{name} must be an integer >= {least}, got {value}")
    if max_minutes is not None and not max_minutes > 0:
        raise UsageError(f"--max-minutes must be positive, got {max_minutes:g}")
    budget, space = budgets[budget_name], chosen.space
    directory = Path(table_root if table_root is not None else default_tables(chosen, reading=False)) / budget.name
    ensure_writable(directory)
    try:
        done = {(r.key, r.seed) for r in table.read_table(directory, budget, space)}
    except table.TableError as e:
        raise UsageError(str(e)) from None
    tasks = plan(budget, configs, seeds, grid, live_dir, space, chosen.name)
    todo = [t for t in tasks if (t.key, t.seed) not in done]
    started = time.perf_counter()
    deadline = started + 60 * max_minutes if max_minutes else math.inf
    outcome = Outcome(directory, len(tasks), len(tasks) - len(todo), 0, 0.0, len(done))
    job = functools.partial(train, budget_name=budget.name, label=label, problem=problem)
    try:
        for task, line in map_runs(
            job, todo, workers, keep_going=lambda: time.perf_counter() < deadline, scheduler=scheduler
        ):
            recording = table.Recording.from_json(line, f"trained {task.key} seed {task.seed}", space)
            table.append(directory, recording)
            outcome.recorded += 1
            if progress:
                curve = recording.column("val_accuracy")
                progress(
                    f"[record {budget.name}] {outcome.already + outcome.recorded}/{outcome.planned} "
                    f"{task.key} seed {task.seed}: val_acc {curve[-1]:.4f} "
                    f"test {recording.column('test_accuracy')[-1]:.4f} {recording.seconds:.1f}s "
                    f"elapsed {time.perf_counter() - started:.0f}s"
                )
    except KeyboardInterrupt:
        outcome.interrupted = True
    finally:
        outcome.table_size = table.seal(directory, budget, space)
        outcome.seconds = time.perf_counter() - started
    return outcome
