"""What makes each issue-18 strategy that method, on the synthetic objective, each with a broken variant that fails.

* ASHA: a trial goes past a rung only when its value there is in the top 1/eta of the rung so far.
* BOHB-style: brackets; some trials skip the first rung's cut (a bracket starting higher), which ASHA never does.
* CMA-ES: the distribution moves toward better points (told the opposite direction, it moves away).
* QMC: the proposals are the scrambled Sobol sequence, point by point.
* SMAC: intensification re-evaluates configurations on new seeds (max three calls each).
* SMAC multi-fidelity: a Hyperband stage promotes the best of the stage before it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import keras_tuner as kt
import pytest

optuna = pytest.importorskip("optuna")

from tuning import strategies  # noqa: E402
from tuning.core.budget import Budget  # noqa: E402
from tuning.core.records import TrialRecord  # noqa: E402
from tuning.execution.loop import SearchLoop  # noqa: E402
from tuning.objectives.synthetic import SyntheticObjective  # noqa: E402
from tuning.problems.mnist_mlp import SPACE  # noqa: E402
from tuning.strategies import asha, bohb, cma_es, qmc  # noqa: E402
from tuning.strategies.multi_fidelity import REDUCTION_FACTOR, pruned_tpe_oracle  # noqa: E402
from tuning.strategies.optuna_oracle import optuna_oracle, random_sampler  # noqa: E402

MANY = Budget("t", n_train=1, n_val=1, epochs=3, trials=16, seeds=(0,))
WORST_FIRST = kt.Objective("val_accuracy", direction="min")  # a broken variant: told to prefer the worst


def run(oracle: Any, directory: Path, budget: Budget = MANY) -> SearchLoop:
    loop = SearchLoop(oracle, SyntheticObjective(SPACE), SPACE, budget, str(directory))
    loop.search()
    return loop


def with_objective(oracle: Any, objective: kt.Objective) -> Any:
    oracle.objective = objective
    oracle.study = oracle._new_study()  # the study's direction follows the objective
    return oracle


# -- ASHA ---------------------------------------------------------------------------------------------------------


def asha_violations(records: list[TrialRecord], eta: int = REDUCTION_FACTOR) -> list[str]:
    """Trials whose fate at the first rung (epoch 1) breaks successive halving: promoted although not in the top
    1/eta of the rung's values so far (its own included), or stopped although in it.  Counted here, from the
    records alone."""
    seen: list[float] = []
    wrong = []
    for r in records:
        value = r.val_accuracy[0]
        seen.append(value)
        k = max(len(seen) // eta, 1)
        in_top = value >= sorted(seen, reverse=True)[k - 1]
        promoted = r.epochs > 1
        if promoted != in_top:
            wrong.append(f"trial {r.trial_id}: value {value:.4f}, top {k} of {len(seen)}, promoted {promoted}")
    return wrong


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_asha_promotes_the_top_third_of_a_rung(tmp_path: Path, seed: int) -> None:
    done = run(asha.make_oracle(SPACE, MANY, seed), tmp_path)
    assert not asha_violations(done.records)
    stopped = [r for r in done.records if r.epochs == 1]
    assert stopped and all(r.extra.get("pruned_at_epoch") == 1 for r in stopped)
    assert len(done.records) > MANY.trials, "the epochs pruned trials saved bought no trials"
    assert done.epochs_used <= MANY.epoch_budget


def test_a_pruner_that_never_prunes_is_not_asha(tmp_path: Path) -> None:
    done = run(pruned_tpe_oracle(SPACE, MANY, 0, lambda: optuna.pruners.NopPruner()), tmp_path)
    assert asha_violations(done.records)


# -- BOHB-style ----------------------------------------------------------------------------------------------------

DEEP = Budget("t", n_train=1, n_val=1, epochs=9, trials=12, seeds=(0,))


def test_bohb_runs_brackets_that_start_past_the_first_rung(tmp_path: Path) -> None:
    """Hyperband's brackets: trials of a bracket whose first rung is epoch 3 go through epoch 1 whatever they
    score, so successive halving's rule at epoch 1 is broken for some trials, and only at epochs a bracket cuts."""
    done = run(bohb.make_oracle(SPACE, DEEP, 0), tmp_path, DEEP)
    assert asha_violations(done.records), "every trial was cut at epoch 1 like ASHA's: one bracket only"
    assert {r.epochs for r in done.records} <= {1, 3, 9}
    asha_run = run(asha.make_oracle(SPACE, DEEP, 0), tmp_path / "asha", DEEP)
    assert not asha_violations(asha_run.records)  # the broken variant (one bracket): no trial skips the cut


