"""Tables: one budget's numbers (``Section``) as ``Table``s, rendered as Markdown, LaTeX or CSV (one table per file).

Every table carries its notes (what each number is and how it was computed)
and its provenance, so a table pasted alone still says how it was made; CSV
repeats the provenance in trailing columns of every row.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tabulate import LATEX_ESCAPE_RULES, tabulate

from tuning.core.errors import UsageError
from tuning.report import FORMATS, TABLES
from tuning.report.anytime import FRACTIONS, Anytime, anytime
from tuning.report.compare import NOTES as COMPARISON_NOTES
from tuning.report.compare import SPREAD_PP, Comparison, compare
from tuning.report.compare import table as comparison_table
from tuning.report.load import ResultFile
from tuning.report.provenance import provenance, seed_list
from tuning.report.significance import (
    EXACT_MAX,
    MARGIN,
    MAX_SEEDS,
    PERMUTATION_MAX_SEEDS,
    POWER,
    UNDECIDED,
    Friedman,
    Pair,
    friedman,
    pairwise,
)
from tuning.report.statistics import (
    ALPHA,
    BOOTSTRAP_SEED,
    CI,
    DECIMALS,
    MIN_RUNS_FOR_CI,
    N_RESAMPLES,
    RANGE,
    Interval,
    Row,
    common_seeds,
    rank_order,
    summarise,
)
from tuning.report.timing import Timing, timings


def _signed_pct(x: float | None) -> str:
    return _pct(x, signed=True)


def _pct(x: float | None, signed: bool = False) -> str:
    if x is None:
        return "n/a"
    return f"{100 * x:+.2f}" if signed else f"{100 * x:.2f}"


def _p(p: float | None) -> str:
    return "n/a" if p is None else "<0.0001" if p < 1e-4 else f"{p:.4f}"


def _none(x: Any) -> Any:
    return "" if x is None else x


@dataclass
class Table:
    """One table, ready for any format: display cells (Markdown, LaTeX) and raw values (CSV)."""

    key: str  # its --table name
    title: str
    headers: list[str]
    rows: list[list[str]]
    align: tuple[str, ...]
    notes: str
    csv_headers: list[str]
    csv_rows: list[list[Any]]
    empty: str = ""  # why there is nothing to tabulate, when there is not
    provenance: list[tuple[str, str]] = field(default_factory=list)


# ----------------------------------------------------------------------------- summary

BOOTSTRAP = (
    f"scipy.stats.bootstrap, percentile method, {N_RESAMPLES:,} resamples, seed {BOOTSTRAP_SEED}, "
    "each strategy's runs resampled (rliable's stratified bootstrap, with one task)"
)

SUMMARY_NOTES = (
    "Sorted by name: every gap in mean rank may lie within the critical difference (see the pairwise table for "
    "which pairs differ), so no order is implied. Mean rank (test acc.): on each seed every strategy ran, the "
    "strategies are ranked by test accuracy (1 = best, ties averaged; "
    f"scipy.stats.rankdata, accuracies rounded to {DECIMALS} decimals), then ranks are averaged over those seeds; "
    "n/a when no seed was run by every strategy. std: sample standard deviation (ddof=1), n/a for one run. "
    "IQM: interquartile mean, scipy.stats.trim_mean(x, 0.25) (below 4 runs it trims nothing: the mean). "
    f"Its interval: with {MIN_RUNS_FOR_CI} or more runs the 95% CI ({BOOTSTRAP}); with fewer runs the range "
    f"[min, max], because a percentile bootstrap of so few runs covers far less than 95% (simulated: 3 runs ~75%, "
    "5 runs ~90%). "
    "Test accuracy is the chosen (best-validation) trial's, on the split's test images; wall-clock is the whole run; "
    "throughput is training samples per second of training-step time."
)


def _iqm_header(rows: Sequence[Row]) -> str:
    kinds = {r.iqm_interval.kind for r in rows} - {""}
    if kinds == {RANGE}:
        return "Test acc. % IQM [min, max]"
    if kinds == {CI}:
        return "Test acc. % IQM [95% CI]"
    if kinds:
        return f"Test acc. % IQM [95% CI; min, max below {MIN_RUNS_FOR_CI} runs]"
    return "Test acc. % IQM"


def _interval(x: Interval, scale: Callable[[float | None], str] = _pct) -> str:
    return f"[{scale(x.low)}, {scale(x.high)}]" if x.kind else f"[n/a: {x.why}]" if x.why else ""


REPLAY_NOTES = (
    " A replay: a trial the table lacks has its test accuracy predicted by the surrogate (no images were counted); "
    "wall-clock and throughput are simulated (recorded or predicted training seconds plus the strategy's measured "
    "decision time)."
)


def summary_table(rows: Sequence[Row], replay: bool = False) -> Table:
    simulated = "Simulated " if replay else ""
    headers = [
        "Strategy",
        "Runs (seeds)",
        "Test acc. % mean ± std" + (" (predicted)" if replay else ""),
        _iqm_header(rows),
        "Best val. acc. % (mean)",
        "Epochs trained (mean)",
        f"{simulated}Wall-clock s (median)".capitalize(),
        f"{simulated}Throughput samples/s (median)".capitalize(),
        "Mean rank (test acc.)",
    ]
    display = [
        [
            r.strategy,
            f"{len(r.seeds)} ({seed_list(r.seeds)})",
            f"{_pct(r.test_mean)} ± {_pct(r.test_std)}",
            f"{_pct(r.iqm)} {_interval(r.iqm_interval)}".rstrip(),
            _pct(r.val_mean),
            f"{r.epochs_mean:g}",
            f"{r.wall_median:.1f}",
            f"{r.throughput_median:,.0f}" if r.throughput_median is not None else "n/a",
            "n/a" if r.mean_rank is None else f"{r.mean_rank:.2f}",
        ]
        for r in rows
    ]
    csv_headers = [
        "strategy",
        "runs",
        "seeds",
        "test_accuracy_mean",
        "test_accuracy_std",
        "test_accuracy_iqm",
        "iqm_interval_low",
        "iqm_interval_high",
        "iqm_interval",
        "best_val_accuracy_mean",
        "epochs_trained_mean",
        "wall_clock_seconds_median",
        "throughput_samples_per_second_median",
        "mean_rank",
    ]
    body = [
        [
            r.strategy,
            len(r.seeds),
            " ".join(map(str, r.seeds)),
            r.test_mean,
            _none(r.test_std),
            r.iqm,
            _none(r.iqm_interval.low),
            _none(r.iqm_interval.high),
            r.iqm_interval.kind or r.iqm_interval.why,
            r.val_mean,
            r.epochs_mean,
            r.wall_median,
            _none(r.throughput_median),
            _none(r.mean_rank),
        ]
        for r in rows
    ]
    align = ("left",) + ("right",) * (len(headers) - 1)
    title, notes = ("Replay summary", SUMMARY_NOTES + REPLAY_NOTES) if replay else ("Summary", SUMMARY_NOTES)
    return Table("summary", title, headers, display, align, notes, csv_headers, body)


# ----------------------------------------------------------------------------- Friedman

FRIEDMAN_NOTES = (
    "Friedman test (Demšar 2006) of test accuracy over the seeds every strategy ran (the blocks): "
    "scipy.stats.friedmanchisquare (tie-corrected chi-square, df = strategies - 1). "
    f"p (permutation): scipy.stats.permutation_test shuffling the strategies' scores within each seed (the test's "
    f"null), exact when there are at most {N_RESAMPLES:,} arrangements ((strategies!)^seeds), else Monte Carlo over "
    f"{N_RESAMPLES:,} random ones (seed {BOOTSTRAP_SEED}); computed up to {PERMUTATION_MAX_SEEDS} seeds, where the chi-square approximation is "
    "rough. Kendall's W = chi2 / (seeds x (strategies - 1)): how consistently the seeds order the strategies, "
    "0 not at all, 1 the same order on every seed; one strategy that is always last (or first) makes W large "
    "however the rest are ordered, so W and p are shown again without the strategy whose removal lowers W most: "
    "only if W stays high do the seeds agree on the order of the rest. "
    f"H0: every strategy is as good as every other; p < {ALPHA} rejects it. The post hoc is the pairwise table's "
    "Holm-corrected Wilcoxon p, drawn in the critical-difference diagram."
)


def friedman_table(f: Friedman) -> Table:
    without = f"W, p (χ²) without {f.without}" if f.without else "W, p (χ²) without one"
    headers = [
        "Strategies",
        "Seeds (run by all)",
        "χ²",
        "df",
        "p (χ²)",
        "p (permutation)",
        "Kendall's W",
        without,
        "Note",
    ]
    k = len(f.strategies)
    stat = None if f.statistic is None else f"{f.statistic:.3f}"
    perm = f"{_p(f.p_permutation)} ({f.permutation})" if f.p_permutation is not None else "n/a"
    empty = f.note if f.statistic is None and len(f.strategies) < 3 else ""
    display = [
        [
            str(k),
            f"{len(f.seeds)} ({seed_list(f.seeds)})" if f.seeds else "0",
            stat or "n/a",
            str(k - 1) if stat else "n/a",
            _p(f.p_chi2),
            perm,
            "n/a" if f.kendall_w is None else f"{f.kendall_w:.3f}",
            "n/a" if f.without_w is None else f"{f.without_w:.3f}, {_p(f.without_p)}",
            f.note,
        ]
    ]
    csv_headers = [
        "strategies",
        "seeds",
        "n_seeds",
        "chi2",
        "df",
        "p_chi2",
        "p_permutation",
        "permutation",
        "kendall_w",
        "without",
        "kendall_w_without",
        "p_chi2_without",
        "note",
    ]
    body = [
        [
            " ".join(f.strategies),
            " ".join(map(str, f.seeds)),
            len(f.seeds),
            _none(f.statistic),
            k - 1 if stat else "",
            _none(f.p_chi2),
            _none(f.p_permutation),
            f.permutation,
            _none(f.kendall_w),
            _none(f.without),
            _none(f.without_w),
            _none(f.without_p),
            f.note,
        ]
    ]
    align = ("right", "left", "right", "right", "right", "right", "right", "right", "left")
    if not f.note:
        headers, display, align = headers[:-1], [row[:-1] for row in display], align[:-1]
    return Table("friedman", "Friedman test", headers, display, align, FRIEDMAN_NOTES, csv_headers, body, empty)


# ----------------------------------------------------------------------------- pairwise

PAIR_NOTES = (
    "Each pair uses only the seeds both strategies ran; A − B is the mean paired difference in test accuracy "
    f"(percentage points; differences rounded to {DECIMALS} decimals, so equal accuracy differences tie). "
    "Wilcoxon p: two-sided Wilcoxon signed-rank test, zero differences dropped; exact (scipy.stats.permutation_test "
    f"over all 2^n sign patterns, ties included) up to {EXACT_MAX} nonzero pairs, else scipy.stats.wilcoxon's normal "
    "approximation with tie correction. With n nonzero pairs the smallest possible p is 2/2^n, so fewer than 6 pairs "
    f"can never give p < {ALPHA}. "
    f"Holm p: Holm's step-down correction over every pair tested (statsmodels multipletests); * marks Holm p < {ALPHA}. "
    "P(A > B): probability of improvement (Agarwal et al. 2021), the chance that a run of A scores above a run of B, "
    f"ties half, over all runs of each (Mann-Whitney U / (n m)); its 95% CI ({BOOTSTRAP}) needs {MIN_RUNS_FOR_CI} "
    "runs of each, and is n/a where every resample gives the same value (every run of one above every run of the "
    "other: no spread to resample, not certainty). "
    "[95% CI]: the t-interval of the mean paired difference (scipy.stats.ttest_1samp). "
    "Verdict, against the margin ±{margin} pp: equivalent when the two one-sided t-tests (TOST, statsmodels "
    f"ttost_mean), Holm-corrected over the pairs, give p < {ALPHA} (the difference lies within the margin); else better "
    f"or worse (A against B) when the Holm-corrected Wilcoxon p < {ALPHA}; else undecided, which is not equal. An "
    'equivalent pair the Wilcoxon test also separates says so: "equivalent (better, by less than the margin)". '
    f"Detectable: the smallest mean difference these seeds find with {POWER:.0%} power (paired t-test, statsmodels "
    f"TTestPower, at {ALPHA} / pairs, Holm's strictest step, with the pair's observed spread). Seeds to decide: for an "
    "undecided pair, the seeds per strategy with which, at the observed mean and spread, the difference would be "
    f'detected or the equivalence shown with {POWER:.0%} power ("> {MAX_SEEDS:,}": not in practice).'
)


def _seeds_to_decide(p: Pair) -> str:
    if p.verdict != UNDECIDED:
        return ""
    return f"> {MAX_SEEDS:,}" if p.seeds_to_decide is None else str(p.seeds_to_decide)


def pairs_table(pairs: Sequence[Pair]) -> Table:
    margin = f"{100 * (pairs[0].margin if pairs else MARGIN):g}"
    headers = [
        "A",
        "B",
        "Shared seeds",
        "Mean A − B (pp) [95% CI]",
        f"Verdict (margin ±{margin} pp)",
        "A better / tie / B better",
        "P(A > B)",
        "Wilcoxon p",
        "Holm p",
        "TOST Holm p",
        "Detectable (pp)",
        "Seeds to decide",
        "Note",
    ]
    display = []
    for p in pairs:
        improvement = "n/a" if p.improvement is None else f"{p.improvement:.2f}"
        if p.improvement_interval.kind or p.improvement_interval.why:
            improvement += " " + _interval(p.improvement_interval, scale=lambda x: f"{x:.2f}")
        display.append(
            [
                p.a,
                p.b,
                f"{len(p.seeds)} ({seed_list(p.seeds)})" if p.seeds else "0",
                f"{_pct(p.mean_difference, signed=True)} {_interval(p.difference_interval, _signed_pct)}".rstrip(),
                p.verdict + (f" ({p.trivial}, by less than the margin)" if p.trivial else ""),
                "/".join(str(w) for w in p.wins) if p.seeds else "n/a",
                improvement,
                _p(p.p_value),
                _p(p.p_holm) + (" *" if p.significant else ""),
                _p(p.tost_holm),
                _pct(p.detectable),
                _seeds_to_decide(p),
                p.note,
            ]
        )
    csv_headers = [
        "a",
        "b",
        "shared_seeds",
        "n_pairs",
        "mean_difference",
        "mean_difference_ci95_low",
        "mean_difference_ci95_high",
        "verdict",
        "margin",
        "a_better",
        "ties",
        "b_better",
        "probability_of_improvement",
        "poi_ci95_low",
        "poi_ci95_high",
        "poi_interval",
        "wilcoxon_p",
        "wilcoxon_method",
        "holm_p",
        "tost_p",
        "tost_holm_p",
        "detectable_difference",
        "seeds_to_decide",
        "note",
    ]
    body = [
        [
            p.a,
            p.b,
            " ".join(map(str, p.seeds)),
            len(p.seeds),
            _none(p.mean_difference),
            _none(p.difference_interval.low),
            _none(p.difference_interval.high),
            p.verdict,
            p.margin,
            *p.wins,
            _none(p.improvement),
            _none(p.improvement_interval.low),
            _none(p.improvement_interval.high),
            p.improvement_interval.kind or p.improvement_interval.why,
            _none(p.p_value),
            p.method,
            _none(p.p_holm),
            _none(p.tost_p),
            _none(p.tost_holm),
            _none(p.detectable),
            _seeds_to_decide(p),
            p.note,
        ]
        for p in pairs
    ]
    align = (
        "left",
        "left",
        "left",
        "right",
        "left",
        "right",
        "right",
        "right",
        "right",
        "right",
        "right",
        "right",
        "left",
    )
    notes = PAIR_NOTES.replace("{margin}", margin)
    shared = {p.note for p in pairs}
    if len(pairs) > 1 and len(shared) == 1 and "" not in shared:
        # The same note on every row says nothing about a row: once, under the table (CSV keeps it per row).
        headers, display, align = headers[:-1], [row[:-1] for row in display], align[:-1]
        notes = f"Every pair: {shared.pop()}. {notes}"
    empty = "" if pairs else "One strategy only: nothing to pair."
    return Table("pairwise", "Pairwise", headers, display, align, notes, csv_headers, body, empty)


# ----------------------------------------------------------------------------- anytime


def anytime_table(a: Anytime | None) -> Table:
    notes = (
        "Anytime performance along the epoch budget, over the seeds every strategy ran: on each seed the strategies "
        "are ranked by best validation accuracy so far (1 = best, ties averaged), then ranks are averaged over seeds; "
        "read at a fraction of the epoch budget (the last trial that ended by then counts), and averaged over the "
        "budget (area under the rank curve / its length). Ranks start where every strategy has a validation score "
        "on every seed (n/a before: a strategy with no score yet is not last, it has not been compared). "
        "These are ranks by validation accuracy, what a strategy sees while it searches; the summary's mean rank is "
        "by the test accuracy of the trial chosen, so the two can differ at 100%."
    )
    headers, csv_headers = ["Strategy"], ["strategy"]
    if a is None or len(a.strategies) < 2:
        why = "One strategy only: no ranks." if a is not None else "No seed was run by every strategy: no ranks."
        return Table("anytime", "Anytime", headers, [], ("left",), notes, csv_headers, [], why)
    marks = [f"{round(100 * f)}% ({f * a.epoch_budget:g} epochs)" for f in FRACTIONS]
    headers += [f"Mean rank (val. acc.) at {m}" for m in marks] + ["Mean rank (val. acc.) over the budget"]
    csv_headers += [f"mean_rank_at_{round(100 * f)}pct" for f in FRACTIONS] + ["mean_rank_over_budget"]
    columns = [a.at(a.ranks, f) for f in FRACTIONS] + [a.over_budget(a.ranks)]
    cells = [["n/a" if np.isnan(v) else f"{v:.2f}" for v in col] for col in columns]
    if a.regret is not None:
        notes += (
            f" Normalized regret = (optimum − best so far) / (optimum − worst): optimum {a.optimum:.6g} (given), "
            f"worst {a.worst:.6g} (the lowest validation score of any trial in this budget); 0 is the optimum; "
            "mean over seeds."
        )
        headers += ["Normalized regret at 100%", "Normalized regret over the budget"]
        csv_headers += ["normalized_regret_final", "normalized_regret_over_budget", "optimum", "worst"]
        regret = [a.at(a.regret, 1.0), a.over_budget(a.regret)]
        columns += regret + [[a.optimum] * len(a.strategies), [a.worst] * len(a.strategies)]
        cells += [[f"{v:.4f}" for v in col] for col in regret]
    display = [[name, *(col[i] for col in cells)] for i, name in enumerate(a.strategies)]
    body = [
        [name, *(_none(None if np.isnan(col[i]) else float(col[i])) for col in columns)]
        for i, name in enumerate(a.strategies)
    ]
    start = a.ranked_from
    seeds = f" Seeds: {seed_list(a.seeds)}." + (
        f" Ranked from {start:g} epochs on." if start is not None else " No point where every strategy has a score."
    )
    align = ("left",) + ("right",) * (len(headers) - 1)
    return Table("anytime", "Anytime", headers, display, align, notes + seeds, csv_headers, body)


# ----------------------------------------------------------------------------- time


TIME_NOTES = (
    "Where the wall-clock went, summed over each strategy's runs (shares of the total wall-clock). "
    "Share of all: the strategy's part of all the runs' wall-clock in this table (a bench's time, run by run). "
    "Steps: training steps, without compiling. "
    "Compile: what JAX reports (jax.monitoring) for preparing programs while training - tracing the step, lowering "
    "it, compiling it or loading it from the cache - mostly a new model's first call (TensorFlow reports none: "
    "there it stays in the steps). "
    "Validation: scoring the validation images after each epoch, which the protocol needs. "
    "Rest: everything else (building models, the strategy's decisions, Keras Tuner's bookkeeping, scoring the "
    "test images, writing state). "
    "Wall / steps and wall / (steps + validation): ratios of the sums; 1.00 would be a run that does nothing else."
)


def time_table(timings: Sequence[Timing]) -> Table:
    headers = [
        "Strategy",
        "Runs",
        "Wall-clock s (total)",
        "Share of all %",
        "Steps %",
        "Compile %",
        "Validation %",
        "Rest %",
        "Wall / steps",
        "Wall / (steps + validation)",
    ]
    csv_headers = [
        "strategy",
        "runs",
        "runs_without_timings",
        "wall_clock_seconds",
        "share_of_all_wall_clock",
        "step_seconds",
        "compile_seconds",
        "validation_seconds",
        "rest_seconds",
        "wall_per_step",
        "wall_per_step_and_validation",
    ]
    shown = [t for t in timings if t.runs]
    total = sum(t.wall for t in shown)
    display = [
        [
            t.strategy,
            str(t.runs),
            f"{t.wall:.1f}",
            f"{100 * t.wall / total:.1f}" if total > 0 else "-",
            *(f"{100 * t.share(x):.1f}" for x in (t.steps, t.compile, t.validation, t.rest)),
            f"{t.wall_per_step:.2f}",
            f"{t.wall_per_protocol:.2f}",
        ]
        for t in shown
    ]
    body = [
        [
            t.strategy,
            t.runs,
            t.skipped,
            t.wall,
            t.wall / total if total > 0 else float("nan"),
            t.steps,
            t.compile,
            t.validation,
            t.rest,
            t.wall_per_step,
            t.wall_per_protocol,
        ]
        for t in shown
    ]
    notes = TIME_NOTES
    skipped = sum(t.skipped for t in timings)
    if skipped:
        notes += f" Left out: {skipped} run(s) without these timings (replays, or files from before they were kept)."
    empty = "" if shown else "No run here recorded where its time went (replays and older files do not)."
    align = ("left",) + ("right",) * (len(headers) - 1)
    return Table("time", "Where the time goes", headers, display, align, notes, csv_headers, body, empty)


# ----------------------------------------------------------------------------- local against reference


def reference_table(c: Comparison | None) -> Table | None:
    if c is None:
        return None
    headers, display, csv_headers, body = comparison_table(c)
    align = ("left", "left") + ("right",) * (len(headers) - 3) + ("left",)
    notes = COMPARISON_NOTES.format(spread=f"{c.spread_pp:g}")
    for label, unmatched in (("Local only", c.local_only), ("Reference only", c.reference_only)):
        if unmatched:
            notes += f" {label} (not compared): {', '.join(unmatched)}."
    return Table(
        "reference",
        "Local against the reference",
        headers,
        display,
        align,
        notes,
        csv_headers,
        body,
        "" if display else c.empty,
        c.provenance,
    )


# ----------------------------------------------------------------------------- a budget's section


@dataclass
class Section:
    """One budget's runs and every number its tables show (optionally beside a reference's runs)."""

    runs: list[ResultFile]
    optimum: float | None = None
    reference: list[ResultFile] | None = None
    spread_pp: float = SPREAD_PP
    margin: float = MARGIN
    rows: list[Row] = field(init=False)
    pairs: list[Pair] = field(init=False)
    friedman: Friedman = field(init=False)
    anytime: Anytime | None = field(init=False)
    comparison: Comparison | None = field(init=False)
    timings: list[Timing] = field(init=False)
    provenance: list[tuple[str, str]] = field(init=False)

    def __post_init__(self) -> None:
        self.rows = summarise(self.runs)
        order = rank_order(self.rows)
        self.pairs = pairwise(self.runs, order, self.margin)
        self.friedman = friedman(self.runs, order)
        self.anytime = anytime(self.runs, order, self.optimum)
        self.comparison = None if self.reference is None else compare(self.runs, self.reference, self.spread_pp)
        self.timings = timings(self.runs, order)
        self.provenance = provenance(self.runs)

    @property
    def budget(self) -> str:
        return self.runs[0].result.budget.name

    @property
    def problem(self) -> str:
        return self.runs[0].problem

    @property
    def replay(self) -> bool:
        return self.runs[0].result.mode == "replay"

    @property
    def title(self) -> str:
        seeds = seed_list(r.seed for r in self.runs)
        n = len(self.rows)
        kind = "Replay (predicted accuracies, simulated clock) of problem" if self.replay else "Problem"
        return f"{kind} {self.problem}, budget {self.budget}: {n} strateg{'ies' if n != 1 else 'y'}, seeds {seeds}"

    def replay_warning(self) -> str:
        """For a replay: its certificate's warning (``certificate.json`` beside its runs), printed above every table."""
        if not self.replay:
            return ""
        from tuning.report import certificate

        path = self.runs[0].path.parent / certificate.FILE
        try:
            return certificate.warning(json.loads(path.read_text()))
        except (OSError, ValueError, KeyError, TypeError):
            return certificate.warning(None)

    def seed_warning(self) -> str | None:
        """Ranks are only comparable when every strategy ran the same seeds; say so when not."""
        if len({tuple(r.seeds) for r in self.rows}) > 1:
            common = common_seeds(self.runs)
            return (
                "Not every strategy ran the same seeds: mean ranks, the Friedman test and anytime ranks use only the "
                f"seeds all ran ({seed_list(common) if common else 'none'}), pairs only the seeds both ran."
            )
        return None

    def tables(self, which: str = "all") -> list[Table]:
        tables = [
            summary_table(self.rows, self.replay),
            friedman_table(self.friedman),
            pairs_table(self.pairs),
            anytime_table(self.anytime),
            time_table(self.timings),
            reference_table(self.comparison),
        ]
        chosen = [t for t in tables if t is not None and which in ("all", t.key)]
        for t in chosen:
            t.provenance = t.provenance or self.provenance
        return chosen


