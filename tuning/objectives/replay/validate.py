"""How far to trust a surrogate: held-out figures beside the seed-to-seed spread, and SURROGATE.md.

Every figure compares predictions for configurations the surrogate was not
fitted to with what one recorded seed of them reached (the lowest seed: a
live run sees one seed), and puts beside it what one seed says about
another, the best any surrogate can do against a single seed:

* Spearman ρ between predicted and real final validation accuracy, beside
  ρ between two seeds of the same (replicated) configurations;
* RMSE, beside the seed-to-seed standard deviation (pooled over replicated
  configurations, ddof 1); a perfect surrogate of the mean still has an
  RMSE of about that standard deviation against one seed;
* the same two for the final test accuracy;
* R² of the trial's seconds, beside R² of one seed's seconds as a
  prediction of another's (what the recording machine's own timing noise
  allows);
* coverage: how often the real value falls inside the surrogate's 95 %
  interval for one seed (its prediction plus the recorded noise near it).

Held out: 5-fold cross-validation grouped by configuration (each fold holds
out 20 % of the configurations, every seed of them; predictions pooled over
the folds), and, per strategy, every configuration that strategy's
committed live runs tried.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats
from sklearn.metrics import r2_score
from sklearn.model_selection import GroupKFold
from tabulate import tabulate

from tuning.core.points import points
from tuning.core.seeds import seed_runs
from tuning.core.space import SearchSpace
from tuning.objectives.replay.surrogate import MODELS, Surrogate
from tuning.objectives.replay.table import Recording

FOLDS = 5
TARGET_RHO = 0.9


@dataclass
class Figures:
    """Held-out figures of one surrogate model on one set of held-out configurations."""

    configurations: int
    replicated: int
    rho: float
    rho_seeds: float | None
    rmse: float
    seed_std: float | None
    rho_test: float
    rho_test_seeds: float | None
    rmse_test: float
    seed_std_test: float | None
    r2_seconds: float
    r2_seconds_seeds: float | None
    coverage: float
    median_error: float = math.nan  # median |predicted - real| final validation accuracy: RMSE without the tail

    def meets(self) -> tuple[bool, bool]:
        """(ρ ≥ 0.9, RMSE ≤ seed-to-seed std), the issue's targets."""
        return self.rho >= TARGET_RHO, self.seed_std is not None and self.rmse <= self.seed_std

    def to_json(self) -> dict[str, float | int | None]:
        return asdict(self)


def _grouped(recordings: Iterable[Recording]) -> dict[str, list[Recording]]:
    groups: dict[str, list[Recording]] = {}
    for r in sorted(recordings, key=lambda r: (r.key, r.seed)):
        groups.setdefault(r.key, []).append(r)
    return groups


def _spearman(a: Sequence[float], b: Sequence[float]) -> float:
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan
    return float(stats.spearmanr(a, b).statistic)


def _final(recording: Recording, column: str) -> float:
    return float(recording.column(column)[-1])


def seed_spread(groups: Mapping[str, list[Recording]], column: str) -> tuple[float | None, float | None, int]:
    """(ρ between the two lowest seeds, pooled within-configuration std, replicated configurations)."""
    replicated = [g for g in groups.values() if len(g) >= 2]
    if not replicated:
        return None, None, 0
    first = [_final(g[0], column) for g in replicated]
    second = [_final(g[1], column) for g in replicated]
    variances = [np.var([_final(r, column) for r in g], ddof=1) for g in replicated]
    rho = _spearman(first, second)
    return (None if math.isnan(rho) else rho), float(np.sqrt(np.mean(variances))), len(replicated)


