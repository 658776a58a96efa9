"""Replay mode without training: the table's files, the surrogate, its validation, the replay objective in the
real search loop, the simulated clock, the agreement check and the commands' refusals."""

from __future__ import annotations

import gzip
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuning import strategies
from tuning.cli import main
from tuning.core.errors import UsageError
from tuning.core.records import RecordError, RunResult
from tuning.execution import simulate
from tuning.execution.loop import SearchLoop
from tuning.execution.pool import map_runs
from tuning.execution.record import GRID_POINTS, plan, sobol_configs
from tuning.execution.runner import execute
from tuning.objectives.live import backend
from tuning.objectives.replay import table, validate
from tuning.objectives.replay.objective import ReplayObjective
from tuning.objectives.replay.surrogate import Surrogate
from tuning.problems.mnist_mlp import BUDGETS, SPACE
from tuning.report.agreement import Agreement, agreements
from tuning.results import RUNS_FILE, read_runs, write_atomic, write_runs

from documents import result_document
from replay_tables import recording, synthetic_table

SMOKE = BUDGETS["smoke"]
REPLAYABLE = [n for n in strategies.names() if strategies.get(n).available() and not strategies.get(n).needs]


# -- the space's unit cube and the plan --------------------------------------------


@given(st.lists(st.floats(0.0, 1.0), min_size=SPACE.dimensions(), max_size=SPACE.dimensions()))
def test_every_point_of_the_unit_cube_is_a_configuration(point: list[float]) -> None:
    config = SPACE.from_unit(point)
    assert SPACE.validate(config) == config
    assert SPACE.key(config) == SPACE.key(dict(reversed(list(config.items()))))


def test_unit_cube_corners_reach_the_bounds() -> None:
    low, high = SPACE.from_unit([0.0] * SPACE.dimensions()), SPACE.from_unit([1.0] * SPACE.dimensions())
    assert (low["num_layers"], low["units_0"], low["optimizer"]) == (1, 32, "adam")
    assert (high["num_layers"], high["units_4"], high["optimizer"]) == (5, 512, "rmsprop")
    assert low["learning_rate"] == pytest.approx(1e-4) and high["learning_rate"] == pytest.approx(1e-2)


def test_keys_name_configurations_one_to_one() -> None:
    points = list(SPACE.grid_points())
    assert len({SPACE.key(c) for c in points}) == len(points)


def test_a_larger_sobol_sample_extends_a_smaller_one() -> None:
    assert sobol_configs(16, SPACE)[:8] == sobol_configs(8, SPACE)


def test_plan_grid_live_and_sobol_seed_zero_first(tmp_path: Path) -> None:
    live = result_document("random", 0, 0.9, budget="smoke")
    live["trials"][0]["hyperparameters"] = {
        "num_layers": 2,
        "units_0": 64,
        "units_1": 96,
        "optimizer": "sgd",
        "learning_rate": 0.003,
    }
    write_atomic(tmp_path / "mnist-mlp" / "smoke" / "random-seed0.json", live)
    tasks = plan(SMOKE, configs=8, seeds=3, grid=2, live_dir=tmp_path)
    grid = [SPACE.key(c) for c in list(SPACE.grid_points())[:2]]
    seeds_of: dict[str, list[int]] = {}
    for t in tasks:
        seeds_of.setdefault(t.key, []).append(t.seed)
    assert [t.key for t in tasks[:2]] == grid
    assert all(seeds_of[k] == [0, 1, 2] for k in grid)
    live_key = "num_layers=2,units_0=64,units_1=96,optimizer=sgd,learning_rate=0.003"
    assert seeds_of[live_key] == [0, 1, 2] and "live:random" in next(t for t in tasks if t.key == live_key).sources
    sobol = [SPACE.key(c) for c in sobol_configs(8, SPACE)]
    assert [len(seeds_of[k]) for k in sobol] == [3, 3] + [1] * 6  # a quarter replicated
    assert [t.seed for t in tasks] == sorted(t.seed for t in tasks)  # seed 0 of everything first
    assert len({t.trial_id for t in tasks if t.seed == 0}) == len(seeds_of)
    assert GRID_POINTS == max(b.trials for b in BUDGETS.values())


