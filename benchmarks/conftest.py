"""Options of the benchmark session (``tox -e bench -- --budget smoke --seeds 0,1 --strategies random,grid``).

Each selected (strategy, seed) is one benchmarked run; the throughput
benchmark measures this machine's speed in the same session (the speed
gate's calibration); at the end the report of the budget's results prints.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tuning import strategies
from tuning.bench.calibration import THROUGHPUT_FILE, write_throughput
from tuning.core.budget import BUDGETS
from tuning.core.seeds import parse_seeds


@dataclass(frozen=True)
class Selection:
    budget: str
    seeds: list[int]
    strategies: list[str]
    results_dir: Path


SELECTION = pytest.StashKey[Selection]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tuning bench")
    group.addoption("--budget", default="standard", help="smoke, standard or paper (default: standard)")
    group.addoption(
        "--seeds", default=None, help="comma-separated seeds or ranges, e.g. 0,1 or 0-9 (default: the budget's own)"
    )
    group.addoption("--strategies", default=None, help="comma-separated strategy names (default: all available)")
    group.addoption(
        "--results-dir",
        default="results/local",
        help="result files go under DIR/<budget>/ (default: results/local, git-ignored; the committed reference "
        "is results/<budget>/, written only by an explicit --results-dir results)",
    )


def _names(text: str | None) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()] if text else []


def _selection(config: pytest.Config) -> Selection:
    budget = config.getoption("--budget")
    if budget not in BUDGETS:
        raise pytest.UsageError(f"unknown budget {budget!r}; choose from {', '.join(BUDGETS)}")
    text = config.getoption("--seeds")
    try:
        seeds = parse_seeds(text) if text else list(BUDGETS[budget].seeds)
    except ValueError as e:
        raise pytest.UsageError(f"--seeds: {e}") from None
    chosen = _names(config.getoption("--strategies"))
    unknown = [n for n in chosen if n not in strategies.REGISTRY]
    if unknown:
        raise pytest.UsageError(f"unknown strategies {', '.join(unknown)}; choose from {', '.join(strategies.names())}")
    if not chosen:
        chosen = [n for n in strategies.names() if strategies.get(n).available()]
    return Selection(budget, seeds, chosen, Path(config.getoption("--results-dir")))


def pytest_configure(config: pytest.Config) -> None:
    config.stash[SELECTION] = _selection(config)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if {"strategy_name", "seed"} <= set(metafunc.fixturenames):
        sel = metafunc.config.stash[SELECTION]
        cases = [(n, s) for n in sel.strategies for s in sel.seeds]
        metafunc.parametrize(("strategy_name", "seed"), cases, ids=[f"{n}-seed{s}" for n, s in cases])


@pytest.fixture(scope="session")
def selection(pytestconfig: pytest.Config) -> Selection:
    return pytestconfig.stash[SELECTION]


@pytest.fixture(scope="session")
def budget_name(selection: Selection) -> str:
    return selection.budget


@pytest.fixture(scope="session")
def results_dir(selection: Selection) -> Path:
    return selection.results_dir


@pytest.fixture(scope="session")
def throughput_log(selection: Selection) -> Iterator[list[dict[str, Any]]]:
    """Every architecture measured in this session; written once, when the session's measuring is over,
    whichever of them ``-k`` selected (without the calibration architecture the gate has no yardstick: said so)."""
    measured: list[dict[str, Any]] = []
    yield measured
    if not measured:
        return
    try:
        write_throughput(selection.results_dir / selection.budget, measured[-1]["device"], measured)
    except ValueError as e:
        warnings.warn(f"{THROUGHPUT_FILE} not written: {e}", stacklevel=1)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    sel = config.stash[SELECTION]
    directory = sel.results_dir / sel.budget
    if not directory.is_dir():
        return
    from tuning.report.command import build, render

    terminalreporter.section(f"report: {directory}")
    sections = build(directory, warn=terminalreporter.write_line)
    if sections:
        terminalreporter.write_line(render(sections, "github"))
    throughput = directory / THROUGHPUT_FILE
    if throughput.is_file():
        doc = json.loads(throughput.read_text())
        device = doc["device"]
        terminalreporter.section(f"throughput on {device['kind']} {device['name']}")
        for a in doc["architectures"]:
            terminalreporter.write_line(
                f"{a['architecture']:<20} {a['samples_per_second']:>10,.0f} samples/s {a['gflops']:>7.1f} GFLOP/s (batch {a['batch_size']})"
            )
