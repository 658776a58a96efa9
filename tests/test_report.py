"""The reporter on small synthetic result files: statistics equal scipy's, tables are citable, bad files are named.

No training happens here: ``result`` builds minimal-but-valid result documents
(``documents.result_document``), so every number a table shows is
known in advance.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

from tuning.cli import main
from tuning.core.records import RunResult
from tuning.report.load import ResultFile
from tuning.report.plots import best_so_far, on_grid, plot_paths, strategy_curve
from tuning.report.statistics import iqm_ci, min_two_sided_p

from documents import result_document as result

# ----------------------------------------------------------------------------- synthetic results


def write(directory: Path, doc: dict[str, Any], name: str | None = None) -> Path:
    path = directory / doc["budget"]["name"] / (name or f"{doc['strategy']}-seed{doc['seed']}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def write_runs(directory: Path, accuracies: dict[str, list[float]], **kwargs: Any) -> None:
    """One result per (strategy, seed), seeds 0..n-1 in list order."""
    for strategy, values in accuracies.items():
        for seed, acc in enumerate(values):
            write(directory, result(strategy, seed, acc, **kwargs))


def report(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["report", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def csv_tables(text: str) -> dict[str, list[dict[str, str]]]:
    """The CSV output's two tables (separated by an empty row), as dict rows keyed by table name."""
    blocks: list[list[list[str]]] = [[]]
    for row in csv.reader(io.StringIO(text)):
        if row:
            blocks[-1].append(row)
        else:
            blocks.append([])
    assert len(blocks) == 2, "a summary and a pairwise table"
    tables = {}
    for name, (header, *rows) in zip(("summary", "pairwise"), blocks):
        assert header[0] == "table" and all(len(r) == len(header) and r[0] == name for r in rows)
        tables[name] = [dict(zip(header, r)) for r in rows]
    return tables


# a beats b on seeds 0 and 1, b wins seed 2 by a lot: b has the higher mean, a the better mean rank.
RANKED = {"a": [0.90, 0.90, 0.50], "b": [0.80, 0.80, 0.95], "c": [0.70, 0.70, 0.40]}


# ----------------------------------------------------------------------------- summary


def test_rows_are_sorted_by_mean_rank_not_mean_accuracy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_runs(tmp_path, RANKED)
    code, out, err = report(capsys, tmp_path, "--format", "csv")
    assert code == 0, err
    rows = csv_tables(out)["summary"]
    assert [r["strategy"] for r in rows] == ["a", "b", "c"]
    assert [float(r["mean_rank"]) for r in rows] == pytest.approx([4 / 3, 5 / 3, 3.0])
    assert float(rows[1]["test_accuracy_mean"]) > float(rows[0]["test_accuracy_mean"])


def test_mean_and_sample_std_match_numpy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_runs(tmp_path, RANKED)
    _, out, _ = report(capsys, tmp_path, "--format", "csv")
    rows = {r["strategy"]: r for r in csv_tables(out)["summary"]}
    for name, values in RANKED.items():
        assert float(rows[name]["test_accuracy_mean"]) == pytest.approx(np.mean(values))
        assert float(rows[name]["test_accuracy_std"]) == pytest.approx(np.std(values, ddof=1))
        assert rows[name]["runs"] == "3" and rows[name]["seeds"] == "0 1 2"
    _, markdown, _ = report(capsys, tmp_path)
    assert f"{100 * np.mean(RANKED['a']):.2f} ± {100 * np.std(RANKED['a'], ddof=1):.2f}" in markdown