# -- the table's files ----------------------------------------------------------------


def test_table_appends_seals_and_reads_back(tmp_path: Path) -> None:
    lines = synthetic_table(configs=6, seeds=2, replicated=2)
    for r in lines:
        table.append(tmp_path, r)
    assert table.read_table(tmp_path, SMOKE, SPACE) == lines
    assert table.seal(tmp_path, SMOKE, SPACE) == len(lines)
    assert not (tmp_path / table.PENDING).exists()
    sealed = (tmp_path / table.SEALED).read_bytes()
    assert sorted(table.read_table(tmp_path, SMOKE, SPACE), key=lambda r: (r.key, r.seed)) == sorted(
        lines, key=lambda r: (r.key, r.seed)
    )
    for r in reversed(lines):  # the same lines in another order, appended again: nothing new, same bytes
        table.append(tmp_path, r)
    assert table.seal(tmp_path, SMOKE, SPACE) == len(lines)
    assert (tmp_path / table.SEALED).read_bytes() == sealed
    assert table.digest(lines) == table.digest(list(reversed(lines)))
    assert gzip.decompress(sealed).decode().count("\n") == len(lines)


def test_a_line_cut_by_a_kill_is_skipped_a_broken_one_is_refused(tmp_path: Path) -> None:
    first, second = synthetic_table(configs=2, seeds=1, replicated=0)
    table.append(tmp_path, first)
    with open(tmp_path / table.PENDING, "a") as f:
        f.write(json.dumps(second.to_json())[:50])  # no newline: the kill came mid-write
    assert table.read_table(tmp_path, SMOKE, SPACE) == [first]
    (tmp_path / table.PENDING).write_text("{not json\n" + json.dumps(first.to_json()) + "\n")
    with pytest.raises(table.TableError, match=r"table.pending.jsonl:1: not JSON"):
        table.read_table(tmp_path, SMOKE, SPACE)


def test_a_table_of_another_protocol_is_refused(tmp_path: Path) -> None:
    table.append(tmp_path, synthetic_table(configs=1, seeds=1, replicated=0)[0])
    with pytest.raises(table.TableError, match="not budget standard's"):
        table.read_table(tmp_path, BUDGETS["standard"], SPACE)
    bad = synthetic_table(configs=1, seeds=1, replicated=0)[0].to_json() | {"key": "num_layers=9"}
    (tmp_path / table.PENDING).write_text(json.dumps(bad) + "\n")
    with pytest.raises(table.TableError, match="does not name its hyperparameters"):
        table.read_table(tmp_path, SMOKE, SPACE)


# -- the surrogate and its validation ---------------------------------------------------


def test_a_recorded_configuration_is_answered_from_its_recorded_curves() -> None:
    lines = synthetic_table(configs=12, seeds=3, replicated=4)
    surrogate = Surrogate(lines, SPACE)
    target = lines[0]
    sources = set()
    for k in range(20):
        curve = surrogate.draw(target.hyperparameters, np.random.default_rng(k))
        seed = int(curve.source.rsplit(" ", 1)[1])
        real = next(r for r in lines if r.key == target.key and r.seed == seed)
        assert list(curve.val_accuracy) == list(real.column("val_accuracy"))
        assert list(curve.test_accuracy) == list(real.column("test_accuracy"))
        sources.add(seed)
    assert sources == {0, 1, 2}  # every recorded seed is drawn, none invented


