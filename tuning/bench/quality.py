"""The quality gate: is each strategy still as good as it was, whatever its bits do?

The trajectory gate (``gate.py``) fails on any change of choice, so it cannot
tell a harmless numeric drift (another BLAS reorders a sum, a Gaussian
process picks another point, the search goes elsewhere but as well) from a
strategy that got worse.  This gate asks the statistical question, cheaply:
each strategy is replayed (``tuning.execution.simulate``: milliseconds to a
second a seed, no training) at the standard budget on seeds 0..n-1, and
compared with the committed baseline's accuracies on the same seeds.

Two checks per strategy, both must pass:

* equivalence: the mean paired difference of test accuracy (now - baseline)
  lies within ``MARGIN`` (the report's margin, 0.5 percentage points) by the
  two one-sided t-tests (TOST, statsmodels) at ``ALPHA``.  Paired on the
  seed, so seeds whose trajectory did not move contribute 0 and a drift that
  moves some of them adds only their spread; a strategy that searches
  differently moves every seed, and its interval is as wide as the seeds'
  spread, so only a search as good *and* as steady passes.  Undecided fails:
  the gate needs evidence of equivalence, not absence of evidence of harm.
* seeds matter: a stochastic strategy's runs make at least half as many
  distinct choices (the chosen trial's hyperparameters) over the seeds as
  the baseline's did; a strategy that ignores its seed makes one, and its
  accuracies stay equivalent (the objective's noise still follows the seed),
  so the mean alone would let it through.

Bayesian optimisation is left out: its replay pays for Keras Tuner's Gaussian
process (about 2 s a seed on an idle core, 50 s measured on a loaded one),
so the seeds an equivalence test needs would cost CI minutes, and the few it
could afford would detect only gross changes; it stays under the trajectory
gate.  Hypergradient descent is live-only (a replay cannot answer it), also
left to the trajectory gate.  Measured costs and the planted degradations' figures:
docs/statistics.md.

Refresh the baseline on purpose: ``python -m tuning quality --write`` (it
reads the committed replay runs file, runs nothing), then commit it with a reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from statsmodels.stats.weightstats import DescrStatsW

from tuning.core.records import RunResult
from tuning.results import RUNS_FILE, ResultError, read_runs, write_atomic

MARGIN = 0.005  # the report's equivalence margin (tuning.report.significance.MARGIN): 0.5 accuracy points
ALPHA = 0.05
PROBLEM = "mnist-mlp"  # the seed problem: the one with a committed replay table
BUDGET = "standard"
SEEDS = {"grid": 40, "random": 40, "hyperband": 40, "tpe": 40}  # seeds 0..n-1 per strategy; bayesian: see above
DISTINCT_SHARE = 0.5  # "seeds matter": at least this share of the baseline's distinct choices


class QualityError(ValueError):
    """The quality gate cannot run: no baseline, or no replay runs file to make one from."""


@dataclass(frozen=True)
class Quality:
    """One strategy's verdict: the paired difference, its TOST p and interval, and the distinct choices."""

    strategy: str
    seeds: int
    mean_difference: float
    low: float  # the (1 - 2 alpha) interval TOST uses: equivalent iff it lies within +-margin
    high: float
    tost_p: float
    distinct: int
    distinct_baseline: int
    stochastic: bool
    margin: float = MARGIN

    @property
    def equivalent(self) -> bool:
        return self.tost_p < ALPHA

    @property
    def seeds_matter(self) -> bool:
        return not self.stochastic or self.distinct >= DISTINCT_SHARE * self.distinct_baseline

    @property
    def ok(self) -> bool:
        return self.equivalent and self.seeds_matter


def _choice(result: RunResult) -> str:
    return json.dumps(result.best.hyperparameters, sort_keys=True)


def make_baseline(replay_dir: Path, seeds: Mapping[str, int] = SEEDS) -> dict[str, Any]:
    """The baseline from the committed replay runs file ``<replay_dir>/runs.jsonl.gz`` (nothing is run)."""
    strategies: dict[str, Any] = {}
    environment: dict[str, Any] = {}
    path = Path(replay_dir) / RUNS_FILE
    try:
        found = {(r.strategy, r.seed): r for r in read_runs(path)}
    except ResultError as e:
        raise QualityError(f"cannot make the quality baseline: {e}") from None
    for name, n in seeds.items():
        missing = [seed for seed in range(n) if (name, seed) not in found]
        if missing:
            raise QualityError(f"cannot make the quality baseline: {path} has no {name} seed {missing[0]}")
        results = [found[name, seed] for seed in range(n)]
        environment = environment or results[0].environment
        strategies[name] = {
            "seeds": list(range(n)),
            "test_accuracy": [r.best.test_accuracy for r in results],
            "choices": [_choice(r) for r in results],
        }
    return {
        "kind": "quality-baseline",
        "problem": PROBLEM,
        "budget": BUDGET,
        "margin": MARGIN,
        "alpha": ALPHA,
        "source": str(replay_dir),
        "environment": environment,
        "strategies": strategies,
    }