def figures(predicted: Sequence[Surrogate], held_out: Sequence[Mapping[str, list[Recording]]]) -> Figures:
    """Pool each surrogate's predictions for its own held-out groups, and compare them with one seed each."""
    val, val_true, test, test_true, sec, sec_true, inside = [], [], [], [], [], [], []
    for surrogate, groups in zip(predicted, held_out):
        configs = [g[0].hyperparameters for g in groups.values()]
        if not configs:
            continue
        accuracies, log_seconds = surrogate.predict(configs)
        bands = surrogate.intervals(configs)
        e = surrogate.epochs
        for i, g in enumerate(groups.values()):
            one = g[0]
            val.append(accuracies[i, e - 1])
            test.append(accuracies[i, 2 * e - 1])
            val_true.append(_final(one, "val_accuracy"))
            test_true.append(_final(one, "test_accuracy"))
            seconds = np.exp(log_seconds[i])
            sec.append(seconds[: 2 * e + 1].sum())  # train + validation per epoch, and build: the trial's seconds
            sec_true.append(one.seconds)
            low, high = bands[i]
            inside.append(low <= val_true[-1] <= high)
    all_groups = {k: g for groups in held_out for k, g in groups.items()}
    rho_seeds, std, replicated = seed_spread(all_groups, "val_accuracy")
    rho_test_seeds, std_test, _ = seed_spread(all_groups, "test_accuracy")
    pairs = [(g[0].seconds, g[1].seconds) for g in all_groups.values() if len(g) >= 2]

    def rmse(a: list[float], b: list[float]) -> float:
        return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))

    return Figures(
        configurations=len(val),
        replicated=replicated,
        rho=_spearman(val, val_true),
        rho_seeds=rho_seeds,
        rmse=rmse(val, val_true),
        seed_std=std,
        rho_test=_spearman(test, test_true),
        rho_test_seeds=rho_test_seeds,
        rmse_test=rmse(test, test_true),
        seed_std_test=std_test,
        r2_seconds=float(r2_score(sec_true, sec)) if len(sec) >= 2 else math.nan,
        r2_seconds_seeds=float(r2_score(*zip(*pairs))) if len(pairs) >= 2 else None,
        coverage=float(np.mean(inside)),
        median_error=float(np.median(np.abs(np.asarray(val) - np.asarray(val_true)))),
    )


def cross_validate(recordings: Sequence[Recording], model: str, space: SearchSpace, folds: int = FOLDS) -> Figures:
    """Grouped k-fold: each fold's configurations (every seed of them) held out of the fit."""
    groups = _grouped(recordings)
    keys = list(groups)
    folds = min(folds, len(keys))
    if folds < 2:
        raise ValueError(f"cross-validation needs at least 2 configurations, the table has {len(keys)}")
    surrogates, held = [], []
    for train_index, test_index in GroupKFold(n_splits=folds).split(keys, groups=keys):
        train = [r for i in train_index for r in groups[keys[i]]]
        surrogates.append(Surrogate(train, space, model))
        held.append({keys[i]: groups[keys[i]] for i in test_index})
    return figures(surrogates, held)


def hold_out(recordings: Sequence[Recording], keys: set[str], model: str, space: SearchSpace) -> Figures | None:
    """Fit on every configuration not in ``keys``; figures on those in ``keys`` (None when none are recorded)."""
    groups = _grouped(recordings)
    held = {k: g for k, g in groups.items() if k in keys}
    train = [r for k, g in groups.items() if k not in keys for r in g]
    if not held or not train:
        return None
    return figures([Surrogate(train, space, model)], [held])


def compare(recordings: Sequence[Recording], space: SearchSpace, models: Iterable[str] = MODELS) -> dict[str, Figures]:
    return {model: cross_validate(recordings, model, space) for model in models}


def best(candidates: Mapping[str, Figures]) -> str:
    """The model with the highest held-out ρ of the final validation accuracy, then the lowest RMSE."""
    return max(candidates, key=lambda m: (np.nan_to_num(candidates[m].rho, nan=-2.0), -candidates[m].rmse))


# -- SURROGATE.md ----------------------------------------------------------------

GENERIC_STEEP = "those whose few epochs end far apart with a small change of their hyperparameters"

HEADERS = [
    "Held out",
    "Configs (replicated)",
    "ρ val. acc. [seeds]",
    "RMSE val. pp [seed std]",
    "Median \\|error\\| val. pp",
    "ρ test acc. [seeds]",
    "RMSE test pp [seed std]",
    "R² seconds [seeds]",
    "95% coverage",
]