def test_an_unrecorded_configuration_gets_the_prediction_plus_a_recorded_deviation() -> None:
    lines = synthetic_table(configs=24, seeds=3, replicated=8)
    surrogate = Surrogate(lines, SPACE)
    config = SPACE.from_unit([0.31] * SPACE.dimensions())
    assert SPACE.key(config) not in surrogate.by_key
    mean = surrogate.predict([config])[0][0]
    recorded = np.concatenate([p[:, : 2 * SMOKE.epochs] for p in surrogate.deviations])
    for k in range(10):
        a = surrogate.draw(config, np.random.default_rng([7, k]))
        b = surrogate.draw(config, np.random.default_rng([7, k]))
        assert np.array_equal(a.val_accuracy, b.val_accuracy) and np.array_equal(a.train_seconds, b.train_seconds)
        deviation = np.concatenate([a.val_accuracy, a.test_accuracy]) - mean
        assert np.min(np.abs(recorded - deviation).max(axis=1)) < 1e-9  # one of the recorded deviations
    without_replicates = Surrogate(synthetic_table(configs=24, seeds=1, replicated=0), SPACE)
    curve = without_replicates.draw(config, np.random.default_rng(0))
    assert np.allclose(curve.val_accuracy, without_replicates.predict([config])[0][0, : SMOKE.epochs])


def test_prefetched_predictions_are_the_ones_asked_for_one_at_a_time() -> None:
    """``prefetch`` (one batch, for the certificate's thousands of live configurations) answers bit for bit as
    ``predict_one`` does, and draws from a prefetched surrogate are the same draws."""
    lines = synthetic_table(configs=24, seeds=3, replicated=8)
    configs = [SPACE.from_unit([u] * SPACE.dimensions()) for u in np.linspace(0.05, 0.95, 15)]
    one, batch = Surrogate(lines, SPACE), Surrogate(lines, SPACE)
    batch.prefetch(configs + configs[:3])
    for config in configs:
        assert all(np.array_equal(a, b) for a, b in zip(one.predict_one(config), batch.predict_one(config)))
        a, b = one.draw(config, np.random.default_rng(3)), batch.draw(config, np.random.default_rng(3))
        assert np.array_equal(a.test_accuracy, b.test_accuracy)


def test_seed_noise_comes_from_configurations_at_the_same_accuracy_level() -> None:
    """A configuration that diverged on one seed must not lend its huge deviation to a converged one."""
    lines = synthetic_table(configs=40, seeds=3, replicated=12)
    unstable = next(r for r in lines if r.seed == 1 and r.column("val_accuracy")[-1] > 0.5)
    diverged = [{**e, "val_accuracy": 0.1, "test_accuracy": 0.1} for e in unstable.epochs]
    lines = [
        table.Recording(r.key, r.hyperparameters, r.seed, r.trial_id, r.budget, diverged, r.seconds)
        if (r.key, r.seed) == (unstable.key, 1)
        else r
        for r in lines
    ]
    surrogate = Surrogate(lines, SPACE)
    config = max(
        (SPACE.from_unit([u] * SPACE.dimensions()) for u in np.linspace(0.05, 0.95, 19)),
        key=lambda c: surrogate.predict([c])[0][0, SMOKE.epochs - 1],
    )
    level = surrogate.predict([config])[0][0, SMOKE.epochs - 1]
    assert abs(level - float(np.mean([r.column("val_accuracy")[-1] for r in lines if r.key == unstable.key]))) > 0.1
    for k in range(50):
        curve = surrogate.draw(config, np.random.default_rng(k))
        assert abs(curve.val_accuracy[-1] - level) < 0.05


def test_validation_tells_a_good_surrogate_from_one_fitted_to_noise() -> None:
    lines = synthetic_table(configs=60, seeds=2, replicated=20, noise=0.001)
    good = validate.cross_validate(lines, "forest", SPACE)
    assert good.rho > 0.85 and good.configurations == 60 and good.replicated == 20
    assert good.seed_std == pytest.approx(0.001, rel=0.5)
    # The same configurations with accuracies shuffled among them: nothing to learn.
    rng = np.random.default_rng(0)
    order = rng.permutation(len(lines))
    shuffled = [
        table.Recording(r.key, r.hyperparameters, r.seed, r.trial_id, r.budget, lines[j].epochs, r.seconds)
        for r, j in zip(lines, order)
    ]
    assert validate.cross_validate(shuffled, "forest", SPACE).rho < 0.5