# ----------------------------------------------------------------------------- renderers


def _markdown(sections: Sequence[Section], which: str) -> str:
    out: list[str] = []
    for s in sections:
        out += [f"## {s.title}", ""]
        for t in s.tables(which):
            out += [f"### {t.title} ({s.budget})", ""]
            if s.replay_warning():
                out += [s.replay_warning(), ""]
            if t.empty:
                out += [t.empty, ""]
                continue
            out += [
                tabulate(t.rows, t.headers, tablefmt="github", disable_numparse=True, colalign=t.align),
                "",
                t.notes,
            ]
            if s.seed_warning():
                out.append(f"**{s.seed_warning()}**")
            out.append("")
            if t.provenance is not s.provenance:  # a table from other runs (the reference) says where it came from
                out += [f"Provenance of this table ({t.title}):", ""]
                out += [f"- {label}: {text}" for label, text in t.provenance] + [""]
        # Once per budget: the same lines under every table said nothing new (four times per budget before).
        out += [f"### Provenance ({s.budget}): every table above", ""]
        out += [f"- {label}: {text}" for label, text in s.provenance] + [""]
    return "\n".join(out).rstrip() + "\n"


# tabulate's own cell escaping, plus every non-ASCII sign the tables use: pdflatex takes the output as is.
_TEX = {
    **LATEX_ESCAPE_RULES,
    "±": r"$\pm$",
    "−": r"$-$",
    "≥": r"$\geq$",
    "χ": r"$\chi$",
    "²": r"\textsuperscript{2}",
    "š": r"\v{s}",
    "×": r"$\times$",
    "–": "--",
}