def test_iqm_has_a_bootstrap_ci_equal_to_scipys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    values = [0.91, 0.93, 0.92, 0.96, 0.90, 0.94]
    write_runs(tmp_path, {"a": values})
    _, out, _ = report(capsys, tmp_path, "--format", "csv")
    (row,) = csv_tables(out)["summary"]
    expected = stats.bootstrap(
        (np.array(values),), lambda x, axis: stats.trim_mean(x, 0.25, axis=axis), vectorized=True,
        n_resamples=9_999, method="percentile", random_state=0,
    ).confidence_interval  # fmt: skip
    assert float(row["test_accuracy_iqm"]) == pytest.approx(stats.trim_mean(values, 0.25))
    assert float(row["iqm_ci95_low"]) == pytest.approx(expected.low)
    assert float(row["iqm_ci95_high"]) == pytest.approx(expected.high)
    assert float(row["iqm_ci95_low"]) <= float(row["test_accuracy_iqm"]) <= float(row["iqm_ci95_high"])
    # Same files, same interval: the bootstrap is seeded.
    assert report(capsys, tmp_path, "--format", "csv")[1] == out


def test_degenerate_iqm_ci_says_why_instead_of_crashing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert iqm_ci([0.9])[1:] == (None, None, "1 run")
    assert iqm_ci([0.9, 0.9, 0.9])[1:] == (None, None, "all runs equal")
    write_runs(tmp_path, {"one": [0.9], "same": [0.8, 0.8]})
    code, out, err = report(capsys, tmp_path)
    assert code == 0, err
    assert "90.00 ± n/a" in out and "[n/a: 1 run]" in out and "[n/a: all runs equal]" in out


# ----------------------------------------------------------------------------- pairwise


def test_wilcoxon_p_equals_scipys_with_enough_seeds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    b = [0.90, 0.91, 0.92, 0.93, 0.94, 0.95, 0.96, 0.97]
    diffs = [0.010, 0.020, -0.005, 0.030, 0.015, 0.025, 0.012, -0.002]
    write_runs(tmp_path, {"a": [x + d for x, d in zip(b, diffs)], "b": b})
    _, out, _ = report(capsys, tmp_path, "--format", "csv")
    (pair,) = csv_tables(out)["pairwise"]
    paired = np.array([x + d for x, d in zip(b, diffs)]) - np.array(b)  # the floats the report sees
    assert (pair["a"], pair["b"], pair["n_pairs"]) == ("a", "b", "8")
    assert float(pair["wilcoxon_p"]) == pytest.approx(stats.wilcoxon(paired).pvalue, rel=1e-12)
    assert float(pair["mean_difference"]) == pytest.approx(np.mean(diffs))
    assert (pair["a_better"], pair["ties"], pair["b_better"]) == ("6", "0", "2")
    assert "too few" not in pair["note"]


def test_too_few_seeds_get_a_plain_note(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_runs(tmp_path, {"a": [0.95, 0.96, 0.97], "b": [0.90, 0.91, 0.92]})
    _, out, _ = report(capsys, tmp_path)
    assert "too few pairs to test (n=3)" in out and "0.25 > 0.05" in out
    assert min_two_sided_p(5) == 0.0625 and min_two_sided_p(6) < 0.05


def test_all_zero_differences_and_disjoint_seeds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_runs(tmp_path, {"a": [0.9, 0.8], "b": [0.9, 0.8]})
    for seed in (5, 6):
        write(tmp_path, result("c", seed, 0.7))
    code, out, err = report(capsys, tmp_path, "--format", "csv")
    assert code == 0, err
    pairs = {(p["a"], p["b"]): p for p in csv_tables(out)["pairwise"]}
    ab = pairs.get(("a", "b")) or pairs[("b", "a")]
    assert ab["wilcoxon_p"] == "" and "identical on all 2 shared seeds" in ab["note"]
    assert any("no seeds in common" in p["note"] for k, p in pairs.items() if "c" in k)
    _, markdown, _ = report(capsys, tmp_path)
    assert "Not every strategy ran the same seeds" in markdown


# ----------------------------------------------------------------------------- bad input


def test_broken_and_foreign_files_are_named_and_skipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_runs(tmp_path, {"a": [0.9, 0.8]})
    bad = {
        "truncated.json": '{"schema_version": 1, "strat',
        "list.json": "[1, 2]",
        "benchmark.json": json.dumps({"machine_info": {}, "benchmarks": []}),
        "future.json": json.dumps({**result("a", 7, 0.9), "schema_version": 99}),
        "nan.json": json.dumps({**result("a", 8, 0.9), "best": {"test_accuracy": None, "val_accuracy": 0.9}}),
        "seed.json": json.dumps(result("a", -1, 0.9)),
        "deep/copy.json": json.dumps(result("a", 0, 0.9)),
    }
    for name, text in bad.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / "notes.txt").write_text("not json, not *.json either")
    code, out, err = report(capsys, tmp_path)
    assert code == 0 and "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == len(bad), err
    for name in bad:
        (line,) = [line for line in lines if str(tmp_path / name) in line]
        assert line.startswith("tuning: skipped ")
    assert "duplicate of" in err and "not JSON" in err and "missing" in err and "schema_version 99" in err
    assert "| a " in out and "2 (0, 1)" in out