def test_each_strategy_held_out_and_the_best_model_kept() -> None:
    lines = synthetic_table(configs=40, seeds=2, replicated=10)
    keys = {lines[0].key, lines[5].key, lines[9].key, lines[20].key}
    held = validate.hold_out(lines, keys, "knn", SPACE)
    assert held is not None and held.configurations == 4
    assert validate.hold_out(lines, {"num_layers=9"}, "knn", SPACE) is None
    figures = {m: validate.cross_validate(lines, m, SPACE) for m in ("forest", "knn")}
    assert validate.best(figures) == max(figures, key=lambda m: figures[m].rho)


# -- the replay objective in the real search loop -------------------------------------------


@pytest.fixture(scope="module")
def surrogate() -> Surrogate:
    grid = list(SPACE.grid_points())[: SMOKE.trials]
    return Surrogate(synthetic_table(configs=48, seeds=3, replicated=12, extra=grid), SPACE)


def _search(strategy: str, seed: int, surrogate: Surrogate, persist: bool = False) -> tuple[list, RunResult]:
    objective = ReplayObjective(surrogate, SMOKE, seed, SPACE)
    result = execute(strategies.get(strategy), SMOKE, seed, objective=objective, persist=persist)
    outcome = [(t.hyperparameters, t.val_accuracy, t.seconds, t.resumed_from) for t in result.trials]
    return outcome, result


@pytest.mark.parametrize("name", REPLAYABLE)
def test_replay_is_a_function_of_the_seed(name: str, surrogate: Surrogate) -> None:
    first, a = _search(name, 3, surrogate)
    second, b = _search(name, 3, surrogate)
    assert first == second
    assert (a.best.trial_id, a.best.test_accuracy, a.best.val_accuracy) == (
        b.best.trial_id,
        b.best.test_accuracy,
        b.best.val_accuracy,
    )
    assert a.epochs_trained <= SMOKE.epoch_budget


def test_a_continued_trial_carries_on_along_the_curve_it_continues(surrogate: Surrogate) -> None:
    budget = BUDGETS["standard"]  # Hyperband halves only from 3 epochs up
    lines = synthetic_table(configs=24, seeds=2, replicated=6, budget=budget)
    standard = Surrogate(lines, SPACE)
    objective = ReplayObjective(standard, budget, 0, SPACE)
    result = execute(strategies.get("hyperband"), budget, 0, objective=objective, persist=False)
    continued = [t for t in result.trials if t.resumed_from is not None]
    assert continued
    for t in continued:
        parent = objective.curves[t.resumed_from]
        assert t.val_accuracy == [float(v) for v in parent.val_accuracy[t.initial_epoch : t.initial_epoch + t.epochs]]


def test_a_pruned_trial_stops_on_its_drawn_curve(surrogate: Surrogate) -> None:
    """The per-epoch hook in replay: the drawn curve is reported epoch by epoch, the trial ends after the epoch
    the hook says stop, and its seconds and test score are those of the epoch it reached."""
    budget = BUDGETS["standard"]
    standard = Surrogate(synthetic_table(configs=24, seeds=2, replicated=6, budget=budget), SPACE)
    config = list(SPACE.grid_points())[0]
    heard: list[tuple[int, float]] = []

    def stop_at_one(epoch: int, value: float) -> bool:
        heard.append((epoch, value))
        return True

    pruned = ReplayObjective(standard, budget, 0, SPACE)
    record = pruned.evaluate("0", config, 3, 0, None, report=stop_at_one)
    whole = ReplayObjective(standard, budget, 0, SPACE).evaluate("0", config, 3, 0, None)
    assert heard == [(1, whole.val_accuracy[0])]
    assert record.epochs == 1 and record.val_accuracy == whole.val_accuracy[:1]
    assert record.seconds < whole.seconds and pruned.reached["0"] == 1


