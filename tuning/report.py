"""``tuning report DIR``: citable tables (and plots) from the result files under a directory.

Data flows one way: this module only reads result JSON; it never imports
Keras or TensorFlow, so a report is quick and runs where nothing was trained.

What it prints, per budget found under DIR (mixed budgets are reported one
section per budget, never pooled: their accuracies are not comparable):

* a summary table, one row per strategy, sorted by mean rank across seeds;
* a pairwise table: paired test-accuracy differences over the seeds two
  strategies share, with the Wilcoxon signed-rank p-value;
* under each table its provenance (budget, seeds, split, devices, library
  versions, commits), so a pasted table still says how it was made.

Every ``*.json`` under DIR is tried; a file that is not a result, or a broken
one, is named on stderr with the reason and skipped.  Statistics come from
``scipy.stats``; tables from ``tabulate``.
"""

from __future__ import annotations

import csv
import inspect
import io
import itertools
import math
import sys
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
from scipy import stats
from tabulate import LATEX_ESCAPE_RULES, tabulate

from tuning.errors import UsageError
from tuning.results import ResultError, read_result

FORMATS = ("github", "latex", "csv")
CONFIDENCE = 0.95
N_RESAMPLES = 9_999
BOOTSTRAP_SEED = 0  # fixed, so the same files always give the same table
ALPHA = 0.05  # only to say when a Wilcoxon test cannot reach significance at all


# ----------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class Run:
    """One result file, with the numbers the report uses pulled out (and checked) once."""

    path: Path
    data: dict[str, Any]

    @property
    def strategy(self) -> str:
        return self.data["strategy"]

    @property
    def seed(self) -> int:
        return self.data["seed"]

    @property
    def budget(self) -> dict[str, Any]:
        return self.data["budget"]

    @property
    def budget_key(self) -> tuple[Any, ...]:
        """Runs are only compared within one budget: same name *and* same sizes."""
        return tuple(self.budget[k] for k in BUDGET_KEYS)

    @property
    def test_accuracy(self) -> float:
        return float(self.data["best"]["test_accuracy"])

    @property
    def val_accuracy(self) -> float:
        return float(self.data["best"]["val_accuracy"])

    @property
    def environment(self) -> dict[str, Any]:
        env = self.data.get("environment")
        return env if isinstance(env, dict) else {}


BUDGET_KEYS = ("name", "n_train", "n_val", "epochs", "trials", "epoch_budget")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def problem(data: dict[str, Any]) -> str | None:
    """Why a schema-valid document still cannot be reported (None when it can).

    ``read_result`` checks the keys exist; the report also needs their values
    to be of the right kind, and a bad value should skip the file, not crash
    the report halfway through a table.
    """
    if not isinstance(data["strategy"], str) or not data["strategy"]:
        return f"strategy is {data['strategy']!r}, expected a name"
    if not _is_count(data["seed"]):
        return f"seed is {data['seed']!r}, expected a non-negative integer"
    budget = data["budget"]
    if not isinstance(budget, dict):
        return "budget is not an object"
    if not isinstance(budget.get("name"), str):
        return "budget has no name"
    for key in BUDGET_KEYS[1:]:
        if not _is_count(budget.get(key)):
            return f"budget.{key} is {budget.get(key)!r}, expected a non-negative integer"
    best = data["best"]
    if not isinstance(best, dict):
        return "best is not an object"
    for key in ("test_accuracy", "val_accuracy"):
        if not _is_number(best.get(key)) or not 0.0 <= best[key] <= 1.0:
            return f"best.{key} is {best.get(key)!r}, expected a number in [0, 1]"
    if not _is_number(data["wall_clock_seconds"]) or data["wall_clock_seconds"] < 0:
        return f"wall_clock_seconds is {data['wall_clock_seconds']!r}"
    if not _is_number(data["epochs_trained"]):
        return f"epochs_trained is {data['epochs_trained']!r}"
    throughput = data["throughput_samples_per_second"]
    if throughput is not None and not _is_number(throughput):
        return f"throughput_samples_per_second is {throughput!r}"
    trials = data["trials"]
    if not isinstance(trials, list):
        return "trials is not a list"
    for i, trial in enumerate(trials):
        if not isinstance(trial, dict):
            return f"trials[{i}] is not an object"
        if not _is_number(trial.get("epochs")) or not _is_number(trial.get("seconds")):
            return f"trials[{i}] lacks numeric epochs/seconds"
        final = trial.get("val_accuracy_final")
        if final is not None and not isinstance(final, (int, float)):
            return f"trials[{i}].val_accuracy_final is {final!r}"
    return None


