"""Anytime curves for the report: best validation accuracy so far, against epochs and wall-clock.

One row of two panels per budget; one line per strategy: the mean over seeds
of each seed's best-so-far curve, with a 95 % t-interval band across seeds.
A seed's curve is a step function (it changes only when a trial ends), so each
seed is evaluated exactly on the union of all seeds' steps - no resampling
error - and a seed that has finished keeps its final best to the right.  A
line starts once every seed has a scored trial (before that the mean would be
over a changing set of seeds) and ends in a dot at the last trial's end.
Matplotlib is imported here only, and with the Agg backend, so tables never
pay for it and no display is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import stats

from tuning.report.load import ResultFile
from tuning.report.tables import Section

BAND = "band: 95% t-interval of the mean over seeds (none for one seed)"
AXES = (("epochs", "epochs trained (cumulative)"), ("seconds", "trial wall-clock, s (cumulative)"))


def plot_paths(path: Path) -> tuple[Path, Path]:
    """``PATH.png`` and ``PATH.svg``; a ``.png`` or ``.svg`` suffix on PATH is replaced, any other kept."""
    path = Path(path)
    stem = path.with_suffix("") if path.suffix.lower() in (".png", ".svg") else path
    return Path(f"{stem}.png"), Path(f"{stem}.svg")


def best_so_far(run: ResultFile, axis: str) -> tuple[np.ndarray, np.ndarray]:
    """(cumulative epochs or trial seconds at each trial's end, best validation accuracy so far).

    A trial without a score (failed) moves the x-axis on but not the best;
    before the first scored trial the best is NaN.
    """
    trials = run.result.trials
    x = np.cumsum([float(getattr(t, axis)) for t in trials])
    scores = np.array([np.nan if t.val_accuracy_final is None else float(t.val_accuracy_final) for t in trials])
    return x, np.fmax.accumulate(scores) if len(scores) else scores


def on_grid(x: np.ndarray, y: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """A step function (value y[i] from x[i] on) read at ``grid``; NaN before its first step."""
    index = np.searchsorted(x, grid, side="right") - 1
    out = np.full(grid.shape, np.nan)
    ok = index >= 0
    out[ok] = y[index[ok]]
    return out


def band(curves: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over seeds (rows) and its 95 % t-interval, where at least two seeds have a value."""
    n = np.sum(~np.isnan(curves), axis=0)
    safe = np.where(np.isnan(curves), 0.0, curves)
    mean = np.where(n > 0, safe.sum(axis=0) / np.maximum(n, 1), np.nan)
    squares = np.where(np.isnan(curves), 0.0, (curves - mean) ** 2).sum(axis=0)
    sem = np.sqrt(squares / np.maximum(n - 1, 1) / np.maximum(n, 1))
    half = np.where(n > 1, stats.t.ppf(0.975, np.maximum(n - 1, 1)) * sem, np.nan)
    return mean, np.clip(mean - half, 0.0, 1.0), np.clip(mean + half, 0.0, 1.0)


def strategy_curve(runs: Sequence[ResultFile], axis: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(grid, mean, low, high) for one strategy's seeds along ``axis``."""
    steps = [best_so_far(r, axis) for r in runs]
    grid = np.unique(np.concatenate([x for x, _ in steps])) if steps else np.array([])
    curves = np.vstack([on_grid(x, y, grid) for x, y in steps]) if len(grid) else np.empty((0, 0))
    # Start where every seed has a score: a mean over a changing set of seeds can fall, which a best-so-far cannot.
    complete = ~np.isnan(curves).any(axis=0)
    return (grid[complete], *band(curves[:, complete]))


def plot_sections(sections: Sequence[Section], path: Path) -> list[Path]:
    """Draw every budget's curves into one figure; write PNG and SVG; return their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    png, svg = plot_paths(path)
    png.parent.mkdir(parents=True, exist_ok=True)
    names = sorted({row.strategy for s in sections for row in s.rows})
    colours = {name: plt.get_cmap("tab10")(i % 10) for i, name in enumerate(names)}
    with matplotlib.rc_context({"svg.hashsalt": "tuning-report", "font.size": 9}):
        fig, axes = plt.subplots(len(sections), 2, figsize=(11, 3.8 * len(sections)), squeeze=False)
        for row_axes, section in zip(axes, sections):
            for ax, (axis, label) in zip(row_axes, AXES):
                for row in section.rows:
                    runs = [r for r in section.runs if r.strategy == row.strategy]
                    grid, mean, low, high = strategy_curve(runs, axis)
                    if not len(grid) or np.all(np.isnan(mean)):
                        continue
                    colour = colours[row.strategy]
                    ax.step(grid, mean, where="post", color=colour, label=f"{row.strategy} (n={len(runs)})")
                    ax.plot(grid[-1:], mean[-1:], "o", color=colour, markersize=4)
                    ax.fill_between(grid, low, high, step="post", color=colour, alpha=0.2, linewidth=0)
                ax.set_xlabel(label)
                ax.set_ylabel("best validation accuracy so far")
                ax.set_title(f"budget {section.budget}: mean over seeds")
                ax.grid(True, alpha=0.3)
            row_axes[0].legend(title=BAND, title_fontsize=7, fontsize=8, loc="best")
        fig.tight_layout()
        fig.savefig(png, dpi=150, metadata={"Software": None})
        fig.savefig(svg, metadata={"Date": None})
        plt.close(fig)
    return [png, svg]
