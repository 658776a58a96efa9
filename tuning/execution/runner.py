"""One run: problem + strategy + objective + budget + seed + work folder -> a ``RunResult``; and ``tuning run``.

The run trains every trial through ``SearchLoop``, takes the trial with the
best validation accuracy, scores its weights once on the test data, and
(``run_to_file``) writes ``<results>/<problem>/<budget>/<strategy>-seed<N>.json``
atomically.  Its state lives in a work folder beside that file
(``tuning.execution.workdir``) until the file is written, so running the
same command again after a kill continues where it stopped; a run whose
complete result file exists is not run again unless forced.
"""

from __future__ import annotations

import contextlib
import math
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tuning import problems, strategies
from tuning.core.budget import SEARCH, Budget
from tuning.core.errors import RunError, UsageError
from tuning.core.records import BestTrial, RunResult, TrialRecord
from tuning.core.seeds import check_seed
from tuning.execution.loop import Progress, SearchLoop, StateError, last_line
from tuning.execution.provenance import environment
from tuning.execution.workdir import DISCARD_HINT, WorkFolder, discard_idle, fingerprint, work_path
from tuning.objectives.base import Objective, unmet
from tuning.objectives.live import backend
from tuning.objectives.live.weights import TrialWeights
from tuning.problems.base import Problem
from tuning.results import completed, ensure_writable, result_path, write_result
from tuning.strategies.base import Strategy
from tuning.terminal import counted_warnings

Log = Callable[[str], None]
Clock = Callable[[], float]  # seconds since some start: the real clock, or a replay's simulated one


def resolve(
    strategy_name: str, budget_name: str, seed: int, problem: str | Problem = problems.DEFAULT
) -> tuple[Strategy, Budget]:
    """Check a run's arguments before anything is trained (a user's problem is loaded and checked here)."""
    if strategy_name not in strategies.names():
        raise UsageError(f"unknown strategy {strategy_name!r}; choose from {', '.join(strategies.names())}")
    if budget_name not in SEARCH:
        raise UsageError(f"unknown budget {budget_name!r}; choose from {', '.join(SEARCH)}")
    try:
        check_seed(seed)
    except ValueError as e:
        raise UsageError(str(e)) from None
    strategy = strategies.get(strategy_name)
    if not strategy.available():
        raise UsageError(
            f"strategy {strategy_name!r} needs {', '.join(strategy.missing())}; install with: {strategy.install_hint}"
        )
    chosen = as_problem(problem)
    chosen.check()
    reason = cannot_serve(strategy, chosen)
    if reason:
        raise UsageError(f"strategy {strategy.name!r} cannot serve problem {chosen.name!r}: {reason}")
    return strategy, chosen.budget(budget_name)


def as_problem(problem: str | Problem) -> Problem:
    return problem if isinstance(problem, Problem) else problems.get(problem)


def cannot_serve(strategy: Strategy, problem: Problem, mode: str = "live") -> str | None:
    """Why ``strategy`` cannot run on ``problem`` in ``mode`` (one line), or None when it can."""
    if mode == "live":
        missing = sorted(strategy.needs - problem.capabilities)
        if missing:
            return (
                f"it needs {', '.join(missing)}, which this problem's training does not offer "
                "(a model's own compiled optimizer cannot learn its learning rate)"
            )
    else:
        why = live_only_reason(strategy)
        if why:
            return f"it {why}"
    return strategy.cannot_search(problem.space)


LIVE_ONLY_NOTE = (
    "hypergradient descent changes the learning rate inside training, which recorded curves cannot answer: "
    "it is live-only and not replayed"
)


def live_only_reason(strategy: Strategy) -> str | None:
    """Why a replay cannot answer ``strategy`` (``needs ...``: what it needs of training), or None when it can."""
    from tuning.objectives.replay.objective import ReplayObjective

    missing = unmet(strategy.needs, ReplayObjective)
    return f"needs {', '.join(missing)}, which a replay cannot offer ({LIVE_ONLY_NOTE})" if missing else None


def stderr_log(message: str) -> None:
    print(f"tuning: {message}", file=sys.stderr, flush=True)


def stderr_progress(label: str) -> Progress:
    started = time.perf_counter()

    def report(record: TrialRecord, k: int, loop: SearchLoop) -> None:
        score = f"{record.score:.4f}" if record.val_accuracy else record.status.lower()
        print(
            f"[{label}] trial {k} val_acc {score} best {loop.best_score():.4f} "
            f"epochs {loop.epochs_used}/{loop.budget.epoch_budget} elapsed {time.perf_counter() - started:.1f}s",
            file=sys.stderr,
            flush=True,
        )

    return report


def run_fingerprint(
    strategy: Strategy, budget: Budget, seed: int, problem: Problem, objective: str = "live"
) -> dict[str, object]:
    """What a work folder must agree on to be continued by this run (``workdir.fingerprint``)."""
    settings = {**strategy.settings(problem.space, budget), "training": strategy.training, "objective": objective}
    return fingerprint(
        strategy.name, budget, seed, problem.provenance(), problem.space.to_json(), settings, backend.versions()
    )