def test_bohb_samples_with_tpe_per_bracket(tmp_path: Path) -> None:
    """Optuna fits TPE to the trial's own bracket; the sampler is TPE with the tpe strategy's startup."""
    oracle = bohb.make_oracle(SPACE, DEEP, 0)
    assert isinstance(oracle.study.pruner, optuna.pruners.HyperbandPruner)
    assert isinstance(oracle.sampler(5), optuna.samplers.TPESampler)
    assert bohb.settings(SPACE, DEEP)["rungs_per_bracket"] == [[1, 3], [3], []]


# -- CMA-ES --------------------------------------------------------------------------------------------------------

CMA_BUDGET = Budget("t", n_train=1, n_val=1, epochs=1, trials=1 + 2 * 4, seeds=(0,))


def first_update(done: SearchLoop) -> tuple[float, float]:
    """(distance, distance) of CMA-ES's mean after its first update from the centroid of the first generation's
    better half and from that of its worse half, in Optuna's [0, 1] coordinates.  The optimizer is read back from
    where Optuna keeps it (pickled in the trial that asked with it); the generation's scores from the records."""
    import pickle

    import numpy as np
    from optuna._transform import _SearchSpaceTransform

    trials = done.oracle.study.trials
    generation = [t for t in trials if t.system_attrs.get("cma:generation") == 0]
    updated = next(t for t in trials if t.system_attrs.get("cma:generation") == 1)
    chunks = {k: v for k, v in updated.system_attrs.items() if k.startswith("cma:optimizer:")}
    optimizer = pickle.loads(bytes.fromhex("".join(chunks[f"cma:optimizer:{i}"] for i in range(len(chunks)))))
    names = sorted(n for n in generation[0].params if n != "optimizer")  # the relative space, as Optuna orders it
    trans = _SearchSpaceTransform({n: generation[0].distributions[n] for n in names}, transform_0_1=True)
    ranked = sorted(generation, key=lambda t: -t.value)  # best first: the synthetic accuracy is maximised
    half = len(ranked) // 2
    centroid = lambda ts: np.mean([trans.transform({n: t.params[n] for n in names}) for t in ts], axis=0)  # noqa: E731
    mean = optimizer._mean
    return float(np.linalg.norm(mean - centroid(ranked[:half]))), float(np.linalg.norm(mean - centroid(ranked[half:])))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cmaes_mean_moves_toward_better_points(tmp_path: Path, seed: int) -> None:
    to_best, to_worst = first_update(run(cma_es.make_oracle(SPACE, CMA_BUDGET, seed), tmp_path / "good", CMA_BUDGET))
    assert to_best < to_worst


def test_cmaes_told_the_wrong_direction_moves_toward_worse_points(tmp_path: Path) -> None:
    """The broken variant: the study minimises accuracy, so the mean moves toward the worse half."""
    oracle = with_objective(cma_es.make_oracle(SPACE, CMA_BUDGET, 0), WORST_FIRST)
    to_best, to_worst = first_update(run(oracle, tmp_path, CMA_BUDGET))
    assert to_best > to_worst


# -- QMC -------------------------------------------------------------------------------------------------------------


def sobol_mismatches(done: SearchLoop, seed: int) -> list[str]:
    """Trials 1.. against scipy's scrambled Sobol points 0.., mapped as Optuna maps a unit coordinate: the log
    learning rate linearly, the optimizer by floor(u * choices).  The dimensions are the first trial's parameters."""
    from scipy.stats import qmc as scipy_qmc

    values = [done.oracle.trials[t].hyperparameters.values for t in done.oracle.start_order]
    names = list(values[0])
    points = scipy_qmc.Sobol(len(names), scramble=True, seed=seed).random(len(values) - 1)
    lr, options = SPACE.learning_rate, SPACE.optimizer.options
    wrong = []
    for i, (point, got) in enumerate(zip(points, values[1:]), start=1):
        u = dict(zip(names, point))
        want_lr = math.exp(math.log(lr.low) + u[lr.name] * (math.log(lr.high) - math.log(lr.low)))
        want_opt = options[int(u[SPACE.optimizer.name] * len(options))]
        if not math.isclose(got[lr.name], want_lr, rel_tol=1e-9) or got[SPACE.optimizer.name] != want_opt:
            wrong.append(f"trial {i}: {got[lr.name]}, {got[SPACE.optimizer.name]} vs {want_lr}, {want_opt}")
    return wrong


