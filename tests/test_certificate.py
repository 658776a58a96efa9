"""The replay's certificate: it follows from the committed runs files, and a planted bias fails it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tuning.core.records import RunResult
from tuning.execution.replay import surrogate_answers
from tuning.problems.mnist_mlp import SPACE
from tuning.report import certificate
from tuning.report.agreement import replay_report
from tuning.results import RUNS_FILE, holdout_dir, replay_dir

from documents import result_document

ROOT = Path(__file__).resolve().parents[1]
REPLAY = replay_dir(ROOT / "results", "mnist-mlp", "standard")
HOLDOUT = holdout_dir(ROOT / "results", "mnist-mlp", "standard")


def test_the_committed_certificate_follows_from_the_committed_files() -> None:
    """Recomputed from the replay runs, the held-out live runs and the table: the very certificate committed."""
    committed = json.loads((REPLAY / certificate.FILE).read_text())
    answered = surrogate_answers("standard", REPLAY.parent)
    assert certificate.recompute(REPLAY / RUNS_FILE, HOLDOUT / RUNS_FILE, REPLAY, SPACE, answered) == committed


def test_the_committed_report_shows_the_certificate_and_warns_where_a_target_is_missed() -> None:
    committed = json.loads((REPLAY / certificate.FILE).read_text())
    text = (REPLAY / "REPLAY.md").read_text()
    warning = certificate.warning(committed)
    tables = text.count("\n| Strategy ")
    assert tables >= 3 and certificate.markdown(committed) in text
    assert (warning == "") == committed["all_targets_met"]
    if warning:
        assert text.count(warning) >= tables  # above every replay table


def _runs(mode: str, seeds: range, mean: float, sd: float, shift: float = 0.0) -> list[RunResult]:
    rng = np.random.default_rng([len(seeds), seeds[0]])
    out = []
    for name, offset in (("grid", -0.01), ("random", 0.0), ("tpe", 0.003)):
        for seed in seeds:
            accuracy = float(np.round(mean + offset + shift + rng.normal(0, sd), 4))
            doc = result_document(name, seed, accuracy, budget="standard") | {"mode": mode}
            if mode == "replay":
                doc["replay"] = {"answers": {"recorded": 0, "predicted": 3}}
            out.append(RunResult.from_json(doc))
    return out


def test_a_replay_drawn_like_the_live_runs_meets_the_targets() -> None:
    cert = certificate.certify(
        _runs("replay", range(0, 400), 0.95, 0.002), _runs("live", range(1000, 1060), 0.95, 0.002)
    )
    assert cert["missed"] == [] and cert["all_targets_met"]
    assert cert["fit_for_ranking"] == ["grid", "random", "tpe"]
    assert certificate.warning(cert) == ""


def test_a_planted_bias_fails_the_certificate() -> None:
    """The live runs 0.5 pp above the replay: every strategy's bias and its interval miss, and the report warns."""
    replay = _runs("replay", range(0, 400), 0.95, 0.002)
    cert = certificate.certify(replay, _runs("live", range(1000, 1060), 0.95, 0.002, shift=0.005))
    assert not cert["all_targets_met"] and cert["fit_for_ranking"] == []
    for figures in cert["strategies"].values():
        assert figures["bias"] > 0.004 and not figures["met"]["bias"] and not figures["met"]["bias_ci_in_margin"]
    assert not cert["coverage"]["met"]  # most live seeds now lie above the replay's one-seed interval
    warning = certificate.warning(cert)
    assert "targets missed" in warning
    report = replay_report("standard", replay, [], {}, "test", cert)
    assert report.count(warning) >= report.count("\n| Strategy ") + 1  # at the top, and above every table


def test_a_replay_too_narrow_misses_the_sd_ratio_and_the_coverage() -> None:
    cert = certificate.certify(
        _runs("replay", range(0, 400), 0.95, 0.0005), _runs("live", range(1000, 1060), 0.95, 0.003)
    )
    assert all(not f["met"]["sd_ratio"] for f in cert["strategies"].values())
    assert not cert["coverage"]["met"]


