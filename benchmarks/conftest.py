"""Options of the benchmark session (``tox -e bench -- --budget smoke --seeds 0,1 --strategies random,grid``).

``--problem`` names the problem (default ``mnist-mlp``, the seed): a built-in
one, an outside package's, or a user's own file or module with
``build_model(hp)`` and ``load_data()``.  Each selected (strategy, seed) is one
benchmarked run; a strategy that cannot serve the problem is skipped with
one line saying why.  The throughput
benchmark measures this machine's speed in the same session (the speed
gate's calibration); at the end the report of the budget's results prints.
A run whose complete result file exists is skipped (``--force`` reruns it);
an interrupted run continues from its work folder (``--fresh`` discards it).
The runs go to an engine (``tuning.execution.engine``): this process, a
local Dask cluster of ``--workers`` single-threaded processes, or an
existing Dask cluster (``--scheduler``); every selected run is queued when
the session starts, as many run at once as there are worker threads, and
each test waits for its own.
``--mode replay`` replays the searches against the budget's replay table
instead of training (``tuning replay``): the same runs on the same engine,
answered from the table (seconds each), always afresh, written under
``replay/``; nothing else is measured, and the report ends with how the
replay agrees with the live results (``REPLAY.md``).
"""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tuning import problems, strategies
from tuning.bench.calibration import THROUGHPUT_FILE, write_throughput
from tuning.bench.side_by_side import KIND as SIDE_BY_SIDE
from tuning.bench.side_by_side import summary as side_by_side_summary
from tuning.core.budget import SEARCH
from tuning.core.errors import UsageError
from tuning.core.seeds import parse_seeds
from tuning.execution.engine import Engine, RunSpec, make_engine
from tuning.execution.record import TABLES
from tuning.execution.runner import already_done, cannot_serve
from tuning.results import replay_dir, result_path
from tuning.terminal import quiet_stderr


@dataclass(frozen=True)
class Selection:
    budget: str
    seeds: list[int]
    strategies: list[str]
    results_dir: Path
    workers: int
    scheduler: str | None
    force: bool
    fresh: bool
    mode: str = "live"
    table_dir: Path = TABLES
    problem: str = problems.DEFAULT  # a registered name, or a user's module (a file by its absolute path)
    problem_name: str = problems.DEFAULT
    skipped: tuple[tuple[str, str], ...] = ()  # (strategy, why it cannot serve the problem)

    def run_spec(self, strategy: str, seed: int) -> RunSpec:
        """The engine's task for one (strategy, seed) of this bench."""
        table_root = str(self.table_dir.resolve()) if self.mode == "replay" else ""
        return RunSpec(strategy, self.budget, seed, self.problem, self.mode, table_root)

    @property
    def directory(self) -> Path:
        """Where this bench's result files go."""
        if self.mode == "replay":
            return replay_dir(self.results_dir, self.problem_name, self.budget)
        return self.results_dir / self.problem_name / self.budget


SELECTION = pytest.StashKey[Selection]()
QUIET = pytest.StashKey[contextlib.ExitStack]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tuning bench")
    group.addoption(
        "--problem",
        default=problems.DEFAULT,
        help=f"a problem ({', '.join(problems.names())}) or your own module: a .py file or a dotted module "
        f"with build_model(hp) and load_data() (default: {problems.DEFAULT})",
    )
    group.addoption("--budget", default="standard", help="smoke, standard or paper (default: standard)")
    group.addoption(
        "--seeds", default=None, help="comma-separated seeds or ranges, e.g. 0,1 or 0-9 (default: the budget's own)"
    )
    group.addoption("--strategies", default=None, help="comma-separated strategy names (default: all available)")
    group.addoption(
        "--results-dir",
        default="results/local",
        help="result files go under DIR/<problem>/<budget>/ (default: results/local, git-ignored; the committed "
        "reference is results/<problem>/<budget>/, written only by an explicit --results-dir results)",
    )
    group.addoption(
        "--example-budget",
        default="smoke",
        help="budget of the side-by-side run against the seed example's code path (default: smoke, the cheapest)",
    )
    group.addoption(
        "--workers",
        default="auto",
        help="N: runs on a local Dask cluster of N single-threaded worker processes (127.0.0.1 only); "
        "1: one after another in this process; auto (default): one per core",
    )
    group.addoption(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="send the runs to an existing Dask cluster (tls://HOST:PORT or tcp://HOST:PORT) instead",
    )
    group.addoption("--force", action="store_true", help="rerun runs whose complete result file exists")
    group.addoption(
        "--mode",
        default="live",
        choices=("live", "replay"),
        help="live: train (default); replay: answer from the budget's replay table (tuning replay)",
    )
    group.addoption(
        "--table-dir",
        default=None,
        help=f"replay tables in DIR/<budget>/ (default: the problem's own, {TABLES} for the seed; for another "
        "problem results/<problem>/replay if committed, else results/local/<problem>/replay, where tuning record "
        "puts them)",
    )
    group.addoption(
        "--fresh", action="store_true", help="discard interrupted runs' work folders instead of continuing them"
    )


