"""The reporter on small synthetic result files: numbers equal scipy's, tables are citable, bad files are named.

No training happens here: ``result`` builds minimal-but-valid result documents
(``documents.result_document``), so every number a table shows is
known in advance.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tuning.cli import main
from tuning.report import TABLES
from tuning.report.anytime import RANGE_BAND, best_so_far, on_grid, strategy_curve
from tuning.report.plots import curves_figure, plot_paths
from tuning.report.significance import min_two_sided_p
from tuning.report.statistics import MIN_RUNS_FOR_CI
from tuning.report.tables import Section

from documents import result_document as result
from documents import result_file

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


def csv_table(capsys: pytest.CaptureFixture[str], directory: Path, table: str, *args: str) -> list[dict[str, str]]:
    """One ``--format csv --table`` output: one rectangular table, as pandas and the csv module both read it."""
    code, out, err = report(capsys, directory, "--format", "csv", "--table", table, *args)
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    assert rows and all(len(r) == len(rows[0]) for r in rows), "one rectangular table"
    frame = pd.read_csv(io.StringIO(out), keep_default_na=False, dtype=str)
    assert list(frame.columns) == rows[0] and len(frame) == len(rows) - 1
    return frame.to_dict("records")


# a beats b on seeds 0 and 1, b wins seed 2 by a lot: b has the higher mean, a the better mean rank.
RANKED = {"a": [0.90, 0.90, 0.50], "b": [0.80, 0.80, 0.95], "c": [0.70, 0.70, 0.40]}


# ----------------------------------------------------------------------------- summary


def test_rows_are_sorted_by_name_with_the_mean_rank_beside(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Old: sorted by mean rank, which read as a ranking although every gap lay within the critical difference."""
    write_runs(tmp_path, {"z": RANKED["a"], "b": RANKED["b"], "c": RANKED["c"]})
    rows = csv_table(capsys, tmp_path, "summary")
    assert [r["strategy"] for r in rows] == ["b", "c", "z"]
    assert [float(r["mean_rank"]) for r in rows] == pytest.approx([5 / 3, 3.0, 4 / 3])
    assert "Mean rank (test acc.)" in report(capsys, tmp_path)[1]
    # The pairs still put the better-ranked strategy first (A in A - B).
    first = csv_table(capsys, tmp_path, "pairwise")[0]
    assert (first["a"], first["b"]) == ("z", "b")


def test_mean_and_sample_std_match_numpy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_runs(tmp_path, RANKED)
    rows = {r["strategy"]: r for r in csv_table(capsys, tmp_path, "summary")}
    for name, values in RANKED.items():
        assert float(rows[name]["test_accuracy_mean"]) == pytest.approx(np.mean(values))
        assert float(rows[name]["test_accuracy_std"]) == pytest.approx(np.std(values, ddof=1))
        assert rows[name]["runs"] == "3" and rows[name]["seeds"] == "0 1 2"
    _, markdown, _ = report(capsys, tmp_path)
    assert f"{100 * np.mean(RANKED['a']):.2f} ± {100 * np.std(RANKED['a'], ddof=1):.2f}" in markdown


def test_iqm_has_a_bootstrap_ci_equal_to_scipys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    values = [0.91, 0.93, 0.92, 0.96, 0.90, 0.94, 0.95, 0.93, 0.97, 0.92, 0.91, 0.94]
    write_runs(tmp_path, {"a": values})
    (row,) = csv_table(capsys, tmp_path, "summary")
    expected = stats.bootstrap(
        (np.array(values),),
        lambda x, axis: stats.trim_mean(x, 0.25, axis=axis),
        vectorized=True,
        n_resamples=9_999,
        method="percentile",
        rng=0,
    ).confidence_interval
    assert row["iqm_interval"] == "95% CI"
    assert float(row["test_accuracy_iqm"]) == pytest.approx(stats.trim_mean(values, 0.25))
    assert float(row["iqm_interval_low"]) == pytest.approx(expected.low)
    assert float(row["iqm_interval_high"]) == pytest.approx(expected.high)
    assert float(row["iqm_interval_low"]) <= float(row["test_accuracy_iqm"]) <= float(row["iqm_interval_high"])
    out = report(capsys, tmp_path)[1]
    assert "Test acc. % IQM [95% CI]" in out
    # Same files, same interval: the bootstrap is seeded.
    assert report(capsys, tmp_path)[1] == out