def load(directory: Path, warn: Callable[[str], None]) -> list[Run]:
    """Every reportable result under ``directory`` (recursively); ``warn`` hears each file skipped and why."""
    directory = Path(directory)
    if not directory.exists():
        raise UsageError(f"no such directory: {directory}")
    if not directory.is_dir():
        raise UsageError(f"not a directory: {directory}")
    runs: list[Run] = []
    seen: dict[tuple[Any, ...], Path] = {}
    paths = sorted(p for p in directory.rglob("*.json") if p.is_file())
    for path in paths:
        try:
            data = read_result(path)
        except ResultError as e:
            warn(f"skipped {e}")
            continue
        why = problem(data)
        if why:
            warn(f"skipped {path}: {why}")
            continue
        run = Run(path, data)
        key = (run.budget_key, run.strategy, run.seed)
        if key in seen:
            # Two files for one (budget, strategy, seed) would count that seed twice.
            warn(f"skipped {path}: duplicate of {seen[key]} (same budget, strategy and seed)")
            continue
        seen[key] = path
        runs.append(run)
    if not runs:
        skipped = f" ({len(paths)} JSON file{'s' if len(paths) != 1 else ''} skipped)" if paths else ""
        raise UsageError(f"no result files under {directory}{skipped}")
    return runs


def by_budget(runs: Iterable[Run]) -> dict[tuple[Any, ...], list[Run]]:
    """Runs grouped by budget, smallest budget first (budgets are never pooled)."""
    groups: dict[tuple[Any, ...], list[Run]] = {}
    for run in runs:
        groups.setdefault(run.budget_key, []).append(run)
    return dict(sorted(groups.items(), key=lambda kv: (kv[0][-1], kv[0][0])))


# ----------------------------------------------------------------------------- statistics


def iqm_ci(values: Sequence[float]) -> tuple[float, float | None, float | None, str | None]:
    """Interquartile mean and its 95 % percentile-bootstrap CI; (iqm, low, high, why-no-CI).

    The IQM (``trim_mean(..., 0.25)``) is the robust aggregate of Agarwal et
    al. (2021, rliable); with fewer than 4 runs it trims nothing and equals the
    mean.  The bootstrap needs two runs that differ; otherwise the CI is n/a.
    """
    x = np.asarray(values, dtype=float)
    iqm = float(stats.trim_mean(x, 0.25))
    if len(x) < 2:
        return iqm, None, None, "1 run"
    if np.unique(x).size < 2:
        return iqm, None, None, "all runs equal"
    result = stats.bootstrap(
        (x,),
        lambda sample, axis: stats.trim_mean(sample, 0.25, axis=axis),
        vectorized=True,
        n_resamples=N_RESAMPLES,
        confidence_level=CONFIDENCE,
        method="percentile",
        **_seeded(stats.bootstrap),
    )
    return iqm, float(result.confidence_interval.low), float(result.confidence_interval.high), None


def _seeded(function: Callable[..., Any]) -> dict[str, Any]:
    """The fixed seed under the name this scipy takes (``rng`` since 1.15, ``random_state`` before)."""
    name = "rng" if "rng" in inspect.signature(function).parameters else "random_state"
    return {name: BOOTSTRAP_SEED}


def mean_ranks(runs: Sequence[Run]) -> dict[str, float]:
    """Each strategy's rank by test accuracy (1 = best, ties averaged) on each seed, averaged over its seeds."""
    by_seed: dict[int, list[Run]] = {}
    for run in runs:
        by_seed.setdefault(run.seed, []).append(run)
    ranks: dict[str, list[float]] = {}
    for seed_runs in by_seed.values():
        for run, rank in zip(seed_runs, stats.rankdata([-r.test_accuracy for r in seed_runs], method="average")):
            ranks.setdefault(run.strategy, []).append(float(rank))
    return {name: float(np.mean(r)) for name, r in ranks.items()}


@dataclass
class Row:
    """One strategy's line of the summary table, as numbers (formatting comes later)."""

    strategy: str
    seeds: list[int]
    test_mean: float
    test_std: float | None
    iqm: float
    iqm_low: float | None
    iqm_high: float | None
    iqm_note: str | None
    val_mean: float
    epochs_mean: float
    wall_median: float
    throughput_median: float | None
    mean_rank: float