def _num(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def row(label: str, f: Figures) -> list[str]:
    return [
        label,
        f"{f.configurations} ({f.replicated})",
        f"{_num(f.rho)} [{_num(f.rho_seeds)}]",
        f"{points(f.rmse)} [{points(f.seed_std)}]",
        points(f.median_error),
        f"{_num(f.rho_test)} [{_num(f.rho_test_seeds)}]",
        f"{points(f.rmse_test)} [{points(f.seed_std_test)}]",
        f"{_num(f.r2_seconds)} [{_num(f.r2_seconds_seeds)}]",
        f"{100 * f.coverage:.0f} %",
    ]


def verdict(label: str, f: Figures) -> str:
    """One plain sentence on the issue's two targets."""
    rho_ok, rmse_ok = f.meets()
    parts = [
        f"ρ {_num(f.rho)} {'meets' if rho_ok else 'does NOT meet'} the target ρ ≥ {TARGET_RHO}",
        f"RMSE {points(f.rmse)} pp {'is within' if rmse_ok else 'is NOT within'} the seed-to-seed std "
        f"{points(f.seed_std)} pp",
    ]
    return f"- {label}: " + "; ".join(parts) + "."


def markdown(
    budget: str,
    table: Mapping[str, Any],
    candidates: Mapping[str, Figures],
    chosen: str,
    per_strategy: Mapping[str, Figures | None],
    command: str,
    searches: Mapping[str, Sequence[BestOf]] | None = None,
    error: str = "none",
    steep: str = GENERIC_STEEP,
    live: Mapping[str, Sequence[LiveSearches]] | None = None,
) -> str:
    """SURROGATE.md: the table, each candidate's cross-validated figures, the chosen one per strategy, verdicts.

    ``steep`` names the configurations whose learning is steep, as the problem words it (``Problem.steep``); ``live``
    the held-out live searches each model error answered, which choose it where there are any."""
    chosen_live = best_error_live(live or {}) is not None
    out = [
        f"# Surrogate for the {budget} replay table",
        "",
        f"Made by `{command}`.  Table: {table['recordings']} recordings of {table['configurations']} configurations "
        f"({table['replicated']} with several seeds), SHA-256 `{table['digest'][:16]}…`; recorded on "
        f"{table['devices']}, commit {table['commits']}" + (f" ({table['label']})" if table.get("label") else "") + ".",
        "",
        "Each cell: the surrogate's figure on held-out configurations [the same figure between two seeds of the same "
        "configurations, or the pooled seed-to-seed standard deviation].  pp: percentage points.  Real values are one "
        "seed's (the lowest recorded), as a live run sees one seed.  Coverage: how often that value falls in the "
        "surrogate's 95 % interval for one seed (its prediction plus the recorded seed noise nearby).",
        "",
        f"## Candidates ({FOLDS}-fold cross-validation grouped by configuration: 20 % held out per fold)",
        "",
        tabulate([row(m, f) for m, f in candidates.items()], HEADERS, tablefmt="github", disable_numparse=True),
        "",
        f"Kept: **{chosen}** (highest held-out ρ of the final validation accuracy, then lowest RMSE).",
        "",
        f"## {chosen}: each strategy's own configurations held out",
        "",
        "Fitted to every other configuration of the table; held out: every configuration the strategy's committed "
        "live runs tried (hypergradient descent is live-only and not replayed).",
        "",
    ]
    rows = [row(name, f) for name, f in per_strategy.items() if f is not None]
    missing = [name for name, f in per_strategy.items() if f is None]
    out.append(
        tabulate(rows, HEADERS, tablefmt="github", disable_numparse=True) if rows else "No live runs to hold out."
    )
    if missing:
        out += ["", f"Not in the table (no held-out figures): {', '.join(missing)}."]
    if searches:
        body = [
            [name, str(b.n), str(b.searches), f"{100 * b.bias:+.3f}", f"{b.sd_ratio:.2f}", f"{100 * b.coverage:.1f} %"]
            for name, found in searches.items()
            for b in found
        ]
        out += [
            "",
            f"## {chosen}: model error, by simulated searches on held-out configurations",
            "",
            f"{FOLDS}-fold grouped as above; in each fold {next(iter(searches.values()))[0].searches // FOLDS} random "
            "searches of each size among the held-out "
            "configurations, each answered by the recordings (one seed of each configuration, drawn) and by the "
            "surrogate fitted without them, the configuration of the best final validation accuracy reporting its "
            "final test accuracy (what a search reports).  Bias: real minus surrogate mean; SD ratio: real / "
            "surrogate; coverage: real searches inside the surrogate's 95 % interval.",
            "",
            tabulate(
                body,
                ["Model error", "Configurations per search", "Searches", "Bias pp", "SD ratio", "Coverage"],
                tablefmt="github",
                disable_numparse=True,
            ),
            "",
            f"Kept: **{error}** (least mean |bias| over the sizes, then SD ratio nearest 1)."
            if not chosen_live
            else f"Least biased here: {best_error(searches)}; not what is kept: held-out live searches outrank these "
            "(below).",
        ]
    if chosen_live and live:
        out += ["", *live_section(live, error)]
    out += ["", "## Targets", "", verdict(f"cross-validated ({chosen})", candidates[chosen])]
    out += [verdict(f"{name} held out", f) for name, f in per_strategy.items() if f is not None]
    out += [
        "",
        "An RMSE against one seed cannot fall much below the seed-to-seed standard deviation even for a perfect "
        "model of the mean (it is about sqrt(bias² + std²)); where it does not, the gap is the surrogate's bias.  "
        "The median absolute error beside it shows how much of the RMSE is a tail of configurations whose learning "
        f"is steep ({steep}).",
    ]
    return "\n".join(out) + "\n"


# -- best of N: what a search reports -----------------------------------------------

SEARCH_SIZES = (8, 24)  # configurations per simulated search: random search's trials; about Hyperband's
SEARCHES = 1000  # simulated searches per fold and size
SEARCHES_PER_CONFIGURATION = 10  # at most this many per configuration of the table (tests' small tables fit fast)
SEARCH_SEED = 0


@dataclass
class BestOf:
    """Simulated best-of-N on held-out configurations: the real searches (one recorded seed of each configuration)
    against the surrogate's (its draws for the same configurations), pooled over the folds."""

    n: int
    searches: int
    bias: float  # real mean minus surrogate mean of the chosen configuration's final test accuracy
    sd_ratio: float  # real SD / surrogate SD
    coverage: float  # real values inside the surrogate's 95 % interval (its 2.5th..97.5th percentiles, per fold)

    def to_json(self) -> dict[str, float | int]:
        return asdict(self)


def _best(values: np.ndarray) -> np.ndarray:
    """values: (configurations, 2) of (final validation, final test): the row of the best validation accuracy."""
    return values[int(np.argmax(values[:, 0]))]


def _best_test(values: np.ndarray) -> float:
    """The test accuracy of the best validation accuracy (``_best``)."""
    return float(_best(values)[1])


def best_of(
    recordings: Sequence[Recording],
    space: SearchSpace,
    model: str,
    error: str,
    sizes: Sequence[int] = SEARCH_SIZES,
    searches: int = SEARCHES,
    folds: int = FOLDS,
) -> list[BestOf]:
    """Grouped k-fold, as ``cross_validate``; in each fold ``searches`` random searches of each size among the held-out
    configurations, answered once by the recordings (one seed of each, drawn) and once by a surrogate fitted without
    them (model ``model``, model error ``error``).  The same searches and draws for every model error."""
    groups = _grouped(recordings)
    keys = list(groups)
    folds = min(folds, len(keys))
    searches = min(searches, SEARCHES_PER_CONFIGURATION * len(keys))  # a small table has few distinct searches
    real: dict[int, list[np.ndarray]] = {n: [] for n in sizes}
    replayed: dict[int, list[np.ndarray]] = {n: [] for n in sizes}
    inside: dict[int, list[np.ndarray]] = {n: [] for n in sizes}
    for fold, (train_index, test_index) in enumerate(GroupKFold(n_splits=folds).split(keys, groups=keys)):
        surrogate = Surrogate([r for i in train_index for r in groups[keys[i]]], space, model, error)
        held = [groups[keys[i]] for i in test_index]
        e = surrogate.epochs
        for n in sizes:
            rng = np.random.default_rng([SEARCH_SEED, fold, n])
            t, s = np.empty(searches), np.empty(searches)
            for k in range(searches):
                chosen = rng.choice(len(held), size=min(n, len(held)), replace=False)
                truth, drawn = [], []
                for i in chosen:
                    one = held[i][int(rng.integers(len(held[i])))]
                    truth.append((_final(one, "val_accuracy"), _final(one, "test_accuracy")))
                    curve = surrogate.draw(
                        one.hyperparameters, rng, np.random.default_rng([SEARCH_SEED, fold, n, k, i])
                    )
                    drawn.append((curve.val_accuracy[e - 1], curve.test_accuracy[e - 1]))
                t[k], s[k] = _best_test(np.array(truth)), _best_test(np.array(drawn))
            low, high = np.quantile(s, [0.025, 0.975])
            real[n].append(t)
            replayed[n].append(s)
            inside[n].append((t >= low) & (t <= high))
    out = []
    for n in sizes:
        t, s = np.concatenate(real[n]), np.concatenate(replayed[n])
        out.append(
            BestOf(
                n,
                len(t),
                float(t.mean() - s.mean()),
                float(t.std(ddof=1) / s.std(ddof=1)),
                float(np.concatenate(inside[n]).mean()),
            )
        )
    return out


def best_error(candidates: Mapping[str, Sequence[BestOf]]) -> str:
    """The model error whose simulated searches are least biased (mean |bias| over the sizes), then whose SD ratio
    is nearest 1."""
    return _least_biased(candidates)


def _least_biased(candidates: Mapping[str, Sequence[BestOf | LiveSearches]]) -> str:
    """The name whose figures have the least mean |bias| (to 0.01 pp), then the mean |log SD ratio| nearest 0."""
    return min(
        candidates,
        key=lambda m: (
            round(float(np.mean([abs(b.bias) for b in candidates[m]])), 4),
            float(np.mean([abs(np.log(b.sd_ratio)) for b in candidates[m]])),
        ),
    )


# -- best of N on held-out live searches ---------------------------------------------------

BLIND = ("random", "qmc")  # strategies whose proposals never read a score: the surrogate cannot change what they try
LIVE_DRAWS = 50  # the surrogate's answers to each held-out live search
LIVE_SEED = 0


@dataclass
class LiveSearches:
    """A blind strategy's held-out live searches against the surrogate fitted to the whole table (what a replay
    uses) answering the very same configurations: the chosen configuration's final accuracies, paired by seed."""

    strategy: str
    seeds: list[int]
    draws: int  # surrogate answers per search
    bias: float  # live minus the surrogate's expected final test accuracy of the chosen configuration, over seeds
    bias_ci: tuple[float, float]  # paired t, 95 %
    val_bias: float  # the same for its final validation accuracy, which the search chose by
    val_bias_ci: tuple[float, float]
    sd_ratio: float  # live SD over seeds / SD of one surrogate answer per seed
    coverage: float  # live values inside the 2.5th..97.5th percentiles of every surrogate answer

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def answered(surrogate: Surrogate, run: Any, draws: int = LIVE_DRAWS) -> np.ndarray | None:
    """A live run's own full-budget configurations answered ``draws`` times by ``surrogate`` (as a replay answers a
    trial), each time the trial of the best validation accuracy reporting: (draws, 2) of (val, test); None where the
    run has no full-budget trial.  Seeded by the run's seed: the same run gets the same answers."""
    e = surrogate.epochs
    configs = [t.hyperparameters for t in run.trials if t.status == "COMPLETED" and t.initial_epoch + t.epochs == e]
    if not configs:
        return None
    rng = np.random.default_rng([LIVE_SEED, run.seed])
    return np.array(
        [
            _best(
                np.array(
                    [
                        (c.val_accuracy[e - 1], c.test_accuracy[e - 1])
                        for c in (surrogate.draw(config, rng, rng) for config in configs)
                    ]
                )
            )
            for _ in range(draws)
        ]
    )


def live_best_of(
    recordings: Sequence[Recording],
    space: SearchSpace,
    model: str,
    error: str,
    runs: Iterable[Any],
    draws: int = LIVE_DRAWS,
) -> list[LiveSearches]:
    """For each ``BLIND`` strategy with held-out live runs (``RunResult``s; seeds whose configurations the table need
    not hold): each run's full-budget trials answered ``draws`` times by the surrogate (model ``model``, error
    ``error``), the best validation accuracy's trial reporting, against what the live run reported.

    A blind strategy proposes the same configurations whatever it is told, so the difference is the surrogate's
    alone, seed by seed, with no search dynamics in it: the best-of-N a replay hands every strategy."""
    surrogate = Surrogate(recordings, space, model, error)
    runs = list(runs)
    surrogate.prefetch([t.hyperparameters for r in runs if r.strategy in BLIND for t in r.trials])
    out = []
    for name in BLIND:
        live, expected, one, every, seeds = [], [], [], [], []
        for run in sorted((r for r in runs if r.strategy == name), key=lambda r: r.seed):
            answers = answered(surrogate, run, draws)
            if answers is None:
                continue
            seeds.append(run.seed)
            live.append((run.best.val_accuracy, run.best.test_accuracy))
            expected.append(answers.mean(axis=0))
            one.append(answers[0, 1])
            every.append(answers[:, 1])
        if len(seeds) < 2:
            continue
        diff = np.array(live) - np.array(expected)
        low, high = np.quantile(np.concatenate(every), [0.025, 0.975])
        test = np.array(live)[:, 1]
        out.append(
            LiveSearches(
                name,
                seeds,
                draws,
                float(diff[:, 1].mean()),
                _t_interval(diff[:, 1]),
                float(diff[:, 0].mean()),
                _t_interval(diff[:, 0]),
                float(test.std(ddof=1) / np.std(one, ddof=1)) if np.std(one) > 0 else math.inf,
                float(((test >= low) & (test <= high)).mean()),
            )
        )
    return out


def _t_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    if np.std(values) == 0:
        return float(values.mean()), float(values.mean())
    found = stats.ttest_1samp(values, 0.0).confidence_interval(level)
    return float(found.low), float(found.high)


def live_section(live: Mapping[str, Sequence[LiveSearches]], error: str) -> list[str]:
    """SURROGATE.md's lines on the held-out live searches and the model error they chose."""
    body = [
        [
            name,
            b.strategy,
            seed_runs(b.seeds),
            f"{100 * b.bias:+.3f} [{100 * b.bias_ci[0]:+.2f}, {100 * b.bias_ci[1]:+.2f}]",
            f"{100 * b.val_bias:+.3f} [{100 * b.val_bias_ci[0]:+.2f}, {100 * b.val_bias_ci[1]:+.2f}]",
            f"{b.sd_ratio:.2f}",
            f"{100 * b.coverage:.1f} %",
        ]
        for name, found in live.items()
        for b in found
    ]
    draws = next(b.draws for found in live.values() for b in found)
    return [
        "## Model error, by held-out live searches",
        "",
        f"Each held-out live run of a strategy that never reads a score ({', '.join(BLIND)}: it proposes the same "
        f"configurations whatever it is told) answered {draws} times by the surrogate fitted to the whole table, as a "
        "replay uses it; the configuration of the best final validation accuracy reports.  Bias: live minus the "
        "surrogate's mean, paired by seed, 95 % t-interval; the same for the validation accuracy the search chose by.  "
        "SD ratio: live / one answer per seed.  Coverage: live runs inside the 2.5th..97.5th percentiles of every "
        "answer.",
        "",
        tabulate(
            body,
            ["Model error", "Strategy", "Seeds", "Test bias pp", "Val. bias pp", "SD ratio", "Coverage"],
            tablefmt="github",
            disable_numparse=True,
        ),
        "",
        f"Kept: **{error}** (least mean |test bias| over these strategies, then SD ratio nearest 1).  These searches "
        "are live, on seeds whose configurations the table need not hold, and answered by the surrogate a replay "
        "uses; the simulated searches above answer the table's own configurations with a surrogate fitted to 80 % of "
        "it.  The runs that chose the error fit it by construction: the certificate judges those strategies' bias on "
        "their other held-out seeds (certificate.json: out_of_sample).",
    ]


def best_error_live(candidates: Mapping[str, Sequence[LiveSearches]]) -> str | None:
    """The model error whose answers to the held-out live searches are least biased (mean |bias| over the blind
    strategies, to 0.01 pp), then whose SD ratio is nearest 1; None where no held-out live search was answered."""
    answered = {m: found for m, found in candidates.items() if found}
    return _least_biased(answered) if answered else None
