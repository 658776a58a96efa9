"""Issue 20: the gates explain themselves and judge quality.

* The trajectory gate names the first run and trial that diverged and every
  package whose version moved (a planted version change).
* The quality gate passes a numeric-only drift and fails each planted
  degradation, built as a broken variant of a registered strategy (as
  tests/test_properties_broken.py builds its broken strategies): TPE's
  startup trials set to the whole budget, Hyperband's eta changed, a
  strategy that ignores its seed.  Replays only: seconds, no training.
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import keras_tuner as kt
import numpy as np
import pytest

import tuning.execution.simulate as replay_module
from tuning.bench import gate, quality
from tuning.bench.calibration import THROUGHPUT_FILE
from tuning.cli import main
from tuning.execution.record import TABLES
from tuning.objectives.replay.objective import ReplayObjective
from tuning.problems.mnist_mlp import BUDGETS
from tuning.results import write_atomic
from tuning.strategies import get, hyperband, tpe
from tuning.strategies.keras_tuner_space import oracle_args
from tuning.strategies.optuna_oracle import STUDY_NAME, optuna_oracle

from documents import result_document

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "results" / "baseline" / "quality.json"
TABLE = ROOT / TABLES


# ----------------------------------------------------------------------------- the trajectory gate explains itself


def _bench(directory: Path, docs: list[dict[str, Any]]) -> Path:
    for doc in docs:
        write_atomic(directory / f"{doc['strategy']}-seed{doc['seed']}.json", doc)
    write_atomic(directory / THROUGHPUT_FILE, {"kind": "throughput", "calibration_samples_per_second": 8000.0})
    return directory


def test_a_planted_version_change_is_named_with_the_first_run_and_trial(tmp_path: Path, capsys) -> None:
    """Old: a table of REGRESSED rows, nothing on which trial moved first or which package changed."""
    base_docs = [result_document("tpe", 0, 0.90), result_document("random", 0, 0.90)]
    for doc in base_docs:
        doc["environment"]["versions"]["optuna"] = "5.0.0"
    baseline_dir = _bench(tmp_path / "base", base_docs)
    now_docs = copy.deepcopy(base_docs)
    for doc in now_docs:
        doc["environment"]["versions"]["optuna"] = "5.1.0"  # the planted dependency change
    now_docs[1]["trials"][1]["hyperparameters"]["units_0"] = 64  # tpe's choices stay; random's trial 1 moves
    now_docs[1]["best"]["hyperparameters"] = now_docs[1]["trials"][1]["hyperparameters"]
    current = _bench(tmp_path / "now", now_docs)
    write_atomic(tmp_path / "baseline.json", gate.make_baseline(baseline_dir))
    assert main(["gate", str(current), "--baseline", str(tmp_path / "baseline.json")]) == 1
    out = capsys.readouterr().out
    paragraph = out.strip().splitlines()[-1]
    assert paragraph.startswith("Trajectory mismatch: random-seed0 diverged first, at trial 1 (another choice")
    assert "optuna 5.0.0 -> 5.1.0" in paragraph and "numpy" not in paragraph


def test_no_version_change_points_at_the_code(tmp_path: Path) -> None:
    docs = [result_document("random", 0, 0.90)]
    baseline = gate.make_baseline(_bench(tmp_path / "base", docs))
    moved = copy.deepcopy(docs)
    moved[0]["best"]["hyperparameters"] = {**moved[0]["best"]["hyperparameters"], "units_0": 64}
    current = _bench(tmp_path / "now", moved)
    text = gate.explain(baseline, current, gate.compare(baseline, current))
    assert text is not None and "No package version differs" in text and "in its final scoring" in text
    assert gate.explain(baseline, tmp_path / "base", gate.compare(baseline, tmp_path / "base")) is None


def test_a_baseline_without_trajectories_says_so_and_the_committed_one_has_them() -> None:
    baseline = gate.read_baseline(ROOT / "results" / "baseline" / "smoke.json")
    key = next(iter(baseline["runs"]))
    from tuning.core.records import RunResult

    doc = result_document(key.split("-seed")[0], 0, 0.9)
    assert all(isinstance(run.get("trials"), list) for run in baseline["runs"].values())
    assert "not known" not in gate.first_divergence(baseline["runs"][key], RunResult.from_json(doc))
    older = {k: v for k, v in baseline["runs"][key].items() if k != "trials"}  # as baselines before --write kept them
    assert "not known" in gate.first_divergence(older, RunResult.from_json(doc))


# ----------------------------------------------------------------------------- the quality gate


class _InvertedTPE(tpe.TPEOracle):
    """TPE whose study minimises what the search maximises: a broken model, not a different random draw.

    (Planting "every trial a startup trial" no longer fails the gate: with the replay's model error, TPE
    reduced to random search is as accurate as TPE on this space, within ±0.5 points; docs/statistics.md.)"""

    def _new_study(self) -> Any:
        direction = "minimize" if self.objective.direction == "max" else "maximize"
        return self._optuna.create_study(direction=direction, sampler=self.sampler(0), study_name=STUDY_NAME)


def _variant(name: str) -> Any:
    """A registered strategy, or a broken variant of one ("<strategy>:<defect>")."""
    base = get(name.split(":")[0])
    if name == "tpe:inverted":  # TPE's model turned round: after one random trial it proposes what it deems worst
        return dataclasses.replace(
            base, make_oracle=lambda sp, b, s: optuna_oracle(sp, s, b.trials, _InvertedTPE, n_startup_trials=1)
        )
    if name == "hyperband:eta":  # another reduction factor than the plan's

        def make(sp: Any, b: Any, s: int) -> Any:
            p = hyperband.plan(b)
            return kt.oracles.HyperbandOracle(
                max_epochs=p.max_epochs, factor=p.factor + 1, hyperband_iterations=p.iterations, **oracle_args(sp, s)
            )

        return dataclasses.replace(base, make_oracle=make)
    if name == "random:seedless":  # every run proposes as seed 0 does
        return dataclasses.replace(base, make_oracle=lambda sp, b, s: base.make_oracle(sp, b, 0))
    return base


def _judge(monkeypatch: pytest.MonkeyPatch, variant: str) -> quality.Quality:
    name = variant.split(":")[0]
    strategy = _variant(variant)
    monkeypatch.setattr(replay_module, "resolve", lambda n, b, s, problem=None: (strategy, BUDGETS[b]))
    baseline = quality.read_baseline(BASELINE)
    base = baseline["strategies"][name]
    replay = quality.replayer(TABLE)
    return quality.judge(name, base, [replay(name, s) for s in base["seeds"]], strategy.stochastic)


@pytest.mark.parametrize("variant", ["tpe:inverted", "hyperband:eta", "random:seedless"])
def test_the_quality_gate_fails_each_planted_degradation(monkeypatch: pytest.MonkeyPatch, variant: str) -> None:
    verdict = _judge(monkeypatch, variant)
    assert not verdict.ok, verdict
    if variant == "random:seedless":
        # Its accuracy stays equivalent (the objective's noise follows the seed): only "seeds matter" sees it.
        assert verdict.equivalent and not verdict.seeds_matter


@pytest.mark.parametrize("name", ["tpe", "hyperband"])
def test_the_quality_gate_passes_a_numeric_only_drift(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Every validation and test score moved by ~1e-4 (one image in 10,000, as another BLAS may): choices may change,
    quality does not."""
    evaluate, test = ReplayObjective.evaluate, ReplayObjective.test
    rng = np.random.default_rng(0)

    def drifted_evaluate(self: ReplayObjective, *args: Any, **kwargs: Any) -> Any:
        record = evaluate(self, *args, **kwargs)
        record.val_accuracy = [v + float(rng.normal(0, 1e-4)) for v in record.val_accuracy]
        return record

    def drifted_test(self: ReplayObjective, *args: Any) -> tuple[float, float]:
        loss, accuracy = test(self, *args)
        return loss, accuracy + float(rng.normal(0, 1e-4))

    monkeypatch.setattr(ReplayObjective, "evaluate", drifted_evaluate)
    monkeypatch.setattr(ReplayObjective, "test", drifted_test)
    verdict = _judge(monkeypatch, name)
    assert verdict.mean_difference != 0.0  # the drift reached the accuracies
    assert verdict.ok, verdict