def summarise(runs: Sequence[Run]) -> list[Row]:
    """The summary table's rows, best mean rank first (then higher mean accuracy, then name)."""
    ranks = mean_ranks(runs)
    rows = []
    for name in sorted({r.strategy for r in runs}):
        mine = sorted((r for r in runs if r.strategy == name), key=lambda r: r.seed)
        acc = np.array([r.test_accuracy for r in mine])
        iqm, low, high, note = iqm_ci(acc)
        throughputs = [r.data["throughput_samples_per_second"] for r in mine]
        throughputs = [t for t in throughputs if t is not None]
        rows.append(
            Row(
                strategy=name,
                seeds=[r.seed for r in mine],
                test_mean=float(np.mean(acc)),
                test_std=float(np.std(acc, ddof=1)) if len(acc) > 1 else None,
                iqm=iqm,
                iqm_low=low,
                iqm_high=high,
                iqm_note=note,
                val_mean=float(np.mean([r.val_accuracy for r in mine])),
                epochs_mean=float(np.mean([r.data["epochs_trained"] for r in mine])),
                wall_median=float(np.median([r.data["wall_clock_seconds"] for r in mine])),
                throughput_median=float(np.median(throughputs)) if throughputs else None,
                mean_rank=ranks[name],
            )
        )
    return sorted(rows, key=lambda row: (row.mean_rank, -row.test_mean, row.strategy))


def min_two_sided_p(n: int) -> float:
    """The smallest two-sided p an exact Wilcoxon signed-rank test can give with n nonzero pairs: 2 / 2**n."""
    return min(1.0, 2.0 / 2.0**n)


@dataclass
class Pair:
    """Strategy ``a`` against ``b`` on the seeds both ran."""

    a: str
    b: str
    seeds: list[int]
    differences: list[float]  # a - b, per shared seed
    p_value: float | None
    note: str = ""

    @property
    def mean_difference(self) -> float | None:
        return float(np.mean(self.differences)) if self.differences else None

    @property
    def wins(self) -> tuple[int, int, int]:
        """(seeds a beat b, ties, seeds b beat a)."""
        d = np.asarray(self.differences)
        return int((d > 0).sum()), int((d == 0).sum()), int((d < 0).sum())


def pairwise(runs: Sequence[Run], order: Sequence[str]) -> list[Pair]:
    """Every pair of strategies (better-ranked first) over their shared seeds, with Wilcoxon's p."""
    accuracy = {(r.strategy, r.seed): r.test_accuracy for r in runs}
    seeds_of = {name: {s for (n, s) in accuracy if n == name} for name in order}
    pairs = []
    for a, b in itertools.combinations(order, 2):
        shared = sorted(seeds_of[a] & seeds_of[b])
        diffs = [accuracy[a, s] - accuracy[b, s] for s in shared]
        pair = Pair(a, b, shared, diffs, None)
        nonzero = sum(1 for d in diffs if d != 0)
        if not shared:
            pair.note = "no seeds in common: nothing to pair"
        elif nonzero == 0:
            pair.note = f"identical on all {len(shared)} shared seeds: no test"
        else:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                pair.p_value = float(stats.wilcoxon(diffs).pvalue)
            notes = []
            if nonzero < len(diffs):
                notes.append(f"{len(diffs) - nonzero} zero difference(s) dropped")
            if min_two_sided_p(nonzero) > ALPHA:
                notes.append(
                    f"too few pairs to test (n={nonzero}): the smallest possible p is "
                    f"{min_two_sided_p(nonzero):.4g} > {ALPHA}"
                )
            notes += [f"scipy: {w.message}" for w in caught]
            pair.note = "; ".join(notes)
        pairs.append(pair)
    return pairs


# ----------------------------------------------------------------------------- provenance


def _distinct(values: Iterable[str]) -> str:
    """One value, or every distinct value with its run count when runs disagree."""
    counts = Counter(values)
    if len(counts) == 1:
        return next(iter(counts))
    return " | ".join(f"{v} ({n} run{'s' if n != 1 else ''})" for v, n in sorted(counts.items()))


def _device(env: dict[str, Any]) -> str:
    device = env.get("device")
    if not isinstance(device, dict):
        return "unknown"
    text = " ".join(str(device[k]) for k in ("kind", "name") if device.get(k)) or "unknown"
    count = device.get("count")
    return f"{text} x{count}" if isinstance(count, int) and count > 1 else text


def _commit(env: dict[str, Any]) -> str:
    git = env.get("git") if isinstance(env.get("git"), dict) else {}
    commit = git.get("commit")
    if not commit:
        return "not in git"
    dirty = {True: "dirty", False: "clean"}.get(git.get("dirty"), "dirty unknown")
    return f"{str(commit)[:12]} ({dirty})"


def _split(data: dict[str, Any]) -> str:
    split = data.get("split")
    if not isinstance(split, dict):
        return "not recorded"
    parts = [f"{split.get('dataset', '?')} from {split.get('source', '?')}"]
    parts += [f"{k}: {split[k]}" for k in ("train", "validation", "test") if k in split]
    if "preprocessing" in split:
        parts.append(str(split["preprocessing"]))
    return "; ".join(parts)


def _seed_list(seeds: Iterable[int]) -> str:
    return ", ".join(str(s) for s in sorted(set(seeds)))


