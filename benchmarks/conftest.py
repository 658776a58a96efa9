"""Options of the benchmark session (``tox -e bench -- --budget smoke --seeds 0,1 --strategies random,grid``).

Each selected (strategy, seed) is one benchmarked run; the throughput
benchmark measures this machine's speed in the same session (the speed
gate's calibration); at the end the report of the budget's results prints.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tuning import strategies
from tuning.budget import BUDGETS
from tuning.gate import THROUGHPUT_FILE


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tuning bench")
    group.addoption("--budget", default="standard", help="smoke, standard or paper (default: standard)")
    group.addoption("--seeds", default=None, help="comma-separated seeds (default: the budget's own)")
    group.addoption("--strategies", default=None, help="comma-separated strategy names (default: all available)")
    group.addoption("--results-dir", default="results", help="result files go under DIR/<budget>/ (default: results)")


def _names(text: str | None) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()] if text else []


def _selection(config: pytest.Config) -> tuple[str, list[int], list[str]]:
    budget = config.getoption("--budget")
    if budget not in BUDGETS:
        raise pytest.UsageError(f"unknown budget {budget!r}; choose from {', '.join(BUDGETS)}")
    try:
        seeds = [int(s) for s in _names(config.getoption("--seeds"))] or list(BUDGETS[budget].seeds)
    except ValueError:
        raise pytest.UsageError(f"--seeds takes comma-separated non-negative integers, got {config.getoption('--seeds')!r}") from None
    if any(s < 0 for s in seeds):
        raise pytest.UsageError(f"--seeds takes non-negative integers, got {seeds}")
    chosen = _names(config.getoption("--strategies"))
    unknown = [n for n in chosen if n not in strategies.REGISTRY]
    if unknown:
        raise pytest.UsageError(f"unknown strategies {', '.join(unknown)}; choose from {', '.join(strategies.names())}")
    if not chosen:
        chosen = [n for n in strategies.names() if strategies.get(n).available()]
    return budget, seeds, chosen


def pytest_configure(config: pytest.Config) -> None:
    config._tuning_selection = _selection(config)  # type: ignore[attr-defined]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if {"strategy_name", "seed"} <= set(metafunc.fixturenames):
        _, seeds, names = metafunc.config._tuning_selection  # type: ignore[attr-defined]
        metafunc.parametrize(("strategy_name", "seed"), [(n, s) for n in names for s in seeds],
                             ids=[f"{n}-seed{s}" for n in names for s in seeds])


@pytest.fixture(scope="session")
def budget_name(pytestconfig: pytest.Config) -> str:
    return pytestconfig._tuning_selection[0]  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def results_dir(pytestconfig: pytest.Config) -> Path:
    return Path(pytestconfig.getoption("--results-dir"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    budget = config._tuning_selection[0]  # type: ignore[attr-defined]
    directory = Path(config.getoption("--results-dir")) / budget
    if not directory.is_dir():
        return
    from tuning.report import build, render

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
