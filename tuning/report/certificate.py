"""The replay's certificate: how far its figures can be cited, measured on live seeds the replay never saw.

Computed from result files alone (the replay runs and the held-out live runs)
by ``certify``; ``certificate.json`` beside ``REPLAY.md`` is its output, and a
test recomputes it from the committed files.  Per strategy: the bias, the
ratio of standard deviations (live / replay, a percentile bootstrap interval:
the replay's seeds are not normal, their lower tail is long), and the
coverage of the replay's one-seed 95 % interval (the share of held-out live
seeds inside it, Clopper-Pearson interval).

The bias judged is live minus replay on the same seeds, seed by seed (a
t-interval), wherever the replay also ran every held-out seed (for a
strategy whose held-out runs chose the surrogate's model error, only over
its other held-out seeds: the chosen error fits those by construction): a replay seed
shares its live seed's luck (the same oracle seed proposes the same first
configurations), so the pairs measure the replay's error without the luck
of which seeds were held out.  Where it did not, the bias judged is the
unpaired one, live mean minus the mean of every replay seed (Welch's
t-interval), which is also shown beside the paired one.  Across strategies:
Kendall's τ between the live and the replay orders of the mean, and whether
the critical-difference diagrams agree (the same pairs significantly apart,
the same way round, by the report's own test: Wilcoxon signed-rank,
Holm-corrected), the replay's taken on its first seeds, as many as the live
ones, so that both sides have the same number of seeds and the same power.

Targets (``TARGETS``, issue 19): |bias| at most 0.10 pp and its interval
inside the equivalence margin ±0.20 pp; SD ratio within 0.67..1.5; coverage
within 90..98 %, judged on every strategy's held-out seeds pooled (twenty
seeds of one strategy can only show 90, 95 or 100 %); τ at least 0.8.
"Fit for ranking" lists the strategies whose judged bias interval lies inside
the margin.  Derivations and the figures: docs/replay.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from tuning.core.points import points
from tuning.core.records import RunResult
from tuning.report.load import ResultFile
from tuning.report.significance import pairwise
from tuning.report.statistics import BOOTSTRAP_SEED, N_RESAMPLES, resolved

LEVEL = 0.95
MARGIN = 0.002  # the equivalence margin: every bias interval must lie within +-0.20 pp
TARGETS: dict[str, Any] = {
    "bias": 0.001,  # |live - replay| at most 0.10 pp
    "margin": MARGIN,
    "sd_ratio": (0.67, 1.5),
    "coverage": (0.90, 0.98),
    "tau": 0.8,
}
DIGITS = 6  # figures are stored rounded: the same files give the same certificate on any machine
FILE = "certificate.json"


def _r(x: float | None) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), DIGITS)


@dataclass(frozen=True)
class Paired:
    """Live minus replay on the same seeds, seed by seed: the bias without the held-out seeds' own draw."""

    seeds: int
    live_mean: float
    replay_mean: float  # the replay on those very seeds
    bias: float
    low: float
    high: float
    correlation: float  # between a seed's live and replay test accuracy

    def to_json(self) -> dict[str, Any]:
        return {
            "seeds": self.seeds,
            "live_mean": _r(self.live_mean),
            "replay_mean": _r(self.replay_mean),
            "bias": _r(self.bias),
            "bias_ci": [_r(self.low), _r(self.high)],
            "correlation": _r(self.correlation),
        }


def _mean_ci(differences: np.ndarray) -> tuple[float, float, float]:
    """(mean, low, high): the paired differences' mean and its ``LEVEL`` t-interval."""
    ci = stats.ttest_1samp(differences, 0.0).confidence_interval(LEVEL)
    return float(differences.mean()), float(ci.low), float(ci.high)


def paired(replay: Sequence[RunResult], live: Sequence[RunResult]) -> Paired | None:
    """Live minus replay seed by seed over the live seeds the replay ran too (None: fewer than three)."""
    answered = {x.seed: x.best.test_accuracy for x in replay}
    seeds = sorted(x.seed for x in live if x.seed in answered)
    if len(seeds) < 3:
        return None
    given = {x.seed: x.best.test_accuracy for x in live}
    v, r = resolved([given[s] for s in seeds]), resolved([answered[s] for s in seeds])
    same = v.std() > 0 and r.std() > 0
    return Paired(
        len(seeds),
        float(v.mean()),
        float(r.mean()),
        *_mean_ci(v - r),
        float(np.corrcoef(v, r)[0, 1]) if same else float("nan"),
    )