def test_few_runs_show_their_range_and_the_header_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Old: "IQM [95% CI]" over 3 runs, where the percentile bootstrap is exactly [min, max] and covers ~75%."""
    write_runs(tmp_path, RANKED)
    _, out, _ = report(capsys, tmp_path)
    summary = out.split("### Friedman")[0]
    assert "Test acc. % IQM [min, max]" in summary and "95% CI]" not in summary
    assert "76.67 [50.00, 90.00]" in out  # a's IQM (of 3 runs: their mean) and range
    rows = {r["strategy"]: r for r in csv_table(capsys, tmp_path, "summary")}
    assert rows["a"]["iqm_interval"] == "range"
    assert (float(rows["a"]["iqm_interval_low"]), float(rows["a"]["iqm_interval_high"])) == (0.5, 0.9)
    # Mixed: the header says which rows get which.
    write_runs(tmp_path, {"d": [0.9 + i / 1000 for i in range(MIN_RUNS_FOR_CI)]})
    _, out, _ = report(capsys, tmp_path)
    assert f"IQM [95% CI; min, max below {MIN_RUNS_FOR_CI} runs]" in out


def test_one_run_or_equal_runs_say_what_their_interval_is(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_runs(tmp_path, {"one": [0.9], "same": [0.8, 0.8]})
    code, out, err = report(capsys, tmp_path)
    assert code == 0, err
    assert "90.00 ± n/a" in out and "[n/a: 1 run]" in out and "80.00 [80.00, 80.00]" in out


# ----------------------------------------------------------------------------- pairwise


def test_wilcoxon_p_equals_scipys_with_enough_seeds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    b = [0.90, 0.91, 0.92, 0.93, 0.94, 0.95, 0.96, 0.97]
    diffs = [0.010, 0.020, -0.005, 0.030, 0.015, 0.025, 0.012, -0.002]
    write_runs(tmp_path, {"a": [x + d for x, d in zip(b, diffs)], "b": b})
    (pair,) = csv_table(capsys, tmp_path, "pairwise")
    paired = np.round(np.array([x + d for x, d in zip(b, diffs)]) - np.array(b), 6)  # no ties: exact = scipy's
    assert (pair["a"], pair["b"], pair["n_pairs"]) == ("a", "b", "8")
    assert float(pair["wilcoxon_p"]) == pytest.approx(stats.wilcoxon(paired, method="exact").pvalue, rel=1e-12)
    assert pair["wilcoxon_method"] == "exact" and float(pair["holm_p"]) == float(pair["wilcoxon_p"])  # one pair
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
    pairs = {(p["a"], p["b"]): p for p in csv_table(capsys, tmp_path, "pairwise")}
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


def test_the_files_the_bench_writes_beside_results_are_not_reported_as_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Old: `tuning report results/standard` said "skipped .../throughput.json", a file the bench itself writes."""
    from tuning.bench.calibration import CALIBRATION, write_throughput

    write_runs(tmp_path, {"a": [0.9, 0.8]})
    write_throughput(
        tmp_path, {"kind": "cpu", "name": "Test CPU"}, [{"architecture": CALIBRATION, "samples_per_second": 1.0}]
    )
    (tmp_path / "side-by-side-seed0.json").write_text(json.dumps({"kind": "side-by-side", "seed": 0}))
    code, out, err = report(capsys, tmp_path)
    assert (code, err) == (0, "") and "| a " in out


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


def test_markdown_has_every_table_and_a_provenance_footer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_runs(tmp_path, RANKED)
    _, out, _ = report(capsys, tmp_path, "--format", "github")
    titles = ("Summary", "Friedman test", "Pairwise", "Anytime")
    assert all(f"### {t} (smoke)" in out for t in titles)
    # Once per budget, not under each table (the same 10 lines 4 times over said nothing new).
    assert out.count("### Provenance (smoke)") == 1 and "Provenance of this table" not in out
    for needle in (
        "2,000 training / 1,000 validation images",
        "epoch budget 6",
        "Seeds: 0, 1, 2",
        "Test CPU",
        "numpy 2.0.0",
        "0123456789ab (clean)",
        "MNIST from synthetic",
    ):
        assert needle in out, needle
    assert "torch" not in out  # libraries not installed are left out
    assert "|---" in out or "|:--" in out
    _, only, _ = report(capsys, tmp_path, "--table", "friedman")
    assert "### Friedman test (smoke)" in only and "### Summary" not in only and only.count("### Provenance") == 1


