"""The one result schema: every committed result file reads into the core records and writes back unchanged."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
from pathlib import Path

import pytest

from tuning.core.records import RecordError, RunResult
from tuning.core.seeds import parse_seeds
from tuning.results import RUNS_FILE, read_runs, write_runs

from documents import result_document

ROOT = Path(__file__).resolve().parent.parent


def committed_results() -> list[Path]:
    """The result files the repository holds: git's tracked files in a checkout, never the working tree's
    untracked ones (a bench writes results/local/, git-ignored; its files are this machine's, not the
    reference).  Outside a checkout (an unpacked sdist) every file but those under results/local/."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--", "results"], cwd=ROOT, capture_output=True, check=True)
        tracked = [ROOT / name for name in listed.stdout.decode().split("\0") if name]
    except (OSError, subprocess.CalledProcessError):  # no git, or not a checkout
        tracked = [p for p in (ROOT / "results").rglob("*") if "local" not in p.relative_to(ROOT / "results").parts]
    return sorted(p for p in tracked if re.fullmatch(r".+-seed\d+\.json", p.name) and p.is_file())


def committed_runs_files() -> list[Path]:
    """The tracked files that hold many results each (replay and held-out runs: ``RUNS_FILE``)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--", "results"], cwd=ROOT, capture_output=True, check=True)
    return sorted(ROOT / name for name in listed.stdout.decode().split("\0") if name.endswith(RUNS_FILE))


COMMITTED = committed_results()


def test_committed_results_exist() -> None:
    assert len(COMMITTED) >= 18


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: str(p.relative_to(ROOT)))
def test_committed_result_round_trips_exactly(path: Path) -> None:
    data = json.loads(path.read_text())
    again = RunResult.from_json(data).to_json()
    assert again == data and list(again) == list(data)


@pytest.mark.parametrize("path", committed_runs_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_a_committed_runs_file_round_trips_exactly(path: Path, tmp_path: Path) -> None:
    """Every line is a valid result that writes back as it was, and the file is what ``write_runs`` makes of
    them, byte for byte (sorted, no gzip timestamp)."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        lines = [json.loads(line) for line in f if line.strip()]
    results = read_runs(path)
    assert lines and [r.to_json() for r in results] == lines
    assert write_runs(tmp_path / RUNS_FILE, results).read_bytes() == path.read_bytes()


def test_bad_documents_say_what_is_wrong() -> None:
    good = result_document("a", 0, 0.9)
    cases = {
        "schema_version 2": {**good, "schema_version": 2},
        "seed is -1": {**good, "seed": -1},
        "best.test_accuracy is 1.5": {**good, "best": {**good["best"], "test_accuracy": 1.5}},
        "budget.epoch_budget is 7": {**good, "budget": {**good["budget"], "epoch_budget": 7}},
        "trials[0] lacks numeric epochs/seconds": {**good, "trials": [{**good["trials"][0], "seconds": "x"}]},
        "trials[0].compile_seconds is -0.1": {**good, "trials": [{**good["trials"][0], "compile_seconds": -0.1}]},
        "trials[0].validation_seconds is 'x'": {**good, "trials": [{**good["trials"][0], "validation_seconds": "x"}]},
        "missing environment": {k: v for k, v in good.items() if k != "environment"},
        "a throughput file": {"kind": "throughput"},
    }
    for message, doc in cases.items():
        with pytest.raises(RecordError, match=re.escape(message)):
            RunResult.from_json(doc)


def test_a_trials_time_breakdown_is_kept_where_measured_and_absent_where_not() -> None:
    timed = result_document("a", 0, 0.9, timings=(0.25, 0.125))
    assert RunResult.from_json(timed).to_json()["trials"] == timed["trials"]
    trial = RunResult.from_json(timed).trials[0]
    assert (trial.compile_seconds, trial.validation_seconds) == (0.25, 0.125)
    untimed = result_document("a", 0, 0.9)
    again = RunResult.from_json(untimed)
    assert again.trials[0].compile_seconds is None and again.to_json()["trials"] == untimed["trials"]


def test_seed_lists_and_ranges() -> None:
    assert parse_seeds("0,1,2") == [0, 1, 2]
    assert parse_seeds("0-3,10,2") == [0, 1, 2, 3, 10]
    for bad in ("", "a", "-1", "3-1", "1.5"):
        with pytest.raises(ValueError, match="seed"):
            parse_seeds(bad)