@dataclass(frozen=True)
class Split:
    """The judged bias in two parts, seed by seed, over the judged seeds: the surrogate's (live minus the surrogate
    answering the live run's own configurations, as a replay answers a trial) and the search's (the surrogate
    answering the live run's configurations minus the replay, whose search went its own way on the surrogate).  A
    part near zero is not where the bias comes from."""

    seeds: int
    surrogate: float
    surrogate_low: float
    surrogate_high: float
    search: float
    search_low: float
    search_high: float

    def to_json(self) -> dict[str, Any]:
        return {
            "seeds": self.seeds,
            "surrogate": _r(self.surrogate),
            "surrogate_ci": [_r(self.surrogate_low), _r(self.surrogate_high)],
            "search": _r(self.search),
            "search_ci": [_r(self.search_low), _r(self.search_high)],
        }


def split(
    replay: Sequence[RunResult], live: Sequence[RunResult], answered: Callable[[RunResult], float | None]
) -> Split | None:
    """``Split`` over the live seeds the replay ran too and the surrogate could answer (None: fewer than three)."""
    rep = {x.seed: x.best.test_accuracy for x in replay}
    rows = []
    for x in sorted(live, key=lambda x: x.seed):
        expected = answered(x) if x.seed in rep else None
        if expected is not None:
            rows.append((x.best.test_accuracy, expected, rep[x.seed]))
    if len(rows) < 3:
        return None
    v, a, r = (resolved(list(c)) for c in zip(*rows))
    return Split(len(rows), *_mean_ci(v - a), *_mean_ci(a - r))


@dataclass(frozen=True)
class Figures:
    """One strategy's figures: live (held out) against replay."""

    strategy: str
    live_seeds: list[int]
    replay_seeds: list[int]
    live_mean: float
    replay_mean: float
    bias: float
    bias_low: float
    bias_high: float
    sd_live: float
    sd_replay: float
    sd_ratio: float
    ratio_low: float
    ratio_high: float
    interval_low: float  # the replay's one-seed 95 % interval
    interval_high: float
    inside: int
    coverage_low: float
    coverage_high: float
    replay_recorded: float  # share of the replay's trials answered from recordings
    live_recorded: float | None  # share of the live trials whose configuration the table holds
    paired: Paired | None = None  # the held-out seeds replayed too: live - replay seed by seed
    chose: tuple[int, ...] = ()  # held-out seeds whose live runs chose the surrogate's model error (tuning fit)
    unseen: Paired | None = None  # ``paired`` over the other held-out seeds: out of sample
    why: Split | None = None  # the judged (paired) bias in its surrogate's and its search's parts
    beyond: tuple[int, int] = (0, 0)  # replay seeds below the lowest live seed, above the highest

    @property
    def judged(self) -> tuple[float, float, float, str]:
        """(bias, CI low, CI high, how): the paired bias where every held-out seed was replayed (only over the seeds
        that did not choose the model error, where some did), else Welch's over every seed."""
        p, u = self.paired, self.unseen
        if self.chose and u is not None and u.seeds == len(set(self.live_seeds) - set(self.chose)):
            return u.bias, u.low, u.high, "same seeds, out of sample"
        if not self.chose and p is not None and p.seeds == len(self.live_seeds):
            return p.bias, p.low, p.high, "same seeds"
        return self.bias, self.bias_low, self.bias_high, "all replay seeds"

    @property
    def coverage(self) -> float:
        return self.inside / len(self.live_seeds)

    @property
    def regime(self) -> str:
        """Recorded: the replay answers (nearly) every trial from recordings; predicted: (nearly) none; else mixed."""
        share = self.replay_recorded
        return "recorded" if share >= 0.9 else "predicted" if share <= 0.1 else "mixed"

    def met(self) -> dict[str, bool]:
        low, high = TARGETS["sd_ratio"]
        bias, bias_low, bias_high, _ = self.judged
        return {
            "bias": abs(bias) <= TARGETS["bias"],
            "bias_ci_in_margin": -MARGIN <= bias_low and bias_high <= MARGIN,
            "sd_ratio": low <= self.sd_ratio <= high,
        }

    def to_json(self) -> dict[str, Any]:
        bias, bias_low, bias_high, how = self.judged
        return {
            "regime": self.regime,
            "live_seeds": len(self.live_seeds),
            "replay_seeds": len(self.replay_seeds),
            "live_mean": _r(self.live_mean),
            "replay_mean": _r(self.replay_mean),
            "bias": _r(bias),
            "bias_ci": [_r(bias_low), _r(bias_high)],
            "bias_judged_on": how,
            "all_replay_seeds": {"bias": _r(self.bias), "bias_ci": [_r(self.bias_low), _r(self.bias_high)]},
            "sd_live": _r(self.sd_live),
            "sd_replay": _r(self.sd_replay),
            "sd_ratio": _r(self.sd_ratio),
            "sd_ratio_ci": [_r(self.ratio_low), _r(self.ratio_high)],
            "one_seed_interval": [_r(self.interval_low), _r(self.interval_high)],
            "inside": self.inside,
            "coverage": _r(self.coverage),
            "coverage_ci": [_r(self.coverage_low), _r(self.coverage_high)],
            "replay_trials_recorded": _r(self.replay_recorded),
            "live_trials_in_table": _r(self.live_recorded),
            "same_seeds": self.paired.to_json() if self.paired else None,
            **(
                {
                    "chose_model_error": len(self.chose),
                    "out_of_sample": self.unseen.to_json() if self.unseen else None,
                }
                if self.chose
                else {}
            ),
            "split": self.why.to_json() if self.why else None,
            "replay_beyond_live": {"below": self.beyond[0], "above": self.beyond[1]},
            "met": self.met(),
        }