def test_skipping_keras_tuners_saves_changes_no_trial(surrogate: Surrogate) -> None:
    saved, _ = _search("random", 1, surrogate, persist=True)
    with tempfile.TemporaryDirectory() as directory:
        loop = SearchLoop(
            strategies.get("random").make_oracle(SPACE, SMOKE, 1),
            ReplayObjective(surrogate, SMOKE, 1, SPACE),
            SPACE,
            SMOKE,
            directory,
            persist=False,
        )
        loop.search()
        assert not list(Path(directory).rglob("*.json"))
    unsaved, _ = _search("random", 1, surrogate, persist=False)
    assert saved == unsaved


def test_the_clock_is_the_recorded_seconds_plus_the_decisions(surrogate: Surrogate, tmp_path: Path) -> None:
    objective = ReplayObjective(surrogate, SMOKE, 0, SPACE)
    result = execute(strategies.get("grid"), SMOKE, 0, objective=objective, persist=False)
    trial_seconds = sum(t.seconds for t in result.trials)
    best = objective.curves[result.best.trial_id]
    assert objective.simulated_seconds == pytest.approx(trial_seconds + best.test_seconds)
    # grid's first points are recorded: their seconds are the recorded ones
    recorded = [t for t in result.trials if t.extra["replay"].startswith("recorded")]
    assert len(recorded) == SMOKE.trials
    for t in recorded:
        seed = int(t.extra["replay"].rsplit(" ", 1)[1])
        line = next(r for r in surrogate.by_key[SPACE.key(t.hyperparameters)] if r.seed == seed)
        assert t.seconds == pytest.approx(line.seconds)


def test_hypergradient_is_live_only(surrogate: Surrogate) -> None:
    with pytest.raises(UsageError, match="live-only"):
        simulate.replayable(["random", "hypergradient"])
    with pytest.raises(UsageError, match="training:hypergradient"):
        execute(strategies.get("hypergradient"), SMOKE, 0, objective=ReplayObjective(surrogate, SMOKE, 0, SPACE))
    assert "hypergradient" not in simulate.replayable()


# -- result files, agreement, pool ------------------------------------------------------------


def test_a_replay_result_round_trips_and_a_bad_mode_is_refused() -> None:
    live = RunResult.from_json(result_document("random", 4, 0.9)).to_json()
    doc = live | {"mode": "replay", "replay": {"surrogate": {"model": "forest"}}}
    assert RunResult.from_json(doc).to_json() == doc
    assert "mode" not in live and "replay" not in live
    with pytest.raises(RecordError, match="mode is 'dream'"):
        RunResult.from_json(doc | {"mode": "dream"})
    with pytest.raises(RecordError, match="replay provenance"):
        RunResult.from_json(doc | {"replay": None})


def test_agreement_says_which_live_seeds_fall_outside() -> None:
    replay = [RunResult.from_json(result_document("random", s, 0.95 + 0.001 * (s % 10 - 5))) for s in range(200)]
    inside = [RunResult.from_json(result_document("random", s, 0.95)) for s in range(3)]
    outside = [RunResult.from_json(result_document("random", s, t)) for s, t in enumerate((0.95, 0.95, 0.90))]
    (ok,), _, _ = agreements(replay, inside)
    (bad,), live_only, _ = agreements(replay, outside + [RunResult.from_json(result_document("grid", 0, 0.9))])
    assert ok.agrees and ok.inside == 3
    assert not bad.agrees and bad.inside == 2 and not bad.mean_inside
    assert live_only == ["grid"]


def test_agreement_allows_the_live_seeds_outside_that_chance_gives_and_no_more() -> None:
    replay = [RunResult.from_json(result_document("random", s, 0.95 + 0.001 * (s % 10 - 5))) for s in range(200)]

    def live(*tests: float) -> Agreement:
        runs = [RunResult.from_json(result_document("random", s, t)) for s, t in enumerate(tests)]
        return agreements(replay, runs)[0][0]

    one_out = live(0.944, *[0.95] * 9)  # 1 of 10 outside: p = 0.40 at 5 % each
    assert one_out.inside == 9 and one_out.mean_inside and one_out.outside_p > 0.3 and one_out.agrees
    three_out = live(0.9447, 0.9447, 0.9447, *[0.9502] * 7)  # 3 of 10: p = 0.012, mean still inside
    assert three_out.inside == 7 and three_out.mean_inside and three_out.outside_p < 0.05 and not three_out.agrees


