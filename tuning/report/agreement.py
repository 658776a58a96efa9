"""Live versus replay: do the live results fall where the replay says one seed (and a few seeds' mean) falls?

A live run is one seed, so each live result is checked against the replay's
95 % interval for one seed (the 2.5th..97.5th percentiles of the replay's
per-seed results), and the live mean of n seeds against the replay's
95 % interval for a mean of n seeds (percentiles of the means of
``SUBSETS`` random n-seed subsets of the replay seeds, seeded).  Test
accuracy is what is compared; wall-clock is shown beside it (the replay's
is simulated).  Reads result files only, like the rest of the report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tabulate import tabulate

from tuning.core.errors import UsageError
from tuning.core.points import points
from tuning.core.records import RunResult
from tuning.core.seeds import seed_runs
from tuning.report import certificate
from tuning.results import (
    RUNS_FILE,
    ResultError,
    holdout_dir,
    read_result,
    replay_dir,
)
from tuning.results import read_runs as read_packed

LEVEL = 0.95
SUBSETS = 10_000
SUBSET_SEED = 0


def read_runs(directory: Path, mode: str, warn: Callable[[str], None] | None = None) -> list[RunResult]:
    """The ``mode`` results directly in ``directory``: its runs file (``runs.jsonl.gz``), then any result files
    (``<strategy>-seed<N>.json``, as the bench's replay mode writes them), a file replacing the runs file's line of
    the same strategy and seed."""
    found: dict[tuple[str, int], RunResult] = {}
    packed = Path(directory) / RUNS_FILE
    if packed.is_file():
        try:
            found.update(((r.strategy, r.seed), r) for r in read_packed(packed))
        except ResultError as e:
            if warn:
                warn(f"skipped {e}")
    for path in sorted(Path(directory).glob("*-seed*.json")):
        try:
            result = read_result(path)
        except ResultError as e:
            if warn:
                warn(f"skipped {e}")
            continue
        found[result.strategy, result.seed] = result
    return [r for _, r in sorted(found.items()) if r.mode == mode]


def seed_list(seeds: Iterable[int]) -> str:
    """Seeds as runs of consecutive numbers: ``0-199`` rather than two hundred of them."""
    return seed_runs(seeds)


def interval(values: Sequence[float], level: float = LEVEL) -> tuple[float, float]:
    low, high = np.quantile(np.asarray(values, dtype=float), [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def mean_interval(values: Sequence[float], n: int, level: float = LEVEL) -> tuple[float, float]:
    """Where the mean of ``n`` of these seeds falls, 95 % of the time (random subsets, without replacement)."""
    x = np.asarray(values, dtype=float)
    if n >= len(x):
        return float(x.mean()), float(x.mean())
    rng = np.random.default_rng(SUBSET_SEED)
    means = np.array([x[rng.choice(len(x), n, replace=False)].mean() for _ in range(SUBSETS)])
    return interval(means, level)


@dataclass
class Agreement:
    strategy: str
    replay_seeds: list[int]
    replay_test: list[float]
    replay_wall: list[float]
    live_seeds: list[int]
    live_test: list[float]
    live_wall: list[float]

    @property
    def one_seed(self) -> tuple[float, float]:
        return interval(self.replay_test)

    @property
    def inside(self) -> int:
        low, high = self.one_seed
        return sum(low <= t <= high for t in self.live_test)

    @property
    def mean_band(self) -> tuple[float, float]:
        return mean_interval(self.replay_test, len(self.live_test))

    @property
    def mean_inside(self) -> bool:
        low, high = self.mean_band
        return low <= float(np.mean(self.live_test)) <= high

    def same_seeds(self) -> str:
        """Live minus replay test accuracy on the seeds both ran (the same oracle seed: for random search the
        same proposals, so what differs is training alone), as "+0.12 (3 seeds)"."""
        replay = dict(zip(self.replay_seeds, self.replay_test))
        diffs = [t - replay[s] for s, t in zip(self.live_seeds, self.live_test) if s in replay]
        return f"{100 * float(np.mean(diffs)):+.2f} ({len(diffs)} seeds)" if diffs else "n/a"

    @property
    def outside_p(self) -> float:
        """One-sided binomial p of at least this many live seeds outside the one-seed interval, if each falls
        outside with probability 1 - LEVEL (a perfect replay: about one seed in twenty)."""
        from scipy.stats import binomtest

        n = len(self.live_test)
        return float(binomtest(n - self.inside, n, 1 - LEVEL, alternative="greater").pvalue) if n else 1.0

    @property
    def agrees(self) -> bool:
        """No more live seeds outside than chance explains (binomial p >= 1 - LEVEL), and the live mean inside
        the interval for a mean of as many seeds."""
        return self.outside_p >= 1 - LEVEL and self.mean_inside


def agreements(replay: Sequence[RunResult], live: Sequence[RunResult]) -> tuple[list[Agreement], list[str], list[str]]:
    """(strategies both ran, strategies only live ran, strategies only the replay ran)."""
    rep, liv = certificate.by_strategy(replay), certificate.by_strategy(live)
    both = [
        Agreement(
            name,
            [r.seed for r in rep[name]],
            [r.best.test_accuracy for r in rep[name]],
            [r.wall_clock_seconds for r in rep[name]],
            [r.seed for r in liv[name]],
            [r.best.test_accuracy for r in liv[name]],
            [r.wall_clock_seconds for r in liv[name]],
        )
        for name in rep
        if name in liv
    ]
    return both, sorted(set(liv) - set(rep)), sorted(set(rep) - set(liv))


HEADERS = [
    "Strategy",
    "Replay seeds",
    "Replay test % mean [95% one seed]",
    "Live seeds",
    "Live test %",
    "Live inside",
    "Live mean % [replay 95% for that many seeds]",
    "Same seeds: live − replay pp (mean)",
    "Wall-clock s: live median / replay median [95%]",
    "Verdict",
]


def rows(found: Sequence[Agreement]) -> list[list[str]]:
    out = []
    for a in found:
        low, high = a.one_seed
        mlow, mhigh = a.mean_band
        wlow, whigh = interval(a.replay_wall)
        out.append(
            [
                a.strategy,
                seed_list(a.replay_seeds),
                f"{points(float(np.mean(a.replay_test)))} [{points(low)}, {points(high)}]",
                seed_list(a.live_seeds),
                ", ".join(points(t) for t in a.live_test),
                f"{a.inside}/{len(a.live_test)}",
                f"{points(float(np.mean(a.live_test)))} [{points(mlow)}, {points(mhigh)}]",
                a.same_seeds(),
                f"{np.median(a.live_wall):.1f} / {np.median(a.replay_wall):.1f} [{wlow:.1f}, {whigh:.1f}]",
                "agrees" if a.agrees else "**DISAGREES**",
            ]
        )
    return out


def markdown(
    budget: str,
    replay: Sequence[RunResult],
    live: Sequence[RunResult],
    why: Mapping[str, str],
    above: Sequence[str] = (),
) -> str:
    """REPLAY.md's agreement section: the table (``above`` it: the certificate's warning), what did not agree, and
    what was not compared."""
    found, live_only, replay_only = agreements(replay, live)
    out = [f"## Live versus replay ({budget})", "", *above]
    if found:
        out.append(tabulate(rows(found), HEADERS, tablefmt="github", disable_numparse=True))
    else:
        out.append("No strategy has both live and replay results.")
    out += [
        "",
        f"Live inside: live seeds whose test accuracy lies in the replay's {LEVEL:.0%} interval for one seed "
        "(2.5th..97.5th percentile of the replay seeds).  Live mean: the mean of the live seeds, against the "
        f"{LEVEL:.0%} interval of the mean of as many replay seeds ({SUBSETS:,} random subsets, seed {SUBSET_SEED}); "
        f"checked at {LEVEL:.0%}, about one live seed in {round(1 / (1 - LEVEL))} falls outside by chance alone, so "
        "the verdict is *agrees* when no more live seeds fall outside than chance explains (one-sided binomial test "
        f"against {1 - LEVEL:.0%}, p ≥ {1 - LEVEL:.2f}) and the live mean lies in its interval.  "
        "Same seeds: a replay seed runs the oracle with the live seed's own seed, so random search proposes the very "
        "same configurations; the difference is then training (other training seeds, the table's machine) alone.  "
        "This verdict sets the live mean against the replay's other seeds, so the held-out seeds' own draw counts "
        "against it; the certificate's bias, where the replay ran every held-out seed, is judged seed by seed.  "
        "The replay's wall-clock is simulated (recorded or predicted training seconds + the strategy's measured "
        "decision time); the live one was measured on the machine named in its provenance.",
        "",
    ]
    shown = [a for a in found if not a.agrees or a.inside < len(a.live_test)]
    if shown:
        out.append("Where live results fall outside the replay's intervals:")
        out.append("")
        for a in shown:
            low, high = a.one_seed
            outside = [f"seed {s} ({points(t)})" for s, t in zip(a.live_seeds, a.live_test) if not low <= t <= high]
            parts = []
            if outside:
                chance = "as many as chance gives" if a.outside_p >= 1 - LEVEL else "more than chance gives"
                parts.append(
                    f"{', '.join(outside)} outside [{points(low)}, {points(high)}] ({len(outside)} of {len(a.live_test)}: "
                    f"{chance}, binomial p = {a.outside_p:.2f})"
                )
            if not a.mean_inside:
                mlow, mhigh = a.mean_band
                parts.append(
                    f"live mean {points(float(np.mean(a.live_test)))} outside [{points(mlow)}, {points(mhigh)}]"
                )
            verdict = "agrees" if a.agrees else "DISAGREES"
            out.append(f"- {a.strategy} ({verdict}): " + "; ".join(parts) + ".")
        out.append("")
    if live_only:
        out.append("Live only: " + "; ".join(f"{n} ({why.get(n, 'not replayed here')})" for n in live_only) + ".")
    if replay_only:
        out.append(f"Replay only (no committed live runs to compare with): {', '.join(replay_only)}.")
    return "\n".join(out).rstrip() + "\n"


SUMMARY_HEADERS = [
    "Strategy",
    "Seeds",
    "Test acc. % mean ± std",
    "Test acc. % [95% one seed]",
    "Best val. acc. % (mean)",
    "Epochs (mean)",
    "Simulated wall-clock s (median)",
    "Decision s (median)",
    "Trials answered: recorded / predicted",
]


def summary(replay: Sequence[RunResult]) -> str:
    """One row per replayed strategy: outcome over its seeds, the simulated clock, how trials were answered."""
    groups: dict[str, list[RunResult]] = {}
    for r in sorted(replay, key=lambda r: (r.strategy, r.seed)):
        groups.setdefault(r.strategy, []).append(r)
    body = []
    for name, runs in groups.items():
        test = np.array([r.best.test_accuracy for r in runs])
        low, high = interval(test)
        answers = [(r.replay or {}).get("answers", {}) for r in runs]
        clock = [(r.replay or {}).get("clock", {}) for r in runs]
        body.append(
            [
                name,
                seed_list(r.seed for r in runs),
                f"{points(test.mean())} ± {points(test.std(ddof=1)) if len(test) > 1 else 'n/a'}",
                f"[{points(low)}, {points(high)}]",
                points(float(np.mean([r.best.val_accuracy for r in runs]))),
                f"{np.mean([r.epochs_trained for r in runs]):.1f}",
                f"{np.median([r.wall_clock_seconds for r in runs]):.1f}",
                f"{np.median([c.get('decision_seconds', 0.0) for c in clock]):.2f}",
                f"{sum(a.get('recorded', 0) for a in answers)} / {sum(a.get('predicted', 0) for a in answers)}",
            ]
        )
    return tabulate(body, SUMMARY_HEADERS, tablefmt="github", disable_numparse=True)


def replay_report(
    budget: str,
    replay: Sequence[RunResult],
    live: Sequence[RunResult],
    why: Mapping[str, str],
    command: str,
    cert: Mapping[str, Any] | None = None,
) -> str:
    """REPLAY.md: where the replay came from, its certificate (when held-out live runs were given), its summary, and
    how the live results fall in its intervals; the certificate's warning above every table."""
    surrogate = (replay[0].replay or {}) if replay else {}
    table = surrogate.get("table_summary", {})
    model = surrogate.get("surrogate", {})
    validation = surrogate.get("validation", {})
    warn = certificate.warning(cert)
    above = [warn, ""] if warn else []
    live_kind = "held-out live" if cert is not None else "live (in-sample: the table holds their configurations)"
    out = [
        f"# Replay of the {budget} budget",
        "",
        *above,
        f"Made by `{command}` from {len(replay)} replay runs and {len(live)} {live_kind} ones.",
        "",
    ]
    if replay:
        out += [
            f"Surrogate: {model.get('model', '?')} (scikit-learn {model.get('scikit-learn', '?')}) fitted to "
            f"{table.get('recordings', '?')} recordings of {table.get('configurations', '?')} configurations "
            f"({table.get('replicated', '?')} with several seeds), table SHA-256 `{str(table.get('digest', '?'))[:16]}…`, "
            f"recorded on {table.get('devices', '?')} ({table.get('backends', '?')}), commit "
            f"{table.get('commits', '?')}" + (f" ({table['label']})" if table.get("label") else "") + ".  "
            f"Noise: {model.get('noise', '?')}.  Held-out ρ of the final validation accuracy "
            f"{validation.get('rho', float('nan')):.3f} (seed-to-seed {validation.get('rho_seeds') or float('nan'):.3f}); "
            "see SURROGATE.md.",
            "",
        ]
    if cert is not None:
        out += [
            f"## Certificate: the replay against held-out live seeds {seed_list(r.seed for r in live)}",
            "",
            *above,
            certificate.markdown(cert),
            "Machine-readable: certificate.json beside this file (recomputed from the runs files by a test).",
            "",
        ]
    if replay:
        out += [
            "## Replay summary (predicted accuracies, simulated clock)",
            "",
            *above,
            summary(replay),
            "",
            "Trials answered: recorded, when the configuration is in the table (one of its recorded seeds, drawn per "
            "trial); predicted, by the surrogate plus drawn model error and seed noise.  Test accuracy of a predicted "
            "trial is a prediction, not a count of images.  Simulated wall-clock: recorded or predicted seconds of "
            "every trial and the final test, plus the strategy's measured decision time.",
            "",
        ]
    out.append(markdown(budget, replay, live, why, above))
    return "\n".join(out).rstrip() + "\n"