def _paired_runs(shift: float, block: float = 0.0) -> tuple[list[RunResult], list[RunResult]]:
    """Replay seeds 0-399 and, on held-out seeds 1000-1059, live and replay sharing each seed's own luck (a draw
    both sides see, as the same oracle seed proposes the same configurations), the live ones ``shift`` above;
    ``block``: the held-out seeds' luck as a whole, away from the other seeds'."""
    rng = np.random.default_rng(7)
    luck = {seed: block + rng.normal(0, 0.003) for seed in range(1000, 1060)}
    replay, live = [], []
    for seed in [*range(0, 400), *luck]:
        accuracy = float(np.round(0.95 + luck.get(seed, rng.normal(0, 0.003)) + rng.normal(0, 0.0005), 4))
        doc = result_document("random", seed, accuracy, budget="standard") | {"mode": "replay"}
        doc["replay"] = {"answers": {"recorded": 0, "predicted": 3}}
        replay.append(RunResult.from_json(doc))
    for seed, drawn in luck.items():
        accuracy = float(np.round(0.95 + drawn + shift + rng.normal(0, 0.0005), 4))
        live.append(
            RunResult.from_json(result_document("random", seed, accuracy, budget="standard") | {"mode": "live"})
        )
    return replay, live


def test_the_held_out_seeds_replayed_pair_off_their_own_luck() -> None:
    """Seed by seed, live minus replay on the held-out seeds: near zero for a faithful replay whatever those seeds
    drew, and the planted 0.5 pp where there is one; the replay's other seeds are not paired."""
    for shift in (0.0, 0.005):
        replay, live = _paired_runs(shift)
        same = certificate.certify(replay, live)["strategies"]["random"]["same_seeds"]
        low, high = same["bias_ci"]
        assert same["seeds"] == 60 and same["correlation"] > 0.9
        assert low < shift < high and high - low < 0.0005, same
    cert = certificate.certify(
        _runs("replay", range(0, 400), 0.95, 0.002), _runs("live", range(1000, 1060), 0.95, 0.002)
    )
    assert all(f["same_seeds"] is None for f in cert["strategies"].values())
    assert "n/a (held-out seeds not replayed)" in certificate.markdown(cert)


def test_the_bias_judged_is_the_paired_one_where_every_held_out_seed_was_replayed() -> None:
    """Held-out seeds that drew 0.3 pp below the rest: unpaired, a faithful replay looks biased; seed by seed it is
    not, and the certificate judges it so.  A planted 0.3 pp bias still fails seed by seed."""
    replay, live = _paired_runs(0.0, block=-0.003)
    f = certificate.certify(replay, live)["strategies"]["random"]
    assert f["bias_judged_on"] == "same seeds" and f["bias"] == f["same_seeds"]["bias"]
    assert f["all_replay_seeds"]["bias"] < -0.002 and f["all_replay_seeds"]["bias_ci"][1] < -0.001  # unpaired: misses
    assert f["met"]["bias"] and f["met"]["bias_ci_in_margin"]
    replay, live = _paired_runs(0.003)
    f = certificate.certify(replay, live)["strategies"]["random"]
    assert f["bias_judged_on"] == "same seeds" and not f["met"]["bias"] and not f["met"]["bias_ci_in_margin"]
    replay, live = _paired_runs(0.0, block=-0.003)  # one held-out seed not replayed: the unpaired bias is judged
    replay = [r for r in replay if r.seed != 1000]
    f = certificate.certify(replay, live)["strategies"]["random"]
    assert f["bias_judged_on"] == "all replay seeds" and not f["met"]["bias_ci_in_margin"]


def test_kendalls_tau_at_the_target_meets_it() -> None:
    """Five strategies, one pair swapped between live and replay: nine of ten pairs concordant, τ exactly 0.8."""
    names = ["bohb", "grid", "hyperband", "random", "tpe"]
    live_order, replay_order = [0, 1, 2, 3, 4], [0, 1, 2, 4, 3]
    runs: dict[str, list[RunResult]] = {"live": [], "replay": []}
    for mode, order, seeds in (("live", live_order, range(100, 110)), ("replay", replay_order, range(0, 10))):
        for name, rank in zip(names, order):
            for seed in seeds:
                doc = result_document(name, seed, 0.94 + 0.001 * rank + 0.0001 * (seed % 3), budget="standard")
                doc |= {"mode": mode} | (
                    {"replay": {"answers": {"recorded": 0, "predicted": 3}}} if mode == "replay" else {}
                )
                runs[mode].append(RunResult.from_json(doc))
    tau = certificate.certify(runs["replay"], runs["live"])["kendall_tau"]
    assert tau == {"tau": 0.8, "met": True}