def test_no_results_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = report(capsys, tmp_path)
    assert (code, out) == (2, "")
    assert err.splitlines() == [f"tuning: error: no result files under {tmp_path}"]

    (tmp_path / "x.json").write_text("{}")
    code, out, err = report(capsys, tmp_path)
    assert (code, out) == (2, "")
    assert err.splitlines()[-1] == f"tuning: error: no result files under {tmp_path} (1 JSON file skipped)"


def test_missing_directory_and_bad_format_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = report(capsys, tmp_path / "nowhere")
    assert (code, out, err.count("\n")) == (2, "", 1) and "no such directory" in err
    with pytest.raises(SystemExit) as exit_:
        main(["report", str(tmp_path), "--format", "html"])
    assert exit_.value.code == 2 and capsys.readouterr().err.count("\n") == 1


# ----------------------------------------------------------------------------- formats and provenance


def test_markdown_has_both_tables_and_a_provenance_footer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_runs(tmp_path, RANKED)
    _, out, _ = report(capsys, tmp_path, "--format", "github")
    assert "### Summary (smoke)" in out and "### Pairwise (smoke)" in out
    assert out.count("Provenance:") == 2  # one under each table: a pasted table still says how it was made
    for needle in ("2,000 training / 1,000 validation images", "epoch budget 6", "Seeds: 0, 1, 2", "Test CPU",
                   "numpy 2.0.0", "0123456789ab (clean)", "MNIST from synthetic"):  # fmt: skip
        assert needle in out, needle
    assert "torch" not in out  # libraries not installed are left out
    assert "|---" in out or "|:--" in out