def _threads_and_pid(task: int) -> tuple[int, dict[str, object], int, str | None]:
    return task, backend.threads(), os.getpid(), os.environ.get("MALLOC_TRIM_THRESHOLD_")


def test_map_runs_in_order_in_process_and_all_of_them_on_the_benchs_dask_workers() -> None:
    assert list(map_runs(abs, [-3, 2, -1], workers=1)) == [(-3, 3), (2, 2), (-1, 1)]
    assert list(map_runs(abs, [-3, 2], workers=1, keep_going=lambda: False)) == []
    assert list(map_runs(abs, [-3, 2], workers=2, keep_going=lambda: False)) == []
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import this test module
    try:
        done = list(map_runs(_threads_and_pid, [4, 1, 3, 2, 5], workers=2))
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert sorted(task for task, _ in done) == [1, 2, 3, 4, 5]
    assert all(task == out[0] for task, out in done)
    assert {out[2] for _, out in done} - {os.getpid()}, "the jobs ran in this process, not on workers"
    # Dask's default MALLOC_TRIM_THRESHOLD_ makes training ~3x slower (engine.prepare_worker): not on our workers,
    # and not left in this process's environment for what it starts later.
    assert {out[3] for _, out in done} == {None} and "MALLOC_TRIM_THRESHOLD_" not in os.environ
    if backend.name() == "jax":  # one compute thread per job, as the bench's runs get
        assert all("intra_op_parallelism_threads=1" in str(out[1]["xla_threads"]) for _, out in done)
    if backend.name() == "tensorflow":
        assert all(out[1]["tf_intra_op"] == 1 for _, out in done)


# -- the commands' refusals --------------------------------------------------------------------


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str], *needles: str) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("tuning")]
    assert len(lines) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_an_unreachable_scheduler_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tuning.execution import engine

    monkeypatch.setattr(engine, "SCHEDULER_TIMEOUT", "1s")
    argv = [
        "record",
        "--budget",
        "smoke",
        "--configs",
        "1",
        "--seeds",
        "1",
        "--table-dir",
        str(tmp_path),
        "--live-dir",
        str(tmp_path),
        "--scheduler",
        "tcp://127.0.0.1:1",
    ]
    _refused(argv, capsys, "tcp://127.0.0.1:1", "--scheduler")
    assert not list(tmp_path.rglob("*.jsonl*")), "a refused recording wrote a table"


def test_replay_without_a_table_or_a_fit_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["replay", "--budget", "smoke", "--seeds", "0", "--table-dir", str(tmp_path), "--results-dir", str(tmp_path)]
    _refused(args, capsys, "no replay table", "tuning record")
    for r in synthetic_table(configs=4, seeds=1, replicated=0):
        table.append(tmp_path / "smoke", r)
    _refused(args, capsys, "tuning fit --budget smoke")
    _refused([*args, "--strategies", "hypergradient"], capsys, "live-only")
    _refused(
        ["record", "--budget", "smoke", "--configs", "2", "--seeds", "0", "--table-dir", str(tmp_path)],
        capsys,
        "--seeds must be an integer >= 1",
    )
    assert (
        not list((tmp_path / "mnist-mlp" / "replay").rglob("*.json"))
        if (tmp_path / "mnist-mlp" / "replay").exists()
        else True
    )


def test_a_table_changed_after_its_fit_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = synthetic_table(configs=6, seeds=2, replicated=2)
    for r in lines[:-1]:
        table.append(tmp_path / "smoke", r)
    assert (
        main(["fit", "--budget", "smoke", "--models", "knn", "--table-dir", str(tmp_path), "--live-dir", str(tmp_path)])
        == 0
    )
    assert "# Surrogate for the smoke replay table" in (tmp_path / "smoke" / "SURROGATE.md").read_text()
    fitted = json.loads((tmp_path / "smoke" / "surrogate.json").read_text())
    assert fitted["error_chosen_by"] == "simulated searches" and fitted["live_searches"] == {}  # no held-out runs
    capsys.readouterr()
    table.append(tmp_path / "smoke", lines[-1])
    args = ["replay", "--budget", "smoke", "--seeds", "0", "--table-dir", str(tmp_path), "--results-dir", str(tmp_path)]
    _refused(args, capsys, "changed since its surrogate was validated", "tuning fit --budget smoke")


