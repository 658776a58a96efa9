"""Tables: one budget's summary and pairwise tables as numbers (``Section``), rendered as Markdown, LaTeX or CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tabulate import LATEX_ESCAPE_RULES, tabulate

from tuning.report import FORMATS
from tuning.report.load import ResultFile
from tuning.report.provenance import provenance, seed_list
from tuning.report.statistics import (
    ALPHA,
    BOOTSTRAP_SEED,
    N_RESAMPLES,
    Pair,
    Row,
    pairwise,
    summarise,
)


def _pct(x: float | None, signed: bool = False) -> str:
    if x is None:
        return "n/a"
    return f"{100 * x:+.2f}" if signed else f"{100 * x:.2f}"


SUMMARY_HEADERS = [
    "Strategy",
    "Runs (seeds)",
    "Test acc. % mean ± std",
    "Test acc. % IQM [95% CI]",
    "Best val. acc. % (mean)",
    "Epochs trained (mean)",
    "Wall-clock s (median)",
    "Throughput samples/s (median)",
    "Mean rank",
]

PAIR_HEADERS = ["A", "B", "Shared seeds", "Mean A − B (pp)", "A better / tie / B better", "Wilcoxon p", "Note"]

SUMMARY_NOTES = (
    "Sorted by mean rank: on each seed the strategies are ranked by test accuracy (1 = best, ties averaged; "
    "scipy.stats.rankdata), then ranks are averaged over a strategy's seeds. "
    "std: sample standard deviation (ddof=1), n/a for one run. "
    "IQM: scipy.stats.trim_mean(x, 0.25) (with fewer than 4 runs it trims nothing: the mean); "
    f"95% CI: scipy.stats.bootstrap, percentile method, {N_RESAMPLES:,} resamples, seed {BOOTSTRAP_SEED}; "
    "n/a with one run or when all runs score alike. "
    "Test accuracy is the chosen (best-validation) trial's, on the split's test images; wall-clock is the whole run; "
    "throughput is training samples per second of training-step time."
)

PAIR_NOTES = (
    "Each pair uses only the seeds both strategies ran; A − B is the mean paired difference in test accuracy "
    "(percentage points). p: two-sided Wilcoxon signed-rank test (scipy.stats.wilcoxon, zero differences "
    f"dropped). With n nonzero pairs the smallest possible p is 2/2^n, so fewer than 6 pairs can never give p < {ALPHA}."
)


def summary_display(rows: Sequence[Row]) -> list[list[str]]:
    out = []
    for r in rows:
        ci = f"[{_pct(r.iqm_low)}, {_pct(r.iqm_high)}]" if r.iqm_note is None else f"[n/a: {r.iqm_note}]"
        out.append(
            [
                r.strategy,
                f"{len(r.seeds)} ({seed_list(r.seeds)})",
                f"{_pct(r.test_mean)} ± {_pct(r.test_std)}",
                f"{_pct(r.iqm)} {ci}",
                _pct(r.val_mean),
                f"{r.epochs_mean:g}",
                f"{r.wall_median:.1f}",
                f"{r.throughput_median:,.0f}" if r.throughput_median is not None else "n/a",
                f"{r.mean_rank:.2f}",
            ]
        )
    return out


def pairs_display(pairs: Sequence[Pair]) -> list[list[str]]:
    out = []
    for p in pairs:
        wins = "/".join(str(w) for w in p.wins) if p.seeds else "n/a"
        out.append(
            [
                p.a,
                p.b,
                f"{len(p.seeds)} ({seed_list(p.seeds)})" if p.seeds else "0",
                _pct(p.mean_difference, signed=True),
                wins,
                f"{p.p_value:.4f}" if p.p_value is not None else "n/a",
                p.note or "",
            ]
        )
    return out


def _none(x: Any) -> Any:
    return "" if x is None else x


def summary_csv(rows: Sequence[Row]) -> tuple[list[str], list[list[Any]]]:
    """CSV keeps raw numbers (fractions, not percent) in one column each, for other tools to read."""
    headers = [
        "strategy", "runs", "seeds", "test_accuracy_mean", "test_accuracy_std", "test_accuracy_iqm",
        "iqm_ci95_low", "iqm_ci95_high", "iqm_ci_note", "best_val_accuracy_mean", "epochs_trained_mean",
        "wall_clock_seconds_median", "throughput_samples_per_second_median", "mean_rank",
    ]  # fmt: skip
    body = [
        [
            r.strategy,
            len(r.seeds),
            " ".join(map(str, r.seeds)),
            r.test_mean,
            _none(r.test_std),
            r.iqm,
            _none(r.iqm_low),
            _none(r.iqm_high),
            _none(r.iqm_note),
            r.val_mean,
            r.epochs_mean,
            r.wall_median,
            _none(r.throughput_median),
            r.mean_rank,
        ]  # fmt: skip
        for r in rows
    ]
    return headers, body


def pairs_csv(pairs: Sequence[Pair]) -> tuple[list[str], list[list[Any]]]:
    headers = [
        "a", "b", "shared_seeds", "n_pairs", "mean_difference", "a_better", "ties", "b_better",
        "wilcoxon_p", "note",
    ]  # fmt: skip
    body = [
        [
            p.a,
            p.b,
            " ".join(map(str, p.seeds)),
            len(p.seeds),
            _none(p.mean_difference),
            *p.wins,
            _none(p.p_value),
            p.note,
        ]  # fmt: skip
        for p in pairs
    ]
    return headers, body


@dataclass
class Section:
    """One budget's tables, ready to render in any format."""

    runs: list[ResultFile]
    rows: list[Row] = field(init=False)
    pairs: list[Pair] = field(init=False)
    provenance: list[tuple[str, str]] = field(init=False)

    def __post_init__(self) -> None:
        self.rows = summarise(self.runs)
        self.pairs = pairwise(self.runs, [r.strategy for r in self.rows])
        self.provenance = provenance(self.runs)

    @property
    def budget(self) -> str:
        return self.runs[0].result.budget.name

    @property
    def title(self) -> str:
        seeds = seed_list(r.seed for r in self.runs)
        n = len(self.rows)
        return f"Budget {self.budget}: {n} strateg{'ies' if n != 1 else 'y'}, seeds {seeds}"

    def seed_warning(self) -> str | None:
        """Ranks are only comparable when every strategy ran the same seeds; say so when not."""
        if len({tuple(r.seeds) for r in self.rows}) > 1:
            return (
                "Not every strategy ran the same seeds: each seed's ranks are among the strategies that ran it, "
                "and pairs use only shared seeds."
            )
        return None