def _names(text: str | None) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()] if text else []


def _problem(reference: str) -> tuple[str, problems.Problem]:
    """The problem as workers will name it (a file by its absolute path), checked now: bad input is one line."""
    reference = problems.portable(reference)
    try:
        problem = problems.get(reference)
        problem.check()
    except UsageError as e:
        raise pytest.UsageError(str(e)) from None
    return reference, problem


def _tables(mode: str, reference: str, problem: problems.Problem, budget: str, given: str | None) -> Path:
    """Where a replay reads the problem's tables (``--table-dir``, else the problem's own), checked now: a problem
    is replayable only where its table exists, and a missing one is one line naming ``tuning record``."""
    from tuning.execution.simulate import recordings_of, table_root_of

    root = table_root_of(problem, given)
    if mode == "replay":
        try:
            recordings_of(problem.budget(budget), root, reference)
        except UsageError as e:
            raise pytest.UsageError(str(e)) from None
    return root


def _selection(config: pytest.Config) -> Selection:
    budget = config.getoption("--budget")
    if budget not in SEARCH:
        raise pytest.UsageError(f"unknown budget {budget!r}; choose from {', '.join(SEARCH)}")
    text = config.getoption("--seeds")
    try:
        seeds = parse_seeds(text) if text else list(SEARCH[budget].seeds)
    except ValueError as e:
        raise pytest.UsageError(f"--seeds: {e}") from None
    chosen = _names(config.getoption("--strategies"))
    unknown = [n for n in chosen if n not in strategies.names()]
    if unknown:
        raise pytest.UsageError(f"unknown strategies {', '.join(unknown)}; choose from {', '.join(strategies.names())}")
    if not chosen:
        chosen = [n for n in strategies.names() if strategies.get(n).available()]
    mode = config.getoption("--mode")
    reference, problem = _problem(config.getoption("--problem"))
    table_dir = _tables(mode, reference, problem, config.getoption("--budget"), config.getoption("--table-dir"))
    skipped = tuple((n, why) for n in chosen if (why := cannot_serve(strategies.get(n), problem, mode)))
    return Selection(
        budget,
        seeds,
        chosen,
        Path(config.getoption("--results-dir")),
        _workers(config.getoption("--workers")),
        config.getoption("--scheduler"),
        config.getoption("--force"),
        config.getoption("--fresh"),
        mode,
        table_dir,
        reference,
        problem.name,
        skipped,
    )


def _workers(text: str) -> int:
    if text == "auto":
        return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    if not text.isdigit() or int(text) < 1:
        raise pytest.UsageError(f"--workers must be a positive integer or auto, got {text!r}")
    return int(text)


def pytest_configure(config: pytest.Config) -> None:
    config.stash[SELECTION] = _selection(config)
    quiet = contextlib.ExitStack()
    quiet.enter_context(quiet_stderr())  # TensorFlow's C++ log lines off the terminal (TUNING_DEBUG=1 keeps them)
    config.stash[QUIET] = quiet


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In replay mode nothing trains: only the searches run."""
    if config.stash[SELECTION].mode != "replay":
        return
    skip = pytest.mark.skip(reason="replay mode: only the searches are replayed, nothing is trained or measured")
    for item in items:
        if getattr(item, "originalname", item.name) != "test_search":
            item.add_marker(skip)


def pytest_unconfigure(config: pytest.Config) -> None:
    if QUIET in config.stash:
        config.stash[QUIET].close()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if {"strategy_name", "seed"} <= set(metafunc.fixturenames):
        sel = metafunc.config.stash[SELECTION]
        cases = [(n, s) for n in sel.strategies for s in sel.seeds]
        metafunc.parametrize(("strategy_name", "seed"), cases, ids=[f"{n}-seed{s}" for n, s in cases])


@pytest.fixture(scope="session")
def selection(pytestconfig: pytest.Config) -> Selection:
    return pytestconfig.stash[SELECTION]


@pytest.fixture(scope="session")
def example_budget(pytestconfig: pytest.Config) -> str:
    name = pytestconfig.getoption("--example-budget")
    if name not in SEARCH:
        raise pytest.UsageError(f"unknown --example-budget {name!r}; choose from {', '.join(SEARCH)}")
    return name


@pytest.fixture(scope="session")
def budget_name(selection: Selection) -> str:
    return selection.budget


@pytest.fixture(scope="session")
def results_dir(selection: Selection) -> Path:
    return selection.results_dir


def done(selection: Selection, spec: RunSpec) -> Path | None:
    """The run's result file when it is complete and not to be rerun (a replay always reruns: milliseconds)."""
    budget = problems.get(selection.problem).budget(spec.budget)
    if (
        selection.mode == "replay"
        or selection.force
        or not already_done(selection.results_dir, spec.strategy, budget, spec.seed, selection.problem_name)
    ):
        return None
    return result_path(selection.results_dir, selection.problem_name, spec.budget, spec.strategy, spec.seed)