def write_baseline(replay_dir: Path, path: Path) -> Path:
    return write_atomic(Path(path), make_baseline(replay_dir))


def read_baseline(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise QualityError(f"cannot read the quality baseline {path}: {e}") from None
    if (
        not isinstance(doc, dict)
        or doc.get("kind") != "quality-baseline"
        or not isinstance(doc.get("strategies"), dict)
    ):
        raise QualityError(f"{path} is not a quality baseline (expected kind 'quality-baseline' with strategies)")
    return doc


def judge(
    name: str, baseline: Mapping[str, Any], results: list[RunResult], stochastic: bool, margin: float = MARGIN
) -> Quality:
    """Both checks of one strategy, from its fresh results on the baseline's seeds (in the baseline's order)."""
    d = np.array([r.best.test_accuracy for r in results]) - np.array(baseline["test_accuracy"])
    d = np.round(d, 6)  # accuracies are counts over the test set: float32 noise below 1e-6 is no difference
    mean = float(d.mean())
    if np.all(d == d[0]):
        # No spread (typically every seed unchanged): TOST has no scale; the difference is what it is.
        p, low, high = (0.0 if abs(mean) < margin else 1.0), mean, mean
    else:
        stats = DescrStatsW(d)
        p = float(stats.ttost_mean(-margin, margin)[0])
        low, high = (float(x) for x in stats.tconfint_mean(alpha=2 * ALPHA))
    return Quality(
        name,
        len(d),
        mean,
        low,
        high,
        p,
        len({_choice(r) for r in results}),
        len(set(baseline["choices"])),
        stochastic,
        margin,
    )


Replay = Callable[[str, int], RunResult]


def check(baseline: Mapping[str, Any], replay: Replay, progress: Callable[[str], None] | None = None) -> list[Quality]:
    """Every strategy of the baseline, replayed on its seeds by ``replay(strategy, seed)`` and judged."""
    from tuning import strategies

    verdicts = []
    for name, base in baseline["strategies"].items():
        results = [replay(name, seed) for seed in base["seeds"]]
        verdict = judge(name, base, results, strategies.get(name).stochastic, float(baseline.get("margin", MARGIN)))
        verdicts.append(verdict)
        if progress:
            progress(f"[quality] {name}: {'ok' if verdict.ok else 'FAILED'}")
    return verdicts


def replayer(table_root: Path | None = None) -> Replay:
    """``replay(strategy, seed)`` at the gate's budget against the committed table (default: the seed problem's,
    ``tuning.execution.record.TABLES``)."""
    from tuning.execution.record import TABLES
    from tuning.execution.simulate import replay_run
    from tuning.problems.mnist_mlp import BUDGETS

    root = TABLES if table_root is None else Path(table_root)
    return lambda name, seed: replay_run(name, BUDGETS[BUDGET], seed, root)


def table(verdicts: list[Quality]) -> tuple[list[str], list[list[str]]]:
    headers = ["strategy", "seeds", "now − baseline (pp) [90% CI]", "TOST p", "distinct choices (baseline)", "verdict"]
    rows = []
    for q in verdicts:
        why = []
        if not q.equivalent:
            why.append(f"not shown within ±{100 * q.margin:g} pp")
        if not q.seeds_matter:
            why.append("ignores its seed?")
        rows.append(
            [
                q.strategy,
                str(q.seeds),
                f"{100 * q.mean_difference:+.2f} [{100 * q.low:+.2f}, {100 * q.high:+.2f}]",
                "n/a: no spread" if q.low == q.high else f"{q.tost_p:.4f}",
                f"{q.distinct} ({q.distinct_baseline})" if q.stochastic else f"{q.distinct} (not seeded)",
                "ok" if q.ok else "FAILED: " + "; ".join(why),
            ]
        )
    return headers, rows