@contextlib.contextmanager
def resumable(
    strategy: Strategy,
    budget: Budget,
    seed: int,
    folder: Path,
    fresh: bool = False,
    quiet: bool = False,
    problem: str | Problem = problems.DEFAULT,
) -> Iterator[tuple[RunResult, WorkFolder]]:
    """Run live, continuing from (and checkpointing to) the work folder ``folder``; yield the result with
    the folder, still locked, for the caller to write the result and then discard the folder.

    The data are loaded and checked before the folder is touched, so that bad input writes nothing."""
    chosen = as_problem(problem)
    objective = chosen.live(budget, seed, strategy.training, weights_dir=WorkFolder(folder).weights)
    with WorkFolder.open(folder, run_fingerprint(strategy, budget, seed, chosen), fresh) as work:
        label = f"{strategy.name} seed {seed} {budget.name}" + (
            "" if chosen.name == problems.DEFAULT else f" {chosen.name}"
        )
        progress, log = (None, None) if quiet else (stderr_progress(label), stderr_log)
        try:
            result = execute(strategy, budget, seed, objective, chosen, progress=progress, work=work, log=log)
        except RunError:  # the run is over (its trials kept failing): nothing to continue
            work.discard()
            raise
        yield result, work


def execute(
    strategy: Strategy,
    budget: Budget,
    seed: int,
    objective: Objective | None = None,
    problem: str | Problem = problems.DEFAULT,
    progress: Progress | None = None,
    work: WorkFolder | None = None,
    log: Log | None = None,
    persist: bool = True,
    env: dict[str, Any] | None = None,
    clock: Clock = time.perf_counter,
) -> RunResult:
    """Search, pick, test; return the run's result (nothing is written here but the work folder).

    ``objective`` defaults to the problem's live training (its trial weights
    kept in the work folder).  With ``work`` the search continues from the
    folder's last checkpoint and checkpoints after every trial; without it the
    state lives in a temporary folder and dies with the process.
    ``persist=False`` also skips Keras Tuner's own per-trial saves (a replay:
    ``SearchLoop``'s ``persist``); ``env`` is the provenance to record
    (``environment()`` when None; a replay of hundreds of runs passes one it
    measured once).  ``clock`` is what the run's wall-clock is read from: the
    real one, or a replay's simulated one (``ReplayObjective.clock``).
    """
    chosen = as_problem(problem)
    space = chosen.space
    if objective is None:
        objective = chosen.live(budget, seed, strategy.training, work.weights if work is not None else None)
    missing = unmet(strategy.needs, objective)
    if missing:
        raise UsageError(f"strategy {strategy.name!r} needs {', '.join(missing)}, which this objective does not offer")
    started = clock()
    saved = work.load() if work is not None else None
    before = float(saved.get("elapsed_seconds", 0.0)) if saved else 0.0  # what earlier processes spent
    resumes = int(saved.get("resumes", 0)) + 1 if saved else 0

    weights = getattr(objective, "weights", None)
    weights = weights if isinstance(weights, TrialWeights) else None

    def save(state: dict[str, object]) -> None:
        assert work is not None
        digests = {"weights": dict(weights.digests)} if weights is not None else {}
        work.save({**state, **digests, "elapsed_seconds": before + clock() - started, "resumes": resumes})

    with contextlib.ExitStack() as stack:
        if log:  # a terminal to keep quiet: the libraries' warnings counted in one line at the end
            stack.enter_context(counted_warnings(log))
        tuner_dir = str(work.tuner) if work else stack.enter_context(tempfile.TemporaryDirectory(prefix="tuning-"))
        loop = SearchLoop(
            strategy.make_oracle(space, budget, seed),
            objective,
            space,
            budget,
            tuner_dir,
            progress=progress,
            checkpoint=save if work else None,
            persist=persist,
        )
        if work is not None and saved is not None:
            try:
                loop.restore(saved)
            except (StateError, KeyError, TypeError, ValueError) as e:
                raise UsageError(f"work folder {work.path} cannot be continued: {e}; {DISCARD_HINT}") from None
            if weights is not None:
                retrain_damaged(objective, loop, weights, saved.get("weights", {}), work, log)
            save(loop.state())  # the resume counts even if this process dies before its first trial ends
            if log:
                log(f"resumed from {work.path}: {len(loop.records)} trials done, epochs {loop.epochs_used}")
        try:
            records = loop.search()
        except RuntimeError as e:  # Keras Tuner gives up after consecutive failed trials
            raise RunError(f"trials kept failing; last error: {last_line(str(e))}") from None
        best = loop.best()
        if best is None:
            errors = [r.extra.get("error", "") for r in records if r.extra.get("error")]
            raise RunError(f"no trial completed ({len(records)} ran); last error: {errors[-1] if errors else 'none'}")
        test_loss, test_accuracy = objective.test(best.trial_id, best.hyperparameters)
    wall = before + clock() - started
    samples = sum(r.samples for r in records)
    train_seconds = sum(r.train_seconds for r in records)
    return RunResult(
        problem=chosen.name,
        strategy=strategy.name,
        seed=seed,
        budget=budget,
        strategy_settings={**strategy.settings(space, budget), **objective.settings()},
        split=objective.data(),
        trials=records,
        trials_skipped_over_budget=loop.skipped_over_budget,
        best=BestTrial(
            trial_id=best.trial_id,
            hyperparameters=best.hyperparameters,
            val_accuracy=best.score,
            epochs=best.initial_epoch + best.epochs,
            test_accuracy=test_accuracy,
            test_loss=None if test_loss is None or math.isnan(test_loss) else test_loss,
            parameters=parameter_count(space, objective, best),
        ),
        wall_clock_seconds=wall,
        epochs_trained=sum(r.epochs for r in records),
        samples_trained=samples,
        train_seconds=train_seconds,
        throughput_samples_per_second=samples / train_seconds if train_seconds > 0 else None,
        environment={
            **(env if env is not None else environment()),
            "resumes": resumes,
            **({} if chosen.name == problems.DEFAULT else {"problem": chosen.provenance()}),
        },
    )