def cannot(selection: Selection, strategy: str) -> str | None:
    return dict(selection.skipped).get(strategy)


@pytest.fixture
def spec(selection: Selection, strategy_name: str, seed: int) -> RunSpec:
    why = cannot(selection, strategy_name)
    if why:
        pytest.skip(f"{strategy_name} cannot serve {selection.problem_name}: {why}")
    return selection.run_spec(strategy_name, seed)


@pytest.fixture
def done_file(selection: Selection, spec: RunSpec) -> Path | None:
    """This run's complete result file, when the bench is to skip it."""
    return done(selection, spec)


@pytest.fixture(scope="session")
def engine(request: pytest.FixtureRequest, selection: Selection) -> Iterator[Engine]:
    """The engine, with every collected run that is not done already queued on it (live or replayed alike)."""
    specs = [
        selection.run_spec(item.callspec.params["strategy_name"], item.callspec.params["seed"])
        for item in request.session.items
        if hasattr(item, "callspec")
        and {"strategy_name", "seed"} <= set(item.callspec.params)
        and not cannot(selection, item.callspec.params["strategy_name"])
    ]
    pending = [spec for spec in specs if done(selection, spec) is None]
    workers = min(selection.workers, max(1, len(pending)))
    try:
        engine = make_engine(selection.results_dir, workers, selection.scheduler, selection.fresh)
    except UsageError as e:  # e.g. an unreachable --scheduler: one line, not a fixture error per test
        pytest.exit(f"tuning: error: {e}", returncode=pytest.ExitCode.USAGE_ERROR)
    try:
        engine.submit(pending)
        yield engine
    finally:
        engine.close()


@pytest.fixture(scope="session")
def throughput_log(selection: Selection) -> Iterator[list[dict[str, Any]]]:
    """Every architecture measured in this session; written once, when the session's measuring is over,
    whichever of them ``-k`` selected (without the calibration architecture the gate has no yardstick: said so)."""
    measured: list[dict[str, Any]] = []
    yield measured
    if not measured:
        return
    try:
        write_throughput(
            selection.results_dir / selection.problem_name / selection.budget, measured[-1]["device"], measured
        )
    except ValueError as e:
        warnings.warn(f"{THROUGHPUT_FILE} not written: {e}", stacklevel=1)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    sel = config.stash[SELECTION]
    for name, why in sel.skipped:
        terminalreporter.write_line(f"tuning: skipped {name}: it cannot serve {sel.problem_name}: {why}")
    directory = sel.directory
    if not directory.is_dir():
        return
    from tuning.report.command import build, render

    terminalreporter.section(f"report: {directory}")
    try:
        sections = build(directory, warn=terminalreporter.write_line)
    except UsageError as e:  # nothing to report (only the throughput or side-by-side files)
        terminalreporter.write_line(str(e))
        sections = []
    if sections:
        terminalreporter.write_line(render(sections, "github"))
    if sel.mode == "replay":
        _agreement(terminalreporter, sel)
        return
    example_dir = sel.results_dir / problems.DEFAULT / config.getoption("--example-budget")
    for side in sorted(example_dir.glob(f"{SIDE_BY_SIDE}-seed*.json")):
        terminalreporter.section(f"side by side with the seed example's code: {side}")
        for line in side_by_side_summary(json.loads(side.read_text())):
            terminalreporter.write_line(line)
    throughput = directory / THROUGHPUT_FILE
    if throughput.is_file():
        doc = json.loads(throughput.read_text())
        device = doc["device"]
        peak = doc.get("peak_matmul") or {}
        terminalreporter.section(f"throughput on {device['kind']} {device['name']} ({doc.get('backend')})")
        if peak:
            terminalreporter.write_line(f"{'peak (matmul)':<20} {'':>10} {'':>9} {peak['gflops']:>7.1f} GFLOP/s")
        for a in doc["architectures"]:
            share = f" {100 * a['fraction_of_peak']:>4.0f} % of peak" if "fraction_of_peak" in a else ""
            terminalreporter.write_line(
                f"{a['architecture']:<20} {a['samples_per_second']:>10,.0f} samples/s {a['gflops']:>7.1f} GFLOP/s"
                f"{share} (batch {a['batch_size']})"
            )


def _agreement(terminalreporter: pytest.TerminalReporter, sel: Selection) -> None:
    """REPLAY.md, written and shown: the replay beside the committed live reference (``results/<problem>/<budget>/``)."""
    from tuning.execution.simulate import live_only
    from tuning.report.agreement import write_report

    try:
        path = write_report(
            sel.budget,
            sel.results_dir,
            live_only(),
            "tox -e bench -- --mode replay",
            warn=terminalreporter.write_line,
            live_dir=Path("results"),
            problem=sel.problem_name,
        )
    except UsageError as e:
        terminalreporter.write_line(str(e))
        return
    terminalreporter.section(f"replay: {path}")
    terminalreporter.write_line(path.read_text())