def _sd_ratio_interval(live: np.ndarray, replay: np.ndarray) -> tuple[float, float]:
    """Percentile bootstrap of SD(live) / SD(replay), each side resampled on its own (seeded: reproducible)."""
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    a = live[rng.integers(len(live), size=(N_RESAMPLES, len(live)))].std(axis=1, ddof=1)
    b = replay[rng.integers(len(replay), size=(N_RESAMPLES, len(replay)))].std(axis=1, ddof=1)
    ratios = a / np.where(b > 0, b, np.nan)
    low, high = np.nanquantile(ratios, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    return float(low), float(high)


def figures(
    name: str,
    replay: Sequence[RunResult],
    live: Sequence[RunResult],
    in_table: Callable[[RunResult], float] | None,
    chose: Sequence[int] = (),
    answered: Callable[[RunResult], float | None] | None = None,
) -> Figures:
    r = resolved([x.best.test_accuracy for x in replay])
    v = resolved([x.best.test_accuracy for x in live])
    welch = stats.ttest_ind(v, r, equal_var=False)
    ci = welch.confidence_interval(LEVEL)
    low, high = np.quantile(r, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    inside = int(((v >= low) & (v <= high)).sum())
    cover = stats.binomtest(inside, len(v)).proportion_ci(LEVEL, method="exact")
    ratio_low, ratio_high = _sd_ratio_interval(v, r)
    answers = [(x.replay or {}).get("answers", {}) for x in replay]
    recorded = sum(a.get("recorded", 0) for a in answers)
    total = recorded + sum(a.get("predicted", 0) for a in answers)
    sd_live, sd_replay = float(v.std(ddof=1)), float(r.std(ddof=1))
    found = Figures(
        name,
        sorted(x.seed for x in live),
        sorted(x.seed for x in replay),
        float(v.mean()),
        float(r.mean()),
        float(v.mean() - r.mean()),
        float(ci.low),
        float(ci.high),
        sd_live,
        sd_replay,
        sd_live / sd_replay if sd_replay > 0 else float("inf"),
        ratio_low,
        ratio_high,
        float(low),
        float(high),
        inside,
        float(cover.low),
        float(cover.high),
        recorded / total if total else 0.0,
        float(np.mean([in_table(x) for x in live])) if in_table else None,
        paired(replay, live),
        tuple(sorted(set(chose) & {x.seed for x in live})),
        paired(replay, [x for x in live if x.seed not in set(chose)]) if chose else None,
        beyond=(int((r < v.min()).sum()), int((r > v.max()).sum())),
    )
    _, _, _, how = found.judged
    if answered is None or how == "all replay seeds":
        return found
    return replace(found, why=split(replay, [x for x in live if x.seed not in found.chose], answered))


def by_strategy(runs: Sequence[RunResult]) -> dict[str, list[RunResult]]:
    """Runs grouped by strategy, strategies and seeds in order."""
    out: dict[str, list[RunResult]] = {}
    for x in sorted(runs, key=lambda x: (x.strategy, x.seed)):
        out.setdefault(x.strategy, []).append(x)
    return out


def _significant(runs: Sequence[RunResult], order: Sequence[str]) -> list[str]:
    """The pairs the report's CD diagram separates, as "a > b" (Wilcoxon signed-rank, Holm-corrected)."""
    files = [ResultFile(Path(f"{r.strategy}-seed{r.seed}"), r) for r in runs]
    out = []
    for pair in pairwise(files, order):
        if pair.significant and pair.mean_difference is not None:
            a, b = (pair.a, pair.b) if pair.mean_difference > 0 else (pair.b, pair.a)
            out.append(f"{a} > {b}")
    return sorted(out)


def certify(
    replay: Sequence[RunResult],
    live: Sequence[RunResult],
    in_table: Callable[[RunResult], float] | None = None,
    sources: Mapping[str, str] | None = None,
    chose: Mapping[str, Sequence[int]] | None = None,
    answered: Callable[[RunResult], float | None] | None = None,
) -> dict[str, Any]:
    """The certificate of ``replay`` against the held-out ``live`` runs (strategies both ran), as JSON.

    ``in_table(live run)``: the share of its trials whose configuration the replay table holds (omitted: not shown);
    ``chose``: per strategy, the held-out seeds whose live runs chose the surrogate's model error, judged apart;
    ``answered(live run)``: the surrogate's expected test accuracy for what the run reports were its own
    configurations answered by it (``surrogate_answers``; omitted: no split of the bias).
    """
    rep, liv = by_strategy(replay), by_strategy(live)
    names = [n for n in rep if n in liv and len(liv[n]) >= 2 and len(rep[n]) >= 2]
    found = {n: figures(n, rep[n], liv[n], in_table, (chose or {}).get(n, ()), answered) for n in names}
    out: dict[str, Any] = {
        "kind": "replay-certificate",
        "level": LEVEL,
        "targets": {k: list(v) if isinstance(v, tuple) else v for k, v in TARGETS.items()},
        "sources": dict(sources or {}),
        "strategies": {n: f.to_json() for n, f in found.items()},
        "not_compared": sorted(set(rep) ^ set(liv) | {n for n in rep if n in liv and n not in found}),
    }
    inside = sum(f.inside for f in found.values())
    seeds = sum(len(f.live_seeds) for f in found.values())
    pooled = stats.binomtest(inside, seeds).proportion_ci(LEVEL, method="exact") if seeds else None
    low, high = TARGETS["coverage"]
    out["coverage"] = {
        "inside": inside,
        "seeds": seeds,
        "coverage": _r(inside / seeds) if seeds else None,
        "ci": [_r(pooled.low), _r(pooled.high)] if pooled else None,
        "met": bool(seeds) and low <= inside / seeds <= high,
    }
    tau = None
    if len(found) >= 2:
        tau = float(
            stats.kendalltau([f.live_mean for f in found.values()], [f.replay_mean for f in found.values()]).statistic
        )
    # Judged as stored: nine of ten pairs concordant is 0.8, which scipy returns as 0.7999999999999999.
    out["kendall_tau"] = {"tau": _r(tau), "met": tau is not None and round(tau, DIGITS) >= TARGETS["tau"]}
    live_seeds = sorted(set.intersection(*(set(f.live_seeds) for f in found.values()))) if found else []
    replay_common = sorted(set.intersection(*(set(f.replay_seeds) for f in found.values()))) if found else []
    same_seeds = replay_common[: len(live_seeds)]  # as many replay seeds as live ones: the same power
    live_pairs = _significant([x for n in names for x in liv[n] if x.seed in live_seeds], names) if names else []
    replay_pairs = _significant([x for n in names for x in rep[n] if x.seed in same_seeds], names) if names else []
    out["cd"] = {
        "seeds": len(same_seeds),
        "live": live_pairs,
        "replay": replay_pairs,
        "agree": bool(same_seeds) and len(same_seeds) == len(live_seeds) and live_pairs == replay_pairs,
    }
    fit = [n for n, f in found.items() if f.met()["bias_ci_in_margin"]]
    out["fit_for_ranking"] = fit
    out["missed"] = missed(out)
    out["all_targets_met"] = bool(found) and not out["missed"]
    return out


def missed(cert: Mapping[str, Any]) -> list[str]:
    """Each missed target, one line with its figures."""
    t = cert["targets"]
    out = []
    for name, f in cert["strategies"].items():
        why = f"; {_split(f.get('split'))}" if f.get("split") else ""
        if not f["met"]["bias"]:
            out.append(
                f"{name}: bias {points(f['bias'], signed=True)} pp ({f['bias_judged_on']}), beyond "
                f"±{100 * t['bias']:.2f} pp{why}"
            )
        if not f["met"]["bias_ci_in_margin"]:
            out.append(
                f"{name}: bias 95% CI {_ci(f['bias_ci'])} pp ({f['bias_judged_on']}) "
                f"not inside ±{100 * t['margin']:.2f} pp{why if f['met']['bias'] else ''}"
            )
        if not f["met"]["sd_ratio"]:
            b = f["replay_beyond_live"]
            out.append(
                f"{name}: SD ratio {f['sd_ratio']:.2f}, outside {t['sd_ratio'][0]}..{t['sd_ratio'][1]}; of its "
                f"{f['replay_seeds']} replay seeds {b['below']} lie below the lowest of {f['live_seeds']} live seeds, "
                f"{b['above']} above the highest"
            )
    c = cert["coverage"]
    if not c["met"]:
        out.append(
            f"coverage {c['inside']}/{c['seeds']} = {100 * (c['coverage'] or 0):.1f} %, outside "
            f"{100 * t['coverage'][0]:.0f}..{100 * t['coverage'][1]:.0f} %"
        )
    if not cert["kendall_tau"]["met"]:
        out.append(f"Kendall's τ {_tau(cert['kendall_tau']['tau'])}, below {t['tau']}{_live_order(cert)}")
    if not cert["cd"]["agree"]:
        live, replay = set(cert["cd"]["live"]), set(cert["cd"]["replay"])
        out.append(
            f"CD diagrams differ: live alone separates {', '.join(sorted(live - replay)) or 'no pair'}; the replay "
            f"alone {', '.join(sorted(replay - live)) or 'no pair'} ({len(live & replay)} pairs alike)"
        )
    return out


def _live_order(cert: Mapping[str, Any]) -> str:
    """How sure the live order itself is: the median gap between strategies adjacent in the live order against the
    median standard error of a live mean (a gap within it is a coin toss for τ, whatever the replay does)."""
    found = cert["strategies"].values()
    means = sorted(f["live_mean"] for f in found)
    if len(means) < 2:
        return ""
    gap = float(np.median(np.diff(means)))
    error = float(np.median([f["sd_live"] / np.sqrt(f["live_seeds"]) for f in found]))
    return (
        f"; strategies adjacent in the live order differ by a median {100 * gap:.2f} pp, a live mean's standard "
        f"error is a median {100 * error:.2f} pp"
    )


def warning(cert: Mapping[str, Any] | None) -> str:
    """The one line printed above every replay table when a target is missed (empty when none is)."""
    if cert is None:
        return "> **Replay, not certified:** no held-out live runs to check it against; cite no figure of it."
    if cert["all_targets_met"]:
        return ""
    fit = ", ".join(cert["fit_for_ranking"]) or "none"
    return (
        f"> **Replay, certificate targets missed ({len(cert['missed'])}):** see certificate.json and REPLAY.md; fit "
        f"for ranking: {fit}."
    )


HEADERS = [
    "Strategy",
    "Regime: replay trials recorded / live trials in table",
    "Live test % mean (seeds)",
    "Replay test % mean (seeds)",
    "Live − replay pp [95% CI], judged",
    "SD pp: live / replay",
    "SD ratio [95% CI]",
    "Live inside replay's one-seed 95% [CI]",
    "Targets",
    "Unpaired: live − every replay seed pp [95% CI]",
    "Same seeds: replay % (seeds), r",
    "Why: judged bias = surrogate at the live configurations + search, pp [95% CI]",
]


def _split(p: Mapping[str, Any] | None) -> str:
    if not p:
        return "n/a"
    return (
        f"surrogate at the live configurations {_interval(p['surrogate'], p['surrogate_ci'])}, search "
        f"{_interval(p['search'], p['search_ci'])} ({p['seeds']} seeds)"
    )


def _split_cell(p: Mapping[str, Any] | None) -> str:
    if not p:
        return "n/a"
    return f"{_interval(p['surrogate'], p['surrogate_ci'])} + {_interval(p['search'], p['search_ci'])}"


def _ci(ci: Sequence[float]) -> str:
    return f"[{points(ci[0], signed=True)}, {points(ci[1], signed=True)}]"


def _interval(bias: float, ci: Sequence[float]) -> str:
    return f"{points(bias, signed=True)} {_ci(ci)}"


def _same_seeds(p: Mapping[str, Any] | None) -> str:
    if not p:
        return "n/a (held-out seeds not replayed)"
    r = p["correlation"]
    return f"{100 * p['replay_mean']:.2f} ({p['seeds']}), {'n/a' if r is None else f'{r:.2f}'}"


def _share(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.0f} %"


def markdown(cert: Mapping[str, Any]) -> str:
    """The certificate as REPLAY.md shows it: the per-strategy table, the figures across strategies, what missed."""
    from tabulate import tabulate

    t = cert["targets"]
    body = []
    for name, f in cert["strategies"].items():
        rlow, rhigh = f["sd_ratio_ci"]
        clow, chigh = f["coverage_ci"]
        met = f["met"]
        body.append(
            [
                name,
                f"{f['regime']}: {_share(f['replay_trials_recorded'])} / {_share(f['live_trials_in_table'])}",
                f"{100 * f['live_mean']:.2f} ({f['live_seeds']})",
                f"{100 * f['replay_mean']:.2f} ({f['replay_seeds']})",
                f"{_interval(f['bias'], f['bias_ci'])} ({f['bias_judged_on']})",
                f"{100 * f['sd_live']:.2f} / {100 * f['sd_replay']:.2f}",
                f"{f['sd_ratio']:.2f} [{rlow:.2f}, {rhigh:.2f}]",
                f"{f['inside']}/{f['live_seeds']} [{100 * clow:.0f}, {100 * chigh:.0f} %]",
                ", ".join(f"{k} {'ok' if v else 'MISSED'}" for k, v in met.items()),
                _interval(f["all_replay_seeds"]["bias"], f["all_replay_seeds"]["bias_ci"]),
                _same_seeds(f.get("same_seeds")),
                _split_cell(f.get("split")),
            ]
        )
    c, tau, cd = cert["coverage"], cert["kendall_tau"], cert["cd"]
    out = [
        tabulate(body, HEADERS, tablefmt="github", disable_numparse=True),
        "",
        f"Targets: |live − replay| ≤ {100 * t['bias']:.2f} pp (bias) with its 95 % CI inside the equivalence margin "
        f"±{100 * t['margin']:.2f} pp (bias_ci_in_margin); SD ratio within {t['sd_ratio'][0]}..{t['sd_ratio'][1]}; "
        f"coverage of the replay's one-seed 95 % interval within {100 * t['coverage'][0]:.0f}..{100 * t['coverage'][1]:.0f} % "
        f"over every strategy's held-out seeds pooled; Kendall's τ between the live and replay orders ≥ {t['tau']}; "
        "the CD diagrams agree.  The bias judged is live minus replay on the same seeds, seed by seed, where the "
        "replay also ran every held-out seed (same seeds: its mean there, and the correlation r of a seed's live and "
        "replay results): a replay seed shares its live seed's luck, the same oracle seed proposing the same first "
        "configurations.  Where held-out live runs chose the surrogate's model error (`tuning fit`, SURROGATE.md), "
        "the bias judged is over the other held-out seeds alone (same seeds, out of sample), the in-sample pairs "
        "shown under Same seeds.  Otherwise it is the unpaired bias, live minus every replay seed (Welch), shown "
        "beside it in every case.  Why: the judged bias in two parts over its seeds, each with its t-interval: the "
        "surrogate's, live minus the surrogate answering the live run's own configurations (as a replay answers a "
        "trial, 50 times; the best validation accuracy reports), and the search's, those answers minus the replay, "
        "whose search went its own way on the surrogate.",
        "",
        f"- Coverage, pooled: {c['inside']}/{c['seeds']} = {100 * (c['coverage'] or 0):.1f} % "
        + (f"[{100 * c['ci'][0]:.1f}, {100 * c['ci'][1]:.1f} %]" if c["ci"] else "")
        + f": {'ok' if c['met'] else 'MISSED'}.",
        f"- Kendall's τ between the live and replay orders of the mean: {_tau(tau['tau'])}: "
        f"{'ok' if tau['met'] else 'MISSED'}.",
        f"- CD diagrams (Wilcoxon signed-rank, Holm, α 0.05; the replay on its first {cd['seeds']} seeds, as many "
        f"as the live ones): live separates {', '.join(cd['live']) or 'no pair'}; the replay {', '.join(cd['replay']) or 'no pair'}: "
        f"{'agree' if cd['agree'] else 'DIFFER'}.",
        f"- Fit for ranking (judged bias CI inside ±{100 * t['margin']:.2f} pp): {', '.join(cert['fit_for_ranking']) or 'none'}.",
    ]
    if cert["missed"]:
        out += ["", "Missed:", ""] + [f"- {line}" for line in cert["missed"]]
    else:
        out += ["", "Every target is met."]
    if cert["not_compared"]:
        out += ["", f"Not compared (no held-out live runs, or no replay): {', '.join(cert['not_compared'])}."]
    return "\n".join(out) + "\n"


def in_table(table_directory: Path, space: Any) -> Callable[[RunResult], float] | None:
    """``live run -> the share of its trials whose configuration the table under ``table_directory`` holds``
    (``space.key`` names a configuration); None where there is no table."""
    from tuning.objectives.replay.table import recorded_keys

    keys = recorded_keys(table_directory)
    if not keys:
        return None

    def share(run: RunResult) -> float:
        return sum(space.key(t.hyperparameters) in keys for t in run.trials) / max(1, len(run.trials))

    return share


def recompute(
    replay_runs: Path,
    holdout_runs: Path,
    table_directory: Path,
    space: Any,
    answered: Callable[[RunResult], float | None] | None = None,
) -> dict[str, Any]:
    """The certificate from the files alone: the replay's runs file, the held-out live runs file, the table (for
    which live trials it holds); ``answered``: the table's surrogate answering a live run's own configurations
    (``tuning.execution.replay.surrogate_answers``), which splits the bias; ``sources`` names each file by its last
    four parts (<problem>/<kind>/<budget>/file), wherever the results folder is."""
    from tuning.results import read_runs

    replay = [r for r in read_runs(replay_runs) if r.mode == "replay"]
    live = [r for r in read_runs(holdout_runs) if r.mode == "live"]
    sources = {"replay": "/".join(Path(replay_runs).parts[-4:]), "holdout": "/".join(Path(holdout_runs).parts[-4:])}
    return certify(
        replay, live, in_table(table_directory, space), sources, chose_model_error(table_directory), answered
    )


def chose_model_error(table_directory: Path) -> dict[str, list[int]]:
    """Per strategy, the held-out seeds whose live runs chose the surrogate's model error (``surrogate.json`` beside
    the table: ``tuning fit``'s held-out live searches); empty where the simulated searches chose it."""
    import json

    from tuning.results import SURROGATE_FILE

    path = Path(table_directory) / SURROGATE_FILE
    if not path.exists():
        return {}
    fitted = json.loads(path.read_text())
    if fitted.get("error_chosen_by") != "held-out live searches":
        return {}
    return {b["strategy"]: list(b["seeds"]) for b in fitted["live_searches"].get(fitted["error"], [])}


def write(cert: Mapping[str, Any], directory: Path) -> Path:
    from tuning.results import write_atomic

    return write_atomic(Path(directory) / FILE, dict(cert))


def _tau(tau: float | None) -> str:
    return "n/a (fewer than two strategies compared)" if tau is None else f"{tau:.2f}"