def test_cd_diagrams_that_differ_are_named_pair_by_pair() -> None:
    """Live, random search clearly above grid on every seed; replayed, the two alternate: the line names the pair."""
    runs: dict[str, list[RunResult]] = {"live": [], "replay": []}
    for seed in range(10):
        for name, live, replay in (
            ("random", 0.95, 0.94 + 0.001 * (-1) ** seed),
            ("grid", 0.93, 0.94 - 0.001 * (-1) ** seed),
        ):
            runs["live"].append(
                RunResult.from_json(result_document(name, 100 + seed, live + 0.0001 * seed) | {"mode": "live"})
            )
            doc = result_document(name, seed, replay) | {
                "mode": "replay",
                "replay": {"answers": {"recorded": 0, "predicted": 3}},
            }
            runs["replay"].append(RunResult.from_json(doc))
    cert = certificate.certify(runs["replay"], runs["live"])
    assert not cert["cd"]["agree"]
    assert (
        "CD diagrams differ: live alone separates random > grid; the replay alone no pair (0 pairs alike)"
        in (cert["missed"])
    )


def test_a_replay_spread_too_wide_is_missed_with_the_seeds_beyond_every_live_one() -> None:
    """Replay seeds three times as spread as live: the SD ratio misses, and the line counts the replay seeds lying
    beyond every live seed, each side."""
    replay, live = _runs("replay", range(0, 400), 0.95, 0.006), _runs("live", range(1000, 1060), 0.95, 0.002)
    cert = certificate.certify(replay, live)
    f = cert["strategies"]["random"]
    low, high = (
        min(r.best.test_accuracy for r in live if r.strategy == "random"),
        max(r.best.test_accuracy for r in live if r.strategy == "random"),
    )
    rep = [r.best.test_accuracy for r in replay if r.strategy == "random"]
    below, above = sum(x < low for x in rep), sum(x > high for x in rep)
    assert not f["met"]["sd_ratio"] and f["replay_beyond_live"] == {"below": below, "above": above} and below > 20
    assert f"random: SD ratio {f['sd_ratio']:.2f}, outside 0.67..1.5; of its 400 replay seeds {below} lie below" in (
        "\n".join(cert["missed"])
    )


def test_seeds_that_chose_the_model_error_are_not_judged() -> None:
    """Held-out seeds that chose the surrogate's model error agree with the replay by construction: the bias is
    judged over the other held-out seeds alone, where a planted 0.3 pp is found; strategies that chose nothing are
    judged over all their seeds, as before."""
    replay, live = _paired_runs(0.0)
    chose = list(range(1000, 1030))
    live = [
        r
        if r.seed in chose
        else RunResult.from_json(
            r.to_json() | {"best": r.best.to_json() | {"test_accuracy": r.best.test_accuracy + 0.003}}
        )
        for r in live
    ]
    f = certificate.certify(replay, live, chose={"random": chose})["strategies"]["random"]
    assert f["bias_judged_on"] == "same seeds, out of sample" and f["chose_model_error"] == 30
    assert f["out_of_sample"]["seeds"] == 30 and f["bias"] == f["out_of_sample"]["bias"]
    assert f["bias"] > 0.0025 and not f["met"]["bias"] and not f["met"]["bias_ci_in_margin"]
    assert f["same_seeds"]["seeds"] == 60 and f["same_seeds"]["bias"] < f["bias"]  # in sample the planted half dilutes
    g = certificate.certify(replay, live, chose={"tpe": chose})["strategies"]["random"]
    assert g["bias_judged_on"] == "same seeds" and "out_of_sample" not in g and g["bias"] == f["same_seeds"]["bias"]


def test_the_split_says_whether_the_surrogate_or_the_search_makes_a_bias() -> None:
    """A planted 0.3 pp bias: where the surrogate answers the live configurations as the replay does, the bias is the
    surrogate's (its part 0.3 pp, the search's 0); where it answers them as the live run did, the bias is the
    search's.  The two parts add up to the judged bias, and a missed target names them."""
    replay, live = _paired_runs(0.003)
    rep, liv = {r.seed: r.best.test_accuracy for r in replay}, {r.seed: r.best.test_accuracy for r in live}
    for answered, blamed in ((lambda run: rep[run.seed], "surrogate"), (lambda run: liv[run.seed], "search")):
        f = certificate.certify(replay, live, answered=answered)["strategies"]["random"]
        s = f["split"]
        other = "search" if blamed == "surrogate" else "surrogate"
        assert s["seeds"] == 60 and s[other] == 0.0 and s[blamed] == f["bias"]
        assert s[f"{blamed}_ci"][0] > 0.002 and abs(s["surrogate"] + s["search"] - f["bias"]) < 1e-6
    cert = certificate.certify(replay, live, answered=lambda run: rep[run.seed])
    assert (
        "; surrogate at the live configurations +0.29 [" in cert["missed"][0]
        and "search +0.00 [+0.00, +0.00]" in (cert["missed"][0])
    )
    assert certificate.certify(replay, live)["strategies"]["random"]["split"] is None  # no surrogate: no split