def _markdown(sections: Sequence[Section]) -> str:
    def footer(notes: str, section: Section) -> list[str]:
        lines = ["", notes]
        if section.seed_warning():
            lines.append(f"**{section.seed_warning()}**")
        lines += ["", "Provenance:", ""]
        lines += [f"- {label}: {text}" for label, text in section.provenance]
        return lines

    out: list[str] = []
    for s in sections:
        out += [f"## {s.title}", "", f"### Summary ({s.budget})", ""]
        out.append(tabulate(summary_display(s.rows), SUMMARY_HEADERS, tablefmt="github", disable_numparse=True,
                            colalign=("left",) + ("right",) * (len(SUMMARY_HEADERS) - 1)))  # fmt: skip
        out += footer(SUMMARY_NOTES, s)
        out += ["", f"### Pairwise ({s.budget})", ""]
        if not s.pairs:
            out += ["One strategy only: nothing to pair.", ""]
            continue
        out.append(tabulate(pairs_display(s.pairs), PAIR_HEADERS, tablefmt="github", disable_numparse=True,
                            colalign=("left", "left", "left", "right", "right", "right", "left")))  # fmt: skip
        out += footer(PAIR_NOTES, s)
        out.append("")
    return "\n".join(out).rstrip() + "\n"


# tabulate's own cell escaping, plus the two non-ASCII signs the tables use.
_TEX = {**LATEX_ESCAPE_RULES, "±": r"$\pm$", "−": r"$-$"}


def tex_escape(text: str) -> str:
    """Plain text made safe for a LaTeX caption."""
    return "".join(_TEX.get(c, c) for c in text)


def _latex(sections: Sequence[Section]) -> str:
    def table(
        kind: str, s: Section, headers: list[str], body: list[list[str]], notes: str, align: Sequence[str]
    ) -> str:
        caption = f"{kind}, {s.title}. {notes}"
        if s.seed_warning():
            caption += f" {s.seed_warning()}"
        caption += " Provenance: " + "; ".join(f"{label}: {text}" for label, text in s.provenance) + "."
        return "\n".join(
            [
                r"\begin{table}[htbp]",
                r"\centering",
                r"\small",
                rf"\caption{{{tex_escape(caption)}}}",
                rf"\label{{tab:tuning-{kind.lower()}-{tex_escape(s.budget)}}}",
                r"\resizebox{\linewidth}{!}{%",
                tabulate(body, headers, tablefmt="latex_booktabs", disable_numparse=True, colalign=align)
                .replace("±", r"$\pm$")
                .replace("−", r"$-$"),
                r"}",
                r"\end{table}",
            ]
        )

    out = [
        "% Made by python -m tuning report; needs \\usepackage{booktabs} and \\usepackage{graphicx}.",
    ]
    for s in sections:
        out.append(table("Summary", s, SUMMARY_HEADERS, summary_display(s.rows), SUMMARY_NOTES,
                         ("left",) + ("right",) * (len(SUMMARY_HEADERS) - 1)))  # fmt: skip
        if not s.pairs:
            out.append(f"% Budget {s.budget}: one strategy only, no pairwise table.")
            continue
        out.append(table("Pairwise", s, PAIR_HEADERS, pairs_display(s.pairs), PAIR_NOTES,
                         ("left", "left", "left", "right", "right", "right", "left")))  # fmt: skip
    return "\n\n".join(out) + "\n"


def _csv(sections: Sequence[Section]) -> str:
    """Two CSV tables (summary, then pairwise) separated by one empty line.

    Every row carries the provenance in trailing columns, so a row filtered
    out of the file still says how it was made.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for i, (table, make, key) in enumerate((("summary", summary_csv, "rows"), ("pairwise", pairs_csv, "pairs"))):
        if i:
            writer.writerow([])
        header_written = False
        for s in sections:
            headers, body = make(getattr(s, key))
            labels = ["budget", *(f"provenance_{label.lower().replace(' ', '_')}" for label, _ in s.provenance)]
            if not header_written:
                writer.writerow(["table", *headers, *labels])
                header_written = True
            for row in body:
                writer.writerow([table, *row, s.budget,
                                 *(text for _, text in s.provenance)])  # fmt: skip
    return buffer.getvalue()


RENDERERS: dict[str, Callable[[Sequence[Section]], str]] = dict(zip(FORMATS, (_markdown, _latex, _csv)))