def provenance(runs: Sequence[Run]) -> list[tuple[str, str]]:
    """(label, text) lines saying how a table was made; disagreeing runs list every value."""
    b = runs[0].budget
    default_seeds = b.get("seeds")
    defaults = f" (the budget's default seeds: {_seed_list(default_seeds)})" if isinstance(default_seeds, list) else ""
    by_strategy = {r.strategy for r in runs}
    seed_sets = {name: _seed_list(r.seed for r in runs if r.strategy == name) for name in sorted(by_strategy)}
    if len(set(seed_sets.values())) > 1:
        seeds = "; ".join(f"{name}: {s}" for name, s in seed_sets.items())
    else:
        seeds = next(iter(seed_sets.values()))
    libraries = sorted({k for r in runs for k, v in (r.environment.get("versions") or {}).items() if v is not None})
    versions = ", ".join(
        f"{lib} {_distinct(str((r.environment.get('versions') or {}).get(lib)) for r in runs)}" for lib in libraries
    )
    created = sorted(str(r.environment["created"]) for r in runs if r.environment.get("created"))
    return [
        (
            "Budget",
            f"{b['name']} ({b['n_train']:,} training / {b['n_val']:,} validation images, "
            f"{b['epochs']} epochs per full trial, {b['trials']} trials, epoch budget {b['epoch_budget']})",
        ),
        ("Seeds", f"{seeds}{defaults}"),
        ("Split", _distinct(_split(r.data) for r in runs)),
        ("Device", _distinct(_device(r.environment) for r in runs)),
        ("Platform", _distinct(str(r.environment.get("platform", "unknown")) for r in runs)),
        ("Versions", versions or "not recorded"),
        ("Commit", _distinct(_commit(r.environment) for r in runs)),
        ("Runs", f"{len(runs)} result files" + (f", created {created[0]} to {created[-1]}" if created else "")),
        ("Made by", "python -m tuning report (tuning/report.py) from the result files alone"),
    ]


# ----------------------------------------------------------------------------- formatting


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
                f"{len(r.seeds)} ({_seed_list(r.seeds)})",
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
                f"{len(p.seeds)} ({_seed_list(p.seeds)})" if p.seeds else "0",
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
            r.strategy, len(r.seeds), " ".join(map(str, r.seeds)), r.test_mean, _none(r.test_std), r.iqm,
            _none(r.iqm_low), _none(r.iqm_high), _none(r.iqm_note), r.val_mean, r.epochs_mean, r.wall_median,
            _none(r.throughput_median), r.mean_rank,
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
        [p.a, p.b, " ".join(map(str, p.seeds)), len(p.seeds), _none(p.mean_difference), *p.wins,
         _none(p.p_value), p.note]  # fmt: skip
        for p in pairs
    ]
    return headers, body


@dataclass
class Section:
    """One budget's tables, ready to render in any format."""

    runs: list[Run]
    rows: list[Row] = field(init=False)
    pairs: list[Pair] = field(init=False)
    provenance: list[tuple[str, str]] = field(init=False)

    def __post_init__(self) -> None:
        self.rows = summarise(self.runs)
        self.pairs = pairwise(self.runs, [r.strategy for r in self.rows])
        self.provenance = provenance(self.runs)

    @property
    def budget(self) -> str:
        return str(self.runs[0].budget["name"])

    @property
    def title(self) -> str:
        seeds = _seed_list(r.seed for r in self.runs)
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
    def table(kind: str, s: Section, headers: list[str], body: list[list[str]], notes: str, align: Sequence[str]) -> str:
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


RENDERERS: dict[str, Callable[[Sequence[Section]], str]] = {"github": _markdown, "latex": _latex, "csv": _csv}


def build(directory: Path, warn: Callable[[str], None]) -> list[Section]:
    """Load, group by budget, compute: everything but the output format."""
    return [Section(runs) for runs in by_budget(load(directory, warn)).values()]


def render(sections: Sequence[Section], fmt: str = "github") -> str:
    if fmt not in RENDERERS:
        raise UsageError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    return RENDERERS[fmt](sections)


def report(directory: Path, fmt: str = "github", plot: Path | None = None) -> int:
    """The whole of ``tuning report``: tables on stdout, skips and plot paths on stderr."""

    def warn(message: str) -> None:
        print(f"tuning: {message}", file=sys.stderr)

    sections = build(directory, warn)
    text = render(sections, fmt)
    if plot is not None:
        from tuning.plots import plot_sections

        try:
            written = plot_sections(sections, plot)
        except OSError as e:
            raise UsageError(f"cannot write the plot {plot}: {e.strerror or e}") from None
        for path in written:
            warn(f"wrote {path}")
    sys.stdout.write(text)
    return 0
