"""Figures for the report: anytime curves (PATH.png/.svg) and the critical-difference diagram (PATH-cd.png/.svg).

Curves, one row per budget: best validation accuracy so far against epochs
and against wall-clock, the mean rank along the epochs, and normalized regret
where the optimum is known.  Each strategy's mean over seeds with the band
``anytime.band_kind`` names in the legend (the range below 10 seeds, a 95 %
t-interval from there on); a single seed is drawn as its points only.  The
legend sits outside the axes, never on the data.

The critical-difference diagram (Demšar 2006) places each strategy at its
mean rank over the seeds every strategy ran and joins those that the post hoc
(Holm-corrected Wilcoxon, the pairwise table) cannot tell apart; drawn by
scikit-posthocs.  Matplotlib is imported here only, with the Agg backend, so
tables never pay for it and no display is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tuning.report.anytime import RANGE_BAND, RUN_SECONDS, T_BAND, band_kind, normalized_regret, strategy_curve
from tuning.report.provenance import seed_list
from tuning.report.significance import holm_matrix
from tuning.report.statistics import ALPHA
from tuning.report.tables import Section

AXES = (("epochs", "epochs trained (cumulative)"), (RUN_SECONDS, "run wall-clock, s (decisions spread over trials)"))
STYLE = {"svg.hashsalt": "tuning-report", "font.size": 9}


def plot_paths(path: Path, suffix: str = "") -> tuple[Path, Path]:
    """``PATH{suffix}.png`` and ``.svg``; a ``.png`` or ``.svg`` suffix on PATH is replaced, any other kept."""
    path = Path(path)
    stem = path.with_suffix("") if path.suffix.lower() in (".png", ".svg") else path
    return Path(f"{stem}{suffix}.png"), Path(f"{stem}{suffix}.svg")


def _save(fig: Any, path: Path, suffix: str = "") -> list[Path]:
    png, svg = plot_paths(path, suffix)
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=150, bbox_inches="tight", metadata={"Software": None})
    fig.savefig(svg, bbox_inches="tight", metadata={"Date": None})
    return [png, svg]


def _band_title(kinds: set[str]) -> str:
    if kinds == {RANGE_BAND}:
        return "mean over seeds; band: range (min, max)"
    if kinds == {T_BAND}:
        return "mean over seeds; band: 95% t-interval of the mean"
    if kinds:
        return "mean over seeds; band: 95% t-interval of the mean\n(range (min, max) below 10 seeds)"
    return "one seed each: its points only"


def _draw(ax: Any, x: np.ndarray, mean: np.ndarray, low: np.ndarray, high: np.ndarray, n: int, **style: Any) -> None:
    """A mean step curve with its band and an end dot, or, for one seed, only its points."""
    if n == 1:
        ax.plot(x, mean, "o", markersize=3, **style)
        return
    ax.step(x, mean, where="post", **style)
    ax.plot(x[-1:], mean[-1:], "o", markersize=4, color=style["color"])
    ax.fill_between(x, low, high, step="post", color=style["color"], alpha=0.2, linewidth=0)


def _curves(section: Section, row_axes: Sequence[Any], colours: dict[str, Any]) -> None:
    kinds: set[str] = set()
    a = section.anytime
    for row in section.rows:
        runs = [r for r in section.runs if r.strategy == row.strategy]
        kinds.add(band_kind(len(runs)))
        style = {"color": colours[row.strategy], "label": f"{row.strategy} (n={len(runs)})"}
        for ax, (axis, _) in zip(row_axes, AXES):
            grid, mean, low, high = strategy_curve(runs, axis)
            if len(grid):
                _draw(ax, grid, mean, low, high, len(runs), **style)
        if a is not None and a.regret is not None and len(row_axes) > 3:
            grid, mean, low, high = strategy_curve(runs, "epochs")
            if len(grid):
                to_regret = [normalized_regret(v, a.optimum, a.worst) for v in (mean, high, low)]
                _draw(row_axes[3], grid, *to_regret, len(runs), color=style["color"])
    for ax, (_, label) in zip(row_axes, AXES):
        ax.set_xlabel(label)
        ax.set_ylabel("best validation accuracy so far")
    row_axes[0].set_title(f"{section.problem}, budget {section.budget}: best so far")
    row_axes[1].set_title(f"{section.problem}, budget {section.budget}: best so far, by wall-clock")
    ranks = row_axes[2]
    if a is not None and len(a.strategies) > 1:
        for name, values in zip(a.strategies, a.ranks):
            ranks.step(a.grid, values, where="post", color=colours[name])
        ranks.set_ylim(len(a.strategies) + 0.3, 0.7)  # rank 1 (best) at the top
        ranks.set_title(f"{section.problem}, budget {section.budget}: mean rank over seeds {seed_list(a.seeds)}")
        ranks.set_xlabel(AXES[0][1])
        ranks.set_ylabel("mean rank (1 = best)")
    else:
        ranks.set_axis_off()
        ranks.set_title("no mean rank: fewer than 2 strategies on a common seed", fontsize=8)
    if len(row_axes) > 3:
        regret = row_axes[3]
        regret.set_xlabel(AXES[0][1])
        if a is not None and a.regret is not None:
            regret.set_yscale("symlog", linthresh=1e-3)
            regret.set_ylabel("normalized regret (0 = optimum)")
            regret.set_title(
                f"{section.problem}, budget {section.budget}: optimum {a.optimum:.4g}, worst trial {a.worst:.4g}"
            )
        else:
            regret.set_title(f"{section.problem}, budget {section.budget}: no --optimum given, no regret")
            regret.set_axis_off()
    for ax in row_axes:
        ax.grid(True, alpha=0.3)
    row_axes[-1].legend(
        *row_axes[0].get_legend_handles_labels(),
        title=_band_title(kinds - {""}),
        title_fontsize=7,
        fontsize=8,
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        borderaxespad=0.0,
    )


def _critical_difference(section: Section, ax: Any, colours: dict[str, Any]) -> None:
    import pandas as pd
    import scikit_posthocs as sp

    f = section.friedman
    order = f.strategies
    sig = pd.DataFrame(holm_matrix(section.pairs, order), index=order, columns=order)
    sp.critical_difference_diagram(
        f.mean_ranks,
        sig,
        alpha=ALPHA,
        ax=ax,
        label_fmt_left="{label} ({rank:.2f})",
        label_fmt_right="({rank:.2f}) {label}",
        color_palette={name: colours[name] for name in order},
    )
    friedman = "n/a" if f.p_chi2 is None else f"{f.p_chi2:.3g}"
    ax.set_title(
        f"{section.problem}, budget {section.budget}: mean rank over seeds {seed_list(f.seeds)} (1 = best); a bar joins strategies "
        f"not significantly different\n(Wilcoxon signed-rank, Holm-corrected, α = {ALPHA}); Friedman p = {friedman}",
        fontsize=8,
        pad=18,
    )


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _colours(sections: Sequence[Section]) -> dict[str, Any]:
    """One colour per strategy name, the same in every figure."""
    names = sorted({row.strategy for s in sections for row in s.rows})
    return {name: _pyplot().get_cmap("tab10")(i % 10) for i, name in enumerate(names)}


def curves_figure(sections: Sequence[Section]) -> Any:
    """The anytime curves, one row of panels per budget."""
    plt, colours = _pyplot(), _colours(sections)
    columns = 4 if any(s.optimum is not None for s in sections) else 3
    fig, axes = plt.subplots(len(sections), columns, figsize=(5 * columns, 3.8 * len(sections)), squeeze=False)
    for row_axes, section in zip(axes, sections):
        _curves(section, row_axes, colours)
    fig.tight_layout()
    return fig


def cd_figure(sections: Sequence[Section]) -> Any | None:
    """The critical-difference diagram of every budget where 2 or more strategies share a seed (else None)."""
    ranked = [s for s in sections if s.friedman.seeds and len(s.friedman.strategies) > 1]
    if not ranked:
        return None
    plt, colours = _pyplot(), _colours(sections)
    height = sum(1.2 + 0.45 * len(s.rows) for s in ranked)
    fig, axes = plt.subplots(len(ranked), 1, figsize=(8, height), squeeze=False)
    for (ax,), section in zip(axes, ranked):
        _critical_difference(section, ax, colours)
    fig.tight_layout()
    return fig


def plot_sections(sections: Sequence[Section], path: Path) -> list[Path]:
    """Write the curves to PATH.png/.svg and the critical-difference diagram to PATH-cd.png/.svg; return the paths."""
    import matplotlib

    plt = _pyplot()
    written: list[Path] = []
    with matplotlib.rc_context(STYLE):
        for figure, suffix in ((curves_figure, ""), (cd_figure, "-cd")):
            fig = figure(sections)
            if fig is not None:
                written += _save(fig, path, suffix)
                plt.close(fig)
    return written