def tex_escape(text: str) -> str:
    """Plain text made safe for LaTeX, ASCII only."""
    return "".join(_TEX.get(c, c) for c in text)


def _latex(sections: Sequence[Section], which: str) -> str:
    out = [
        "% Made by python -m tuning report --format latex; needs \\usepackage{booktabs} and \\usepackage{graphicx}.",
    ]
    for s in sections:
        first = None  # the section's first table carries its provenance in full; the others refer to it
        for t in s.tables(which):
            if t.empty:
                out.append(f"% {t.title}, {s.title}: {t.empty}")
                continue
            label = re.sub(r"[^A-Za-z0-9]+", "-", f"tab:tuning-{t.key}-{s.budget}")
            notes = tex_escape(t.notes + (f" {s.seed_warning()}" if s.seed_warning() else ""))
            if first is None or t.provenance is not s.provenance:
                full = " Provenance: " + "; ".join(f"{label}: {text}" for label, text in t.provenance) + "."
                notes += tex_escape(full)
                first = first or label
            else:
                notes += rf" Provenance: as Table~\ref{{{first}}}."
            body = tabulate(
                [[tex_escape(c) for c in row] for row in t.rows],
                [tex_escape(h) for h in t.headers],
                tablefmt="latex_raw",
                disable_numparse=True,
                colalign=t.align,
            )
            out.append(
                "\n".join(
                    [
                        r"\begin{table}[htbp]",
                        r"\centering",
                        rf"\caption{{{tex_escape(f'{t.title}, {s.title}.')}}}",
                        rf"\label{{{label}}}",
                        r"\resizebox{\linewidth}{!}{%",
                        _booktabs(body),
                        r"}",
                        # The notes and the provenance travel with the table, in small print under it.
                        r"\par\smallskip\begin{minipage}{\linewidth}\scriptsize",
                        notes,
                        r"\end{minipage}",
                        r"\end{table}",
                    ]
                )
            )
    return "\n\n".join(out) + "\n"