def test_latex_is_booktabs_ascii_with_escaped_captions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_runs(tmp_path, {"my_strategy": [0.9, 0.8], "b": [0.7, 0.75]})
    _, out, _ = report(capsys, tmp_path, "--format", "latex")
    # Two strategies: summary, pairwise and anytime tables; the Friedman test (3 or more) is a comment.
    assert out.count(r"\toprule") == 3 and out.count(r"\bottomrule") == 3 and out.count(r"\caption{") == 3
    assert "% Friedman test, Problem mnist-mlp, budget smoke" in out
    assert r"my\_strategy" in out and "my_strategy" not in out.replace(r"my\_strategy", "")
    assert "Provenance: Budget: smoke" in out and r"IQM [min, max]" in out
    assert out.isascii()  # pdflatex takes it as is


def test_latex_compiles(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The LaTeX output, every table, in a minimal document: pdflatex must accept it without an error."""
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        pytest.skip("pdflatex not on PATH (apt-get install texlive-latex-base texlive-latex-recommended; .ci/run does)")
    write_runs(tmp_path / "results", {"my_strategy": [0.9, 0.8, 0.85], "b": [0.7, 0.75, 0.8], "c%": [0.6, 0.9, 0.7]})
    write(tmp_path / "results", result("b", 9, 0.5))  # unequal seeds: the warning goes into the captions
    _, out, _ = report(capsys, tmp_path / "results", "--format", "latex", "--optimum", "smoke=0.9")
    document = "\n".join(
        [
            r"\documentclass{article}",
            r"\usepackage{booktabs}",
            r"\usepackage{graphicx}",
            r"\begin{document}",
            out,
            r"\end{document}",
        ]
    )
    (tmp_path / "report.tex").write_text(document)
    proc = subprocess.run(
        [pdflatex, "-interaction=nonstopmode", "-halt-on-error", "report.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert (tmp_path / "report.pdf").stat().st_size > 0
    log = (tmp_path / "report.log").read_text(errors="replace")
    assert "Missing character" not in log and "Undefined control sequence" not in log


@pytest.mark.parametrize("table", TABLES)
def test_csv_is_one_rectangular_table_per_file(table: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Old: two tables of different widths in one file, which csv and pandas readers take as one."""
    write_runs(tmp_path / "here", RANKED, timings=(0.25, 0.125))
    write_runs(tmp_path / "here", {"a": [0.9, 0.8], "b": [0.7, 0.6]}, budget="standard", timings=(0.25, 0.125))
    write_runs(tmp_path / "ref", RANKED)
    rows = csv_table(capsys, tmp_path / "here", table, "--reference", str(tmp_path / "ref"), "--optimum", "smoke=0.9")
    assert rows and {r["budget"] for r in rows} <= {"smoke", "standard"}
    for row in rows:
        assert row["provenance_budget" if table != "reference" else "provenance_local_budget"].startswith(row["budget"])
    expected = {"summary": 5, "friedman": 2, "pairwise": 4, "anytime": 5, "time": 5, "reference": 4}[table]
    assert len(rows) == expected


def test_time_table_sums_where_each_strategys_time_went(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Three trials a run, each 1.0 s of training steps of which 0.25 s compiling, and 0.125 s of validation;
    runs of seeds 0 and 1 take 10 and 11 s.  A run without the breakdown (an older file) is left out, and said."""
    write_runs(tmp_path, {"a": [0.9, 0.8]}, timings=(0.25, 0.125))
    write_runs(tmp_path, {"b": [0.7]})
    (row,) = csv_table(capsys, tmp_path, "time")
    assert row["strategy"] == "a" and row["runs"] == "2" and row["runs_without_timings"] == "0"
    got = {
        k: float(row[k])
        for k in (
            "wall_clock_seconds",
            "share_of_all_wall_clock",
            "step_seconds",
            "compile_seconds",
            "validation_seconds",
            "rest_seconds",
            "wall_per_step",
            "wall_per_step_and_validation",
        )
    }
    assert got == pytest.approx(
        {
            "wall_clock_seconds": 21.0,
            "share_of_all_wall_clock": 1.0,
            "step_seconds": 4.5,
            "compile_seconds": 1.5,
            "validation_seconds": 0.75,
            "rest_seconds": 14.25,
            "wall_per_step": 21 / 4.5,
            "wall_per_step_and_validation": 21 / 5.25,
        }
    )
    _, out, _ = report(capsys, tmp_path, "--table", "time")
    assert "| a " in out and "| b " not in out and "Left out: 1 run(s) without these timings" in out
    (line,) = [line for line in out.splitlines() if line.startswith("| a ")]
    assert [c.strip() for c in line.strip("|").split("|")] == [
        "a",
        "2",
        "21.0",
        "100.0",
        "21.4",
        "7.1",
        "3.6",
        "67.9",
        "4.67",
        "4.00",
    ]


def test_time_table_gives_each_strategys_share_of_all_the_runs_wall_clock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """a's runs take 10 + 11 s, c's one run 10 s: a bench of 31 s, two thirds of it a's."""
    write_runs(tmp_path, {"a": [0.9, 0.8], "c": [0.7]}, timings=(0.25, 0.125))
    rows = {r["strategy"]: float(r["share_of_all_wall_clock"]) for r in csv_table(capsys, tmp_path, "time")}
    assert rows == pytest.approx({"a": 21 / 31, "c": 10 / 31})


def test_csv_without_a_table_is_refused_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_runs(tmp_path, RANKED)
    code, out, err = report(capsys, tmp_path, "--format", "csv")
    assert (code, out) == (2, "") and err.count("\n") == 1
    assert "csv holds one table per file: choose --table summary | friedman | pairwise" in err


def test_csv_rows_carry_provenance(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_runs(tmp_path, RANKED)
    for table, n in (("summary", 3), ("pairwise", 3)):
        rows = csv_table(capsys, tmp_path, table)
        assert len(rows) == n
        for row in rows:
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
    assert (
        "## Problem mnist-mlp, budget smoke: 2 strategies, seeds 0, 1" in out
        and "## Problem mnist-mlp, budget standard: 2 strategies, seeds 0" in out
    )
    smoke, standard = out.split("## Problem mnist-mlp, budget standard")
    assert "12,000 training" in standard and "12,000 training" not in smoke
    summary = csv_table(capsys, tmp_path, "summary")
    assert [(r["budget"], r["strategy"]) for r in summary] == [
        ("smoke", "a"),
        ("smoke", "b"),
        ("standard", "a"),
        ("standard", "b"),
    ]


# ----------------------------------------------------------------------------- plots


def test_plot_writes_curves_and_the_cd_diagram_as_png_and_svg(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_runs(tmp_path / "results", RANKED, scores=(0.8, None, 0.85))
    code, _, err = report(capsys, tmp_path / "results", "--plot", tmp_path / "out" / "curves.png")
    assert code == 0, err
    for stem in ("curves", "curves-cd"):
        png, svg = tmp_path / "out" / f"{stem}.png", tmp_path / "out" / f"{stem}.svg"
        assert png.read_bytes().startswith(b"\x89PNG") and "<svg" in svg.read_text()
        assert f"wrote {png}" in err and f"wrote {svg}" in err
    (tmp_path / "file").write_text("")
    code, out, err = report(capsys, tmp_path / "results", "--plot", tmp_path / "file" / "curves")
    assert (code, out, err.count("\n")) == (2, "", 1) and "cannot write the plot" in err
    assert plot_paths(Path("x/curves")) == (Path("x/curves.png"), Path("x/curves.svg"))
    assert plot_paths(Path("x/run.v2"), "-cd") == (Path("x/run.v2-cd.png"), Path("x/run.v2-cd.svg"))


def test_curves_keep_the_legend_off_the_data_and_draw_one_run_as_points(tmp_path: Path) -> None:
    files = [result_file(n, s, a) for n, values in RANKED.items() for s, a in enumerate(values)]
    section = Section([*files, result_file("solo", 0, 0.9, scores=(0.7, 0.9, 0.8))])
    fig = curves_figure([section])
    fig.canvas.draw()
    axes = fig.axes
    legend = axes[-1].get_legend()
    assert legend is not None and RANGE_BAND.split(" over")[0] in legend.get_title().get_text()
    assert legend.get_window_extent().x0 >= max(ax.get_window_extent().x1 for ax in axes)  # right of every panel
    best = axes[0]
    solo = [line for line in best.get_lines() if line.get_label() == "solo (n=1)"]
    assert len(solo) == 1 and solo[0].get_linestyle() == "None" and solo[0].get_marker() == "o"
    assert list(solo[0].get_ydata()) == [0.7, 0.9, 0.9]  # its best so far after each trial: points only
    assert len(best.collections) == len(RANKED)  # a band for each strategy with 2 or more seeds, none for solo


def test_best_so_far_curves_are_steps_averaged_over_seeds(tmp_path: Path) -> None:
    run = result_file("a", 0, 0.9, scores=(None, 0.8, 0.7, 0.9))
    x, best = best_so_far(run, "epochs")
    assert list(x) == [2, 4, 6, 8] and np.isnan(best[0]) and list(best[1:]) == [0.8, 0.8, 0.9]
    assert list(on_grid(np.array([2.0, 4.0]), np.array([0.5, 0.6]), np.array([1.0, 2.0, 3.0, 9.0])))[1:] == [
        0.5,
        0.5,
        0.6,
    ]
    runs = [result_file("a", s, 0.9, scores=sc) for s, sc in enumerate([(0.8, 0.9), (0.7, 0.7, 0.95)])]
    grid, mean, low, high = strategy_curve(runs, "epochs")
    assert list(grid) == [2, 4, 6] and list(mean) == pytest.approx([0.75, 0.8, 0.925])
    # Two seeds: the band is their range, not a t-interval stretched by t(0.975, 1) = 12.7.
    assert list(low) == [0.7, 0.7, 0.9] and list(high) == [0.8, 0.9, 0.95]


def test_the_committed_results_get_friedman_post_hoc_and_cd_diagram(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = Path(__file__).resolve().parent.parent / "results"
    code, out, err = report(capsys, results, "--plot", tmp_path / "curves")
    assert code == 0, err
    standard = out.split("## Problem mnist-mlp, budget standard")[1].split("## Problem mnist-mlp, budget paper")[0]
    assert "### Friedman test (standard)" in standard and "Holm p" in standard.split("### Pairwise")[1]
    assert (tmp_path / "curves-cd.png").is_file() and (tmp_path / "curves-cd.svg").is_file()


def test_regret_needs_a_sound_optimum(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_runs(tmp_path, RANKED, scores=(0.80, 0.85, 0.83))
    rows = csv_table(capsys, tmp_path, "anytime", "--optimum", "smoke=0.9")
    assert float(rows[0]["normalized_regret_final"]) == pytest.approx((0.9 - 0.85) / (0.9 - 0.80))
    for optimum, message in (
        ("smoke=0.84", "above the optimum"),
        ("paper=0.9", "has no runs of"),
        ("smoke=1.5", "BUDGET=ACCURACY"),
    ):
        try:
            code = main(["report", str(tmp_path), "--optimum", optimum])
        except SystemExit as e:
            code = e.code
        out, err = capsys.readouterr()
        assert (code, out, err.count("\n")) == (2, "", 1) and message in err, err


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


def test_seed_lists_stay_short_with_hundreds_of_seeds() -> None:
    from tuning.core.seeds import parse_seeds
    from tuning.report.provenance import seed_list

    assert seed_list([2, 0, 1]) == "0, 1, 2"
    assert seed_list([*range(200), 250, 300, 301, 302, 303]) == "0-199, 250, 300-303"
    assert parse_seeds(seed_list([*range(200), 250])) == [*range(200), 250]  # pasteable into --seeds