def test_a_synthetic_round_trip_through_the_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    grid = list(SPACE.grid_points())[: SMOKE.trials]
    for r in synthetic_table(configs=16, seeds=2, replicated=4, extra=grid):
        table.append(tmp_path / "smoke", r)
    assert main(["fit", "--budget", "smoke", "--models", "forest,knn", "--table-dir", str(tmp_path)]) == 0
    argv = [
        "replay",
        "--budget",
        "smoke",
        "--seeds",
        "0-1",
        "--strategies",
        "grid,random",
        "--table-dir",
        str(tmp_path),
        "--results-dir",
        str(tmp_path),
        "--quiet",
    ]
    assert main(argv) == 0
    runs = tmp_path / "mnist-mlp" / "replay" / "smoke" / RUNS_FILE

    def read() -> dict[str, dict[str, Any]]:
        return {f"{r.strategy}-seed{r.seed}": r.to_json() for r in read_runs(runs)}

    first = read()
    assert list(first) == ["grid-seed0", "grid-seed1", "random-seed0", "random-seed1"]
    assert not list(runs.parent.glob("*-seed*.json"))  # one runs file, no file per run
    assert all(
        d["mode"] == "replay" and d["replay"]["surrogate"]["model"] in ("forest", "boosting", "knn")
        for d in first.values()
    )
    assert "# Replay of the smoke budget" in (tmp_path / "mnist-mlp" / "replay" / "smoke" / "REPLAY.md").read_text()
    assert main(argv) == 0
    again = read()
    for name in first:
        assert first[name]["trials"] == again[name]["trials"] or [
            (t["hyperparameters"], t["val_accuracy"]) for t in first[name]["trials"]
        ] == [(t["hyperparameters"], t["val_accuracy"]) for t in again[name]["trials"]]
        assert first[name]["best"] == again[name]["best"]


def test_recorded_lines_are_synthetic_recordings_of_the_right_shape() -> None:
    line = recording(SPACE.from_unit([0.5] * SPACE.dimensions()), 0, SMOKE)
    assert table.Recording.from_json(line.to_json(), "here", SPACE) == line


def test_a_report_never_pools_replays_with_live_runs(tmp_path: Path) -> None:
    from tuning.report.load import by_budget, load

    live = RunResult.from_json(result_document("random", 0, 0.9)).to_json()
    replayed = live | {"mode": "replay", "replay": {}}
    write_atomic(tmp_path / "smoke" / "random-seed0.json", live)
    write_atomic(tmp_path / "replay" / "smoke" / "random-seed0.json", replayed)
    warnings: list[str] = []
    assert [r.result.mode for r in load(tmp_path, warnings.append)] == ["live"]
    assert any("replay/ folders" in w for w in warnings)
    assert [r.result.mode for r in load(tmp_path / "replay", warnings.append)] == ["replay"]
    # A runs file is read like result files; one of held-out live runs stays out of the reference's report.
    write_runs(tmp_path / "holdout" / "smoke" / RUNS_FILE, [RunResult.from_json(live | {"seed": 5})])
    write_runs(tmp_path / "replay" / "smoke" / RUNS_FILE, [RunResult.from_json(replayed | {"seed": 7})])
    assert [(r.result.mode, r.seed) for r in load(tmp_path, warnings.append)] == [("live", 0)]
    assert sorted(r.seed for r in load(tmp_path / "replay", warnings.append)) == [0, 7]
    assert [r.seed for r in load(tmp_path / "holdout", warnings.append)] == [5]
    write_atomic(tmp_path / "smoke" / "random-seed1.json", replayed | {"seed": 1})  # side by side in one folder
    assert sorted(key[-1] for key in by_budget(load(tmp_path / "smoke", warnings.append))) == ["live", "replay"]