def _booktabs(tabular: str) -> str:
    """tabulate's ``latex_raw`` rules as booktabs rules (``latex_booktabs`` would escape our escapes again)."""
    lines = tabular.splitlines()
    rules = [i for i, line in enumerate(lines) if line.strip() == r"\hline"]
    for i, rule in zip(rules, (r"\toprule", r"\midrule", r"\bottomrule")):
        lines[i] = rule
    return "\n".join(lines)


def _csv(sections: Sequence[Section], which: str) -> str:
    """One rectangular table: a header row, then one row per line of every budget's table.

    Every row carries its budget and the provenance in trailing columns, so a
    row filtered out of the file still says how it was made.
    """
    if which == "all":
        raise UsageError(f"csv holds one table per file: choose --table {' | '.join(TABLES)}")
    records: list[dict[str, Any]] = []
    for s in sections:
        for t in s.tables(which):
            trailer = {"budget": s.budget} | {
                f"provenance_{label.lower().replace(' ', '_')}": text for label, text in t.provenance
            }
            records += [dict(zip(t.csv_headers, row)) | trailer for row in t.csv_rows]
    # Budgets may differ in optional columns (regret where an optimum was given): the header is their union.
    fields = list(dict.fromkeys(k for record in records for k in record))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fields, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return buffer.getvalue()


RENDERERS: dict[str, Callable[[Sequence[Section], str], str]] = dict(zip(FORMATS, (_markdown, _latex, _csv)))