def parameter_count(space: Any, objective: Objective, best: TrialRecord) -> int | None:
    """Weights and biases of the chosen model: the space's closed form (the dense stack), else the sizes of
    the weights the objective kept for the trial, else None."""
    if hasattr(space, "parameter_count"):
        return int(space.parameter_count(best.hyperparameters))
    weights = getattr(objective, "weights", None)
    try:
        return int(sum(w.size for w in weights.get(best.trial_id)))  # type: ignore[union-attr]
    except (AttributeError, KeyError):
        return None


def retrain_damaged(
    objective: Objective, loop: SearchLoop, weights: TrialWeights, digests: Any, work: WorkFolder, log: Log | None
) -> None:
    """Train again, before the search continues, each finished trial whose weights file the checkpoint's
    digests say is missing or damaged: a Hyperband continuation or the final test would need it, and found
    out only then.  A trial's seed makes its weights the same; its validation accuracies must be the ones
    recorded, or the folder cannot be continued faithfully.  In record order, so that a continued trial's
    parent is whole again before the trial itself is retrained."""
    if not isinstance(digests, dict):
        raise UsageError(f"work folder {work.path}: the checkpoint's weight digests are not an object; {DISCARD_HINT}")
    bad = set(weights.damaged(digests))
    if not bad:
        return
    for record in (r for r in loop.records if r.trial_id in bad):
        again = objective.evaluate(
            record.trial_id,
            record.hyperparameters,
            record.initial_epoch + record.epochs,
            record.initial_epoch,
            record.resumed_from,
        )
        if again.val_accuracy != record.val_accuracy:
            raise UsageError(
                f"work folder {work.path}: trial {record.trial_id}'s weights were damaged and training it again gave "
                f"validation accuracies {again.val_accuracy}, not the recorded {record.val_accuracy}; {DISCARD_HINT}"
            )
    if log:
        log(
            f"trained again {len(bad)} trial(s) whose weights were missing or damaged in {weights.directory} "
            f"({', '.join(sorted(bad, key=str))}): the same validation accuracies as recorded"
        )


def already_done(results_dir: Path, strategy: str, budget: Budget, seed: int, problem: str = problems.DEFAULT) -> bool:
    """Whether the run's complete result file exists; if so, a work folder that a process killed
    between writing the file and removing the folder left behind is removed too."""
    if not completed(result_path(results_dir, problem, budget.name, strategy, seed), strategy, budget, seed):
        return False
    discard_idle(work_path(results_dir, problem, budget.name, strategy, seed))
    return True


def run_to_file(
    strategy_name: str,
    seed: int,
    budget_name: str,
    results_dir: Path,
    quiet: bool = False,
    force: bool = False,
    fresh: bool = False,
    problem: str = problems.DEFAULT,
) -> Path:
    """The whole of ``tuning run``: check, skip when done (unless ``force``), search (continuing
    from the work folder unless ``fresh``), write, remove the work folder; return the result file's path."""
    chosen = as_problem(problem)
    strategy, budget = resolve(strategy_name, budget_name, seed, chosen)
    results_dir = Path(results_dir)
    ensure_writable(results_dir / chosen.name / budget.name)
    path = result_path(results_dir, chosen.name, budget.name, strategy.name, seed)
    if not force and already_done(results_dir, strategy.name, budget, seed, chosen.name):
        if not quiet:
            stderr_log(f"{path} is complete; not run again (--force reruns it)")
        return path
    folder = work_path(results_dir, chosen.name, budget.name, strategy.name, seed)
    with resumable(strategy, budget, seed, folder, fresh, quiet, chosen) as (result, work):
        write_result(path, result)
        work.discard()
    return path