# -- one run path: replays go through the live runs' engine ----------------------------------


@pytest.fixture(scope="module")
def fitted_tables(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic smoke table (the grid's first points included) with its surrogate fitted."""
    root = tmp_path_factory.mktemp("tables")
    for r in synthetic_table(configs=16, seeds=2, replicated=4, extra=list(SPACE.grid_points())[: SMOKE.trials]):
        table.append(root / "smoke", r)
    assert main(["fit", "--budget", "smoke", "--models", "forest", "--table-dir", str(root)]) == 0
    return root


def test_a_table_named_two_ways_is_fitted_once_and_recorded_as_a_clone_names_it(
    fitted_tables: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(fitted_tables.parent)  # `tuning replay` names it relative; the engine hands workers it absolute
    relative, absolute = Path(fitted_tables.name), fitted_tables.resolve()
    surrogate, provenance = simulate.load("smoke", relative)
    assert simulate.load("smoke", absolute)[0] is surrogate  # one surrogate fit per table and process
    assert provenance["table"] == str(relative / "smoke" / table.SEALED)


def _choices(result: RunResult) -> list[tuple[Any, ...]]:
    return [(t.hyperparameters, t.val_accuracy, t.epochs) for t in result.trials]


def test_a_replay_is_a_run_of_the_engine_in_process_or_on_dask_workers_alike(
    fitted_tables: Path, tmp_path: Path
) -> None:
    from tuning.execution.engine import RunSpec, make_engine, target_path

    specs = [
        RunSpec(name, "smoke", seed, mode="replay", table_root=str(fitted_tables))
        for name in ("grid", "tpe")
        for seed in (0, 1)
    ]
    outcomes = {}
    for workers in (1, 2):
        engine = make_engine(tmp_path / f"w{workers}", workers)
        try:
            engine.submit(specs)
            outcomes[workers] = {s: engine.outcome(s) for s in specs}
        finally:
            engine.close()
    for spec in specs:
        here, there = outcomes[1][spec], outcomes[2][spec]
        assert here.path == target_path(tmp_path / "w1", spec)
        assert here.path.parent == tmp_path / "w1" / "mnist-mlp" / "replay" / "smoke" and here.path.is_file()
        assert here.result.mode == there.result.mode == "replay"
        assert _choices(here.result) == _choices(there.result)
        assert there.worker != "local"  # it ran on a Dask worker
    assert len({outcomes[2][s].worker for s in specs}) == 2  # and on both of them
    with pytest.raises(UsageError, match="unknown mode 'dry'"):
        RunSpec("grid", "smoke", 0, mode="dry")
    engine = make_engine(tmp_path / "none", write=False)
    outcome = engine.outcome(specs[0])
    assert outcome.path is None and not (tmp_path / "none").exists()  # tuning replay's engine writes no file per run


def test_the_benchs_replay_mode_runs_on_the_engine_and_skips_live_only_strategies(
    fitted_tables: Path, tmp_path: Path
) -> None:
    import subprocess

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "benchmarks",
            "-p",
            "no:cacheprovider",
            "--mode",
            "replay",
            "--budget",
            "smoke",
            "--seeds",
            "0",
            "--strategies",
            "grid,hypergradient",
            "--workers",
            "2",
            "--table-dir",
            str(fitted_tables),
            "--results-dir",
            str(tmp_path),
            "-k",
            "test_search",
            "-rs",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "1 passed, 1 skipped" in done.stdout, done.stdout[-3000:]
    assert "hypergradient cannot serve mnist-mlp" in done.stdout
    files = sorted(p.name for p in (tmp_path / "mnist-mlp" / "replay" / "smoke").glob("*-seed*.json"))
    assert files == ["grid-seed0.json"]
    result = RunResult.from_json(json.loads((tmp_path / "mnist-mlp" / "replay" / "smoke" / files[0]).read_text()))
    assert result.mode == "replay" and result.replay["table"].startswith(str(fitted_tables))  # type: ignore[index]