def test_latex_is_booktabs_with_escaped_caption(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_runs(tmp_path, {"my_strategy": [0.9, 0.8], "b": [0.7, 0.75]})
    _, out, _ = report(capsys, tmp_path, "--format", "latex")
    assert out.count(r"\toprule") == 2 and out.count(r"\bottomrule") == 2 and out.count(r"\caption{") == 2
    assert r"my\_strategy" in out and "my_strategy" not in out.replace(r"my\_strategy", "")
    assert "Provenance: Budget: smoke" in out and r"95\% CI" in out


def test_csv_is_valid_and_every_row_carries_provenance(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_runs(tmp_path, RANKED)
    _, out, _ = report(capsys, tmp_path, "--format", "csv")
    tables = csv_tables(out)
    assert set(tables) == {"summary", "pairwise"} and len(tables["summary"]) == 3 and len(tables["pairwise"]) == 3
    for row in tables["summary"] + tables["pairwise"]:
        assert row["budget"] == "smoke"
        assert "epoch budget 6" in row["provenance_budget"]
        assert row["provenance_device"] == "CPU Test CPU"
        assert row["provenance_commit"] == "0123456789ab (clean)"


def test_disagreeing_runs_list_every_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, result("a", 0, 0.9))
    write(tmp_path, result("a", 1, 0.9, device="Other GPU", commit="f" * 40, dirty=True, numpy_version="1.26.4"))
    _, out, _ = report(capsys, tmp_path)
    assert "CPU Other GPU (1 run) | CPU Test CPU (1 run)" in out
    assert "0123456789ab (clean) (1 run) | ffffffffffff (dirty) (1 run)" in out
    assert "numpy 1.26.4 (1 run) | 2.0.0 (1 run)" in out


def test_mixed_budgets_get_one_section_each(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_runs(tmp_path, {"a": [0.9, 0.8], "b": [0.7, 0.6]})
    write_runs(tmp_path, {"a": [0.5], "b": [0.99]}, budget="standard")
    _, out, _ = report(capsys, tmp_path)
    assert "## Budget smoke: 2 strategies, seeds 0, 1" in out and "## Budget standard: 2 strategies, seeds 0" in out
    smoke, standard = out.split("## Budget standard")
    assert "12,000 training" in standard and "12,000 training" not in smoke
    _, out, _ = report(capsys, tmp_path, "--format", "csv")
    summary = csv_tables(out)["summary"]
    assert [(r["budget"], r["strategy"]) for r in summary] == [
        ("smoke", "a"), ("smoke", "b"), ("standard", "b"), ("standard", "a"),
    ]  # fmt: skip


# ----------------------------------------------------------------------------- plots


def test_plot_writes_png_and_svg(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_runs(tmp_path / "results", RANKED, scores=(0.8, None, 0.85))
    code, _, err = report(capsys, tmp_path / "results", "--plot", tmp_path / "out" / "curves.png")
    assert code == 0, err
    png, svg = tmp_path / "out" / "curves.png", tmp_path / "out" / "curves.svg"
    assert png.read_bytes().startswith(b"\x89PNG") and svg.stat().st_size > 0
    assert "<svg" in svg.read_text()
    assert f"wrote {png}" in err and f"wrote {svg}" in err
    (tmp_path / "file").write_text("")
    code, out, err = report(capsys, tmp_path / "results", "--plot", tmp_path / "file" / "curves")
    assert (code, out, err.count("\n")) == (2, "", 1) and "cannot write the plot" in err
    assert plot_paths(Path("x/curves")) == (Path("x/curves.png"), Path("x/curves.svg"))
    assert plot_paths(Path("x/run.v2")) == (Path("x/run.v2.png"), Path("x/run.v2.svg"))


def test_best_so_far_curves_are_steps_averaged_over_seeds(tmp_path: Path) -> None:
    run = ResultFile(tmp_path, RunResult.from_json(result("a", 0, 0.9, scores=(None, 0.8, 0.7, 0.9))))
    x, best = best_so_far(run, "epochs")
    assert list(x) == [2, 4, 6, 8] and np.isnan(best[0]) and list(best[1:]) == [0.8, 0.8, 0.9]
    assert list(on_grid(np.array([2.0, 4.0]), np.array([0.5, 0.6]), np.array([1.0, 2.0, 3.0, 9.0])))[1:] == [
        0.5, 0.5, 0.6,
    ]  # fmt: skip
    runs = [
        ResultFile(tmp_path, RunResult.from_json(result("a", s, 0.9, scores=sc)))
        for s, sc in enumerate([(0.8, 0.9), (0.7, 0.7, 0.95)])
    ]
    grid, mean, low, high = strategy_curve(runs, "epochs")
    assert list(grid) == [2, 4, 6] and list(mean) == pytest.approx([0.75, 0.8, 0.925])
    assert np.all(np.diff(mean) >= 0) and np.all(low <= mean) and np.all(mean <= high)


def test_reporting_imports_no_training_library(tmp_path: Path) -> None:
    write_runs(tmp_path, RANKED)
    code = (
        "import sys; from tuning.cli import main; "
        f"assert main(['report', {str(tmp_path)!r}, '--plot', {str(tmp_path / 'p')!r}]) == 0; "
        "heavy = [m for m in ('tensorflow', 'keras', 'keras_tuner', 'jax', 'torch') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