@pytest.mark.parametrize("seed", [0, 7])
def test_qmc_proposes_the_scrambled_sobol_sequence(tmp_path: Path, seed: int) -> None:
    assert not sobol_mismatches(run(qmc.make_oracle(SPACE, MANY, seed), tmp_path), seed)


def test_random_proposals_are_not_the_sobol_sequence(tmp_path: Path) -> None:
    oracle = optuna_oracle(SPACE, 0, MANY.trials, make_sampler=lambda run_seed, seed: random_sampler(seed))
    assert sobol_mismatches(run(oracle, tmp_path), 0)


# -- SMAC --------------------------------------------------------------------------------------------------------------


def needs_smac() -> None:
    if not strategies.get("smac").available():
        pytest.skip(strategies.get("smac").install_hint)


def test_smac_intensifies_by_re_evaluating_configurations(tmp_path: Path) -> None:
    """SMAC's intensifier runs an incumbent or a challenger again on new seeds, at most max_config_calls (3) times."""
    needs_smac()
    done = run(strategies.get("smac").make_oracle(SPACE, MANY, 0), tmp_path)
    from smac.model.random_forest.random_forest import RandomForest

    model = done.oracle.optimizer._model  # the facade's model: scikit-learn's forest, fitted (no pyrfr needed)
    assert isinstance(model, RandomForest) and model._rf is not None
    counts: dict[str, int] = {}
    for r in done.records:
        counts[SPACE.key(r.hyperparameters)] = counts.get(SPACE.key(r.hyperparameters), 0) + 1
    assert max(counts.values()) > 1, "no configuration was evaluated twice: no intensification"
    assert max(counts.values()) <= 3


def test_a_deterministic_smac_does_not_intensify(tmp_path: Path) -> None:
    """The broken variant: told the objective is deterministic, SMAC never runs a configuration twice."""
    needs_smac()
    from tuning.strategies.smac_oracle import smac_oracle

    done = run(smac_oracle(SPACE, 0, MANY.trials, facade="hpo", deterministic=True), tmp_path)
    keys = [SPACE.key(r.hyperparameters) for r in done.records]
    assert len(keys) == len(set(keys))


def hyperband_violations(records: list[TrialRecord]) -> list[str]:
    """Successive halving inside a Hyperband bracket: the configurations of a stage (a run of trials at one epoch
    count) that come back later at more epochs must be that stage's best.  Empty also when nothing was promoted,
    so the caller checks that promotions happened."""
    keys = [SPACE.key(r.hyperparameters) for r in records]
    wrong, start = [], 0
    while start < len(records):
        end = start
        while end < len(records) and records[end].epochs == records[start].epochs:
            end += 1
        stage = records[start:end]
        later = {keys[i] for i in range(end, len(records)) if records[i].epochs > records[start].epochs}
        promoted = {keys[i] for i in range(start, end) if keys[i] in later}
        best = {SPACE.key(r.hyperparameters) for r in sorted(stage, key=lambda r: -r.score)[: len(promoted)]}
        if promoted != best:
            wrong.append(f"stage {stage[0].trial_id}..{stage[-1].trial_id} promoted {sorted(promoted)}")
        start = end
    return wrong


def promotions(records: list[TrialRecord]) -> int:
    keys = [SPACE.key(r.hyperparameters) for r in records]
    return sum(
        1 for i, r in enumerate(records) if any(keys[j] == keys[i] and records[j].epochs < r.epochs for j in range(i))
    )


def test_smac_multi_fidelity_promotes_the_best_of_a_stage(tmp_path: Path) -> None:
    needs_smac()
    done = run(strategies.get("smac-mf").make_oracle(SPACE, MANY, 0), tmp_path)
    assert {r.epochs for r in done.records} == {1, 3}
    assert promotions(done.records) > 0
    assert not hyperband_violations(done.records)
    worst = strategies.get("smac-mf").make_oracle(SPACE, MANY, 0)
    worst.objective = WORST_FIRST  # the broken variant: SMAC told the cost of the best is the highest
    assert hyperband_violations(run(worst, tmp_path / "worst").records)