REPORT = "REPLAY.md"


def write_report(
    budget: str,
    results_dir: Path,
    why: Mapping[str, str],
    command: str,
    warn: Callable[[str], None] | None = None,
    live_dir: Path | None = None,
    problem: str = "mnist-mlp",
    holdout: Path | None = None,
    table_directory: Path | None = None,
    space: Any = None,
    problem_option: str = "",
    answered: Callable[[RunResult], float | None] | None = None,
) -> Path:
    """Write ``<results>/<problem>/replay/<budget>/REPLAY.md`` from the runs files alone and return its path.

    With held-out live runs (``<holdout>/<problem>/holdout/<budget>/runs.jsonl.gz``) the replay is compared with
    them and ``certificate.json`` is written beside it (``certificate.recompute``: the table in ``table_directory``,
    default the replay's own folder, says which live trials it holds; ``space`` names configurations); without, with
    the live runs in ``<live_dir or results>/<problem>/<budget>/`` (in-sample: no certificate).  ``answered``: the
    table's surrogate answering a live run's own configurations, which splits the certificate's bias.
    ``problem_option``: `` --problem X`` as the user named it (``execution.simulate.problem_option``), for the
    refusal's command."""
    directory = replay_dir(results_dir, problem, budget)
    replay = read_runs(directory, "replay", warn)
    if not replay:
        raise UsageError(
            f"no replay results in {directory}; make them with: tuning replay{problem_option} --budget {budget} "
            "--seeds 0-199"
        )
    held = read_runs(holdout_dir(holdout, problem, budget), "live", warn) if holdout is not None else []
    cert = None
    if held:
        held_file = holdout_dir(holdout, problem, budget) / RUNS_FILE  # type: ignore[arg-type]
        cert = certificate.recompute(directory / RUNS_FILE, held_file, table_directory or directory, space, answered)
        certificate.write(cert, directory)
        live = held
    else:
        live = read_runs(Path(live_dir if live_dir is not None else results_dir) / problem / budget, "live", warn)
    path = directory / REPORT
    path.write_text(replay_report(budget, replay, live, why, command, cert))
    return path