def test_the_committed_quality_baseline_is_the_committed_replays() -> None:
    """The baseline holds the committed replay files' numbers, so refreshing it is reading, not re-running."""
    assert quality.read_baseline(BASELINE)["strategies"] == quality.make_baseline(TABLE / "standard")["strategies"]


def test_a_bad_quality_baseline_is_one_line_and_exit_2(tmp_path: Path, capsys) -> None:
    (tmp_path / "q.json").write_text("{}")
    assert main(["quality", "--baseline", str(tmp_path / "q.json")]) == 2
    err = capsys.readouterr().err
    assert "not a quality baseline" in err and len(err.strip().splitlines()) == 1


# ----------------------------------------------------------------------------- the GitHub Actions workflow


def test_the_workflow_runs_the_readme_commands_and_uploads_results() -> None:
    """We cannot run GitHub Actions here: the file must at least parse and run what .ci/run runs."""
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    (job,) = workflow["jobs"].values()
    runs = "\n".join(step.get("run", "") for step in job["steps"])
    uses = [step.get("uses", "") for step in job["steps"]]
    assert "tox -e py" in runs and "tox -e bench -- --budget smoke" in runs
    assert (
        "tuning gate bench/mnist-mlp/smoke bench-again/mnist-mlp/smoke --baseline results/baseline/smoke.json" in runs
    )
    assert "tuning quality" in runs and "tuning report bench" in runs
    assert any(u.startswith("actions/cache@") for u in uses) and any(
        u.startswith("actions/upload-artifact@") for u in uses
    )
    upload = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["if"] == "always()" and "bench/" in upload["with"]["path"] and "report/" in upload["with"]["path"]
    # Every command the workflow runs is one .ci/run runs too (the two must not drift apart).
    ci = (ROOT / ".ci" / "run").read_text()
    assert "tuning quality --baseline results/baseline/quality.json" in ci and "python3 -m tox -e py" in ci
    assert ci.count("tox -e bench -- --budget smoke") == 2 and '"$again_dir/mnist-mlp/smoke"' in ci
