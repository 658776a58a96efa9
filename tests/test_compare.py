"""This machine's runs beside the committed reference: run against run, and whether they differ beyond machines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tuning.cli import main
from tuning.report.compare import SPREAD_PP, compare

from documents import result_document, result_file


def write(directory: Path, strategy: str, seed: int, accuracy: float, **kwargs: Any) -> None:
    doc = result_document(strategy, seed, accuracy, **kwargs)
    path = directory / doc["budget"]["name"] / f"{strategy}-seed{seed}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))


def test_local_runs_against_reference_runs_of_the_same_strategy_and_seed() -> None:
    reference = [result_file("a", s, 0.95) for s in range(3)] + [result_file("b", s, 0.90) for s in range(3)]
    local = [
        result_file("a", 0, 0.95),  # identical
        result_file("a", 1, 0.95, scores=(0.80, 0.86, 0.83)),  # a validation score moved, same choice and accuracy
        result_file("a", 2, 0.9510),  # +0.10 points
        *(result_file("b", s, 0.90 + 0.01 * (s + 1)) for s in range(3)),  # +1, +2, +3 points: beyond the spread
        result_file("c", 0, 0.5),  # no reference
    ]
    c = compare(local, reference)
    a, b, everything = c.lines
    assert (a.strategy, a.identical, a.same_choice, a.seeds) == ("a", 1, 3, [0, 1, 2])
    assert a.mean == pytest.approx(0.001 / 3) and a.largest == pytest.approx(0.001) and not a.outside
    assert b.outside == [0, 1, 2] and b.largest == pytest.approx(0.03) and b.p_value == pytest.approx(0.25)
    assert everything.strategy == "all strategies" and len(everything.seeds) == 6
    assert c.local_only == ["c seed 0"] and c.reference_only == []
    assert SPREAD_PP < 1.0


def test_report_puts_a_local_folder_beside_the_reference(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "results"
    for s in range(3):
        write(results, "a", s, 0.95)
        write(results / "local", "a", s, 0.95 if s else 0.97)
    code = main(["report", str(results / "local"), "--reference", str(results), "--table", "reference"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "### Local against the reference (smoke)" in out and "Local device: CPU Test CPU" in out
    assert "beyond ±0.76 pp on seed(s) 0" in out and " 2/3 |" in out  # identical runs
    code = main(
        ["report", str(results / "local"), "--reference", str(results), "--table", "reference", "--spread", "3"]
    )
    assert code == 0 and "within the cross-machine spread" in capsys.readouterr().out
    # Without a reference there is nothing to compare: one line, exit 2.
    assert main(["report", str(results / "local"), "--table", "reference"]) == 2
    _, err = capsys.readouterr()
    assert err.count("\n") == 1 and "needs --reference" in err


def test_a_report_on_the_reference_leaves_the_local_folder_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """results/local/ lies inside results/: reading it with the reference would count a seed twice."""
    results = tmp_path / "results"
    write(results, "a", 0, 0.95)
    write(results / "local", "a", 0, 0.50)
    assert main(["report", str(results), "--format", "csv", "--table", "summary"]) == 0
    out, err = capsys.readouterr()
    assert "0.95" in out and "0.5," not in out and "duplicate" not in err
    assert "not reading 1 file(s) in local/ folders" in err
