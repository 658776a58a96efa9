"""tuning (python -m tuning): run a strategy on a problem, list problems and strategies, report; record, fit and
replay a table.

Every command that writes writes under results/local/ unless told otherwise (git-ignored: this machine's
runs); the committed reference (results/<problem>/<budget>/, results/<problem>/replay/<budget>/) is read by
default and written only when named with --results-dir results or --table-dir results/<problem>/replay."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import NoReturn

from tuning.core.errors import RunError, UsageError
from tuning.problems import DEFAULT as SEED_PROBLEM
from tuning.results import LOCAL_RESULTS, REFERENCE_RESULTS, tables_dir

REFERENCE_TABLES = tables_dir(REFERENCE_RESULTS, SEED_PROBLEM)  # the seed's committed tables
LOCAL_TABLES = tables_dir(LOCAL_RESULTS, SEED_PROBLEM)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit 2."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _seed(text: str) -> int:
    from tuning.core.seeds import parse_seed

    try:
        return parse_seed(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value


def _optimum(text: str) -> tuple[str, float]:
    budget, _, value = text.partition("=")
    try:
        accuracy = float(value)
    except ValueError:
        accuracy = float("nan")
    if not budget or not 0 < accuracy <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not BUDGET=ACCURACY with an accuracy in (0, 1]")
    return budget, accuracy


def _parser() -> argparse.ArgumentParser:
    from tuning import problems, strategies
    from tuning.core.budget import SEARCH as BUDGETS
    from tuning.report import FORMATS, TABLES

    parser = _Parser(prog="tuning", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="search with one strategy, seed and budget; print the result file's path")
    run.add_argument(
        "--strategy",
        required=True,
        choices=strategies.names(),
        metavar="NAME",
        help="one of: " + ", ".join(strategies.names()),
    )
    _problem_option(run, problems)
    run.add_argument("--seed", required=True, type=_seed, metavar="N", help="a non-negative integer")
    run.add_argument(
        "--budget", required=True, choices=list(BUDGETS), metavar="NAME", help="one of: " + ", ".join(BUDGETS)
    )
    run.add_argument(
        "--results-dir",
        type=Path,
        default=LOCAL_RESULTS,
        metavar="DIR",
        help=f"result files go under DIR/<problem>/<budget>/ (default: {LOCAL_RESULTS}, git-ignored; the committed "
        f"reference is {REFERENCE_RESULTS}, written only when named)",
    )
    run.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    run.add_argument("--force", action="store_true", help="run even if a complete result file exists (it is replaced)")
    run.add_argument(
        "--fresh",
        action="store_true",
        help="discard the work folder an interrupted run left (DIR/<problem>/<budget>/.work/<strategy>-seed<N>) instead of continuing it",
    )

    listed = sub.add_parser("strategies", help="list the strategies, a line each (with --problem: which serve it)")
    listed.add_argument(
        "--problem",
        default=None,
        metavar="PROBLEM",
        help="say which strategies can serve this problem, and why the others cannot",
    )
    sub.add_parser("problems", help="list the problems, a line each, with the objectives each offers")

    report = sub.add_parser("report", help="tables (and plots) from the result files under DIR, one section per budget")
    report.add_argument("directory", type=Path, metavar="DIR", help="searched recursively for *.json result files")
    report.add_argument(
        "--format", choices=FORMATS, default="github", help="github (Markdown, default), latex (booktabs) or csv"
    )
    report.add_argument(
        "--table",
        choices=("all", *TABLES),
        default="all",
        help="one table only: " + ", ".join(TABLES) + " (csv holds one table per file, so it needs one)",
    )
    report.add_argument(
        "--plot",
        type=Path,
        metavar="PATH",
        help="also write anytime curves to PATH.png/.svg and the critical-difference diagram to PATH-cd.png/.svg",
    )
    report.add_argument(
        "--reference",
        type=Path,
        metavar="REF",
        help="put these runs beside the runs under REF (e.g. the committed results/): same budget, strategy, seed",
    )
    report.add_argument(
        "--spread",
        type=_positive,
        default=None,
        metavar="PP",
        help="with --reference: the cross-machine spread in accuracy points (default: 0.76, measured Xeon vs EPYC)",
    )
    report.add_argument(
        "--optimum",
        type=_optimum,
        action="append",
        metavar="BUDGET=ACC",
        help="the best validation accuracy possible at BUDGET (a replay table knows it): adds normalized regret",
    )
    report.add_argument(
        "--margin",
        type=_positive,
        default=None,
        metavar="PP",
        help="equivalence margin in accuracy points: pairs within it are 'equivalent' (default: 0.5)",
    )
    report.add_argument(
        "--plan",
        action="store_true",
        help="instead of the tables: for each undecided pair, the seeds that would decide it and their wall-clock",
    )
    gate = sub.add_parser(
        "gate", help="compare a smoke bench's results with the committed baseline; exit 1 on a regression"
    )
    gate.add_argument(
        "directory",
        type=Path,
        nargs="+",
        metavar="DIR",
        help="a bench's <results>/<problem>/<budget> folder (with throughput.json); several benches of one commit: "
        "each run's cost is its least over them, its choices must be the same in all",
    )
    gate.add_argument("--baseline", type=Path, required=True, metavar="FILE", help="e.g. results/baseline/smoke.json")
    gate.add_argument(
        "--write", action="store_true", help="refresh FILE from DIR instead of comparing (on purpose only)"
    )
    quality = sub.add_parser(
        "quality",
        help="replay each strategy on many seeds and test its accuracy's equivalence with the committed baseline",
    )
    quality.add_argument(
        "--baseline",
        type=Path,
        default=Path("results/baseline/quality.json"),
        metavar="FILE",
        help="default: results/baseline/quality.json",
    )
    quality.add_argument(
        "--table-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="the replay tables live in DIR/<budget>/ (default: results/mnist-mlp/replay)",
    )
    quality.add_argument(
        "--write",
        action="store_true",
        help="refresh FILE from the committed replay runs file DIR/standard/runs.jsonl.gz (on purpose only)",
    )
    _replay_parsers(sub, BUDGETS)
    return parser


def _problem_option(parser: argparse.ArgumentParser, problems: ModuleType, replay: bool = False) -> None:
    from tuning.problems import DEFAULT

    what = "a problem (replay: once tuning record has made its table)" if replay else "a problem"
    parser.add_argument(
        "--problem",
        default=DEFAULT,
        metavar="PROBLEM",
        help=f"{what}: {', '.join(problems.names())}, or your own module (a .py file or a dotted module name "
        f"with build_model(hp) and load_data()); default: {DEFAULT}",
    )


def _replay_parsers(sub: argparse._SubParsersAction, budgets: Sequence[str]) -> None:
    """``record``, ``fit``, ``replay`` and ``agreement``: replay mode (``tuning.objectives.replay``)."""

    def budget(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--budget", required=True, choices=list(budgets), metavar="NAME", help="one of: " + ", ".join(budgets)
        )

    from tuning import problems

    def budget_and_problem(p: argparse.ArgumentParser) -> None:
        budget(p)
        _problem_option(p, problems, replay=True)

    def table_dir(p: argparse.ArgumentParser, default: Path = REFERENCE_TABLES) -> None:
        other = "results/<problem>/replay if committed, else " if default == REFERENCE_TABLES else ""
        p.add_argument(
            "--table-dir",
            type=Path,
            default=None,
            metavar="DIR",
            help=f"the tables live in DIR/<budget>/ (default: {default} for {SEED_PROBLEM}; for another problem "
            f"{other}results/local/<problem>/replay)",
        )

    def workers(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--workers",
            type=int,
            default=1,
            metavar="W",
            help="local single-threaded Dask worker processes to spread the work over (default 1: this process)",
        )
        p.add_argument(
            "--scheduler",
            default=None,
            metavar="ADDRESS",
            help="an existing Dask cluster instead (tcp:// or tls://HOST:PORT; see Scaling out)",
        )

    record = sub.add_parser(
        "record", help="train configurations into the budget's replay table (resumable: run it again to continue)"
    )
    budget_and_problem(record)
    record.add_argument("--configs", type=int, required=True, metavar="N", help="Sobol points of the whole space")
    record.add_argument(
        "--seeds",
        type=int,
        required=True,
        metavar="K",
        help="seeds 0..K-1 for grid and live configurations and a quarter of the Sobol points",
    )
    record.add_argument(
        "--grid",
        type=int,
        default=None,
        metavar="G",
        help="the grid strategy's first G points (default: as far as any budget reaches)",
    )
    record.add_argument(
        "--live-dir",
        type=Path,
        default=REFERENCE_RESULTS,
        metavar="DIR",
        help=f"configurations tried by the live runs in DIR/<problem>/<budget>/ (default: {REFERENCE_RESULTS})",
    )
    record.add_argument(
        "--max-minutes",
        type=float,
        default=None,
        metavar="M",
        help="start no training after M minutes (a chunk); run again to continue",
    )
    record.add_argument("--label", default=None, help="a note kept in every line's provenance, e.g. pilot")
    table_dir(record, LOCAL_TABLES)
    workers(record)

    fit = sub.add_parser(
        "fit", help="fit and validate the budget's surrogate; write SURROGATE.md and surrogate.json beside the table"
    )
    budget_and_problem(fit)
    table_dir(fit, LOCAL_TABLES)
    fit.add_argument(
        "--live-dir",
        type=Path,
        default=REFERENCE_RESULTS,
        metavar="DIR",
        help="hold out each strategy's configurations from the live runs in DIR/<problem>/<budget>/; choose the "
        "model error by the held-out live runs in DIR/<problem>/holdout/<budget>/ where there are any",
    )
    fit.add_argument(
        "--models", type=_names, default=None, metavar="A,B", help="candidate models (default: forest, boosting, knn)"
    )

    replay = sub.add_parser(
        "replay", help="replay strategies against the budget's table and surrogate into one runs file (runs.jsonl.gz)"
    )
    budget_and_problem(replay)
    replay.add_argument("--seeds", required=True, type=_seeds, metavar="SEEDS", help="e.g. 0-199 or 0,1,2")
    replay.add_argument(
        "--strategies",
        type=_names,
        default=None,
        metavar="A,B",
        help="default: every available strategy a replay can answer (hypergradient is live-only)",
    )
    replay.add_argument(
        "--results-dir",
        type=Path,
        default=LOCAL_RESULTS,
        metavar="DIR",
        help=f"the runs file goes to DIR/<problem>/replay/<budget>/runs.jsonl.gz (default: {LOCAL_RESULTS})",
    )
    replay.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    table_dir(replay)
    workers(replay)

    agreement = sub.add_parser(
        "agreement", help="REPLAY.md: the replay's summary and whether the live results fall inside its intervals"
    )
    budget_and_problem(agreement)
    agreement.add_argument(
        "--results-dir",
        type=Path,
        default=LOCAL_RESULTS,
        metavar="DIR",
        help=f"replays in DIR/<problem>/replay/<budget>/, REPLAY.md beside them (default: {LOCAL_RESULTS})",
    )
    agreement.add_argument(
        "--live-dir",
        type=Path,
        default=REFERENCE_RESULTS,
        metavar="DIR",
        help=f"live runs in DIR/<problem>/<budget>/, compared when no held-out runs are found (default: {REFERENCE_RESULTS})",
    )
    agreement.add_argument(
        "--holdout-dir",
        type=Path,
        default=REFERENCE_RESULTS,
        metavar="DIR",
        help="held-out live runs in DIR/<problem>/holdout/<budget>/runs.jsonl.gz: the certificate, certificate.json "
        f"beside REPLAY.md (default: {REFERENCE_RESULTS})",
    )
    table_dir(agreement)

    pack = sub.add_parser("pack", help="pack the result files in a folder into one runs file (runs.jsonl.gz)")
    pack.add_argument(
        "source", type=Path, metavar="DIR", help="the <strategy>-seed<N>.json result files directly in DIR"
    )
    pack.add_argument("target", type=Path, metavar="FILE", help="the runs file to write, e.g. .../runs.jsonl.gz")


def _seeds(text: str) -> list[int]:
    from tuning.core.seeds import parse_seeds

    try:
        return parse_seeds(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _names(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _fit(args: argparse.Namespace) -> int:
    from tuning.execution.replay import SURROGATE_REPORT, fit

    fitted = fit(args.budget, args.table_dir, args.live_dir, args.models, args.problem)
    sys.stdout.write(fitted.report)
    _say(f"tuning: kept {fitted.chosen}; wrote {fitted.directory / SURROGATE_REPORT}")
    return 0


def _agreement_command(budget_name: str, results_dir: Path, problem: str = SEED_PROBLEM) -> str:
    """The command that remakes a REPLAY.md, as its first line names it."""
    from tuning.execution.simulate import problem_option

    named = "" if results_dir == LOCAL_RESULTS else f" --results-dir {results_dir}"
    return f"python -m tuning agreement{problem_option(problem)} --budget {budget_name}{named}"


def _agreement(
    budget_name: str,
    results_dir: Path,
    command: str,
    live_dir: Path | None = None,
    holdout_dir: Path | None = REFERENCE_RESULTS,
    table_root: Path | None = None,
    problem: str = SEED_PROBLEM,
) -> Path:
    """Write and return ``<results>/<problem>/replay/<budget>/REPLAY.md`` (and, with held-out live runs,
    ``certificate.json``) from the runs files alone."""
    from tuning import problems
    from tuning.execution.replay import surrogate_answers
    from tuning.execution.simulate import live_only, problem_option, table_root_of
    from tuning.report.agreement import write_report

    chosen = problems.get(problem)
    root = table_root_of(chosen, table_root)
    return write_report(
        budget_name,
        results_dir,
        live_only(),
        command,
        warn=lambda m: _say(f"tuning: {m}"),
        live_dir=live_dir,
        problem=chosen.name,
        holdout=holdout_dir,
        table_directory=root / budget_name,
        space=chosen.space,
        problem_option=problem_option(problem),
        answered=surrogate_answers(budget_name, root, problem),
    )


def _pack(source: Path, target: Path) -> int:
    """``tuning pack``: every result file directly in ``source`` into the runs file ``target``."""
    from tuning.results import ResultError, read_result, write_runs

    paths = sorted(Path(source).glob("*-seed*.json"))
    if not paths:
        raise UsageError(f"no result files (<strategy>-seed<N>.json) in {source}")
    try:
        results = [read_result(p) for p in paths]
    except ResultError as e:
        raise UsageError(str(e)) from None
    print(write_runs(target, results))
    return 0


def _replay(args: argparse.Namespace) -> int:
    from tuning.execution.replay import replay

    try:
        path = replay(
            args.budget,
            args.seeds,
            args.strategies,
            args.results_dir,
            args.table_dir,
            args.workers,
            None if args.quiet else _say,
            args.scheduler,
            args.problem,
        )
    except KeyboardInterrupt:
        _say(
            "tuning: interrupted; the replay runs file was not written (it is written once, when every replay is done)"
        )
        return 130
    report = _agreement(
        args.budget,
        args.results_dir,
        _agreement_command(args.budget, args.results_dir, args.problem),
        REFERENCE_RESULTS,
        REFERENCE_RESULTS,
        args.table_dir,
        args.problem,
    )
    _say(f"tuning: wrote {path} and {report}")
    print(report)
    return 0


def _record(args: argparse.Namespace) -> int:
    from tuning.execution.record import GRID_POINTS, record

    outcome = record(
        args.budget,
        args.configs,
        args.seeds,
        args.table_dir,
        args.live_dir,
        args.workers,
        args.max_minutes,
        GRID_POINTS if args.grid is None else args.grid,
        args.label,
        _say,
        args.scheduler,
        args.problem,
    )
    _say(
        f"tuning: {'interrupted; ' if outcome.interrupted else ''}recorded {outcome.recorded} in {outcome.seconds:.0f}s; {outcome.already + outcome.recorded} of "
        f"{outcome.planned} planned are in the table ({outcome.table_size} lines), {outcome.remaining} to go"
    )
    print(outcome.directory)
    return 130 if outcome.interrupted else 0


def _gate(directory: list[Path], baseline: Path, write: bool) -> int:
    from tabulate import tabulate

    from tuning.bench import gate

    try:
        if write:
            print(f"wrote {gate.write_baseline(directory, baseline)}")
            return 0
        base = gate.read_baseline(baseline)
        found = gate.benches(directory, sorted(base["runs"]))  # read once, judged and explained
        checks = gate.compare(base, found)
        explanation = gate.explain(base, found, checks)
    except gate.GateError as e:
        raise UsageError(str(e)) from None
    failed = [c for c in checks if not c.ok]
    rows = [
        [c.run, c.check, c.baseline, c.current, c.change, "ok" if c.ok else "REGRESSED"] for c in (failed or checks)
    ]
    print(
        tabulate(
            rows,
            headers=["run", "check", "baseline", "now", "change", "verdict"],
            tablefmt="github",
            disable_numparse=True,
        )
    )
    print(
        f"\n{len(failed)} regression(s) in {len(checks)} checks; tolerances: test accuracy -{gate.ACCURACY_TOLERANCE}, "
        f"cost x{gate.SPEED_TOLERANCE} (cost = wall-clock x the samples/s of the bench's training steps"
        f"{f', the least of {len(directory)} benches' if len(directory) > 1 else ''})"
    )
    if explanation:
        print(f"\n{explanation}")
    return 1 if failed else 0


def _quality(baseline: Path, table_dir: Path | None, write: bool) -> int:
    from tabulate import tabulate

    from tuning.bench import quality
    from tuning.execution.record import TABLES

    table_dir = TABLES if table_dir is None else table_dir
    try:
        if write:
            print(f"wrote {quality.write_baseline(table_dir / quality.BUDGET, baseline)}")
            return 0
        verdicts = quality.check(quality.read_baseline(baseline), quality.replayer(table_dir), _say)
    except quality.QualityError as e:
        raise UsageError(str(e)) from None
    headers, rows = quality.table(verdicts)
    print(tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True))
    failed = [q.strategy for q in verdicts if not q.ok]
    print(
        f"\n{len(failed)} of {len(verdicts)} strategies failed; equivalence: TOST of the paired difference at alpha "
        f"{quality.ALPHA}, margin ±{100 * quality.MARGIN:g} pp; seeds matter: at least {quality.DISTINCT_SHARE:.0%} "
        "of the baseline's distinct choices"
    )
    return 1 if failed else 0


def _strategies(problem_ref: str | None) -> int:
    from tuning import problems, strategies

    problem = problems.get(problem_ref) if problem_ref is not None else None
    if problem is not None:
        from tuning.execution.runner import cannot_serve

        print(f"strategies for {problem.name}:")
    for strategy in strategies.all_strategies():
        state = "" if strategy.available() else f"  [unavailable: {strategy.install_hint}]"
        if problem is not None and not state:
            why = cannot_serve(strategy, problem)
            state = f"  [cannot serve {problem.name}: {why}]" if why else ""
        print(f"{strategy.name:<14} {strategy.summary}{state}")
    return 0


def _problems() -> int:
    from tuning import problems

    for problem in problems.all_problems():
        print(problem.describe())
    print(
        f"{'<file.py|module>':<20} your own model: a module with build_model(hp) and load_data() (see docs/problems.md)"
    )
    return 0


def _replay_problem(args: argparse.Namespace) -> None:
    """Replay commands serve any problem (a user's module included), found and checked before anything is
    written; ``tuning record`` makes its table, and the others refuse, naming that command, where none exists."""
    from tuning import problems

    args.problem = problems.portable(args.problem)
    problems.get(args.problem).check()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "strategies":
            return _strategies(args.problem)
        if args.command == "problems":
            return _problems()
        if args.command in ("record", "fit", "replay", "agreement"):
            _replay_problem(args)
        if args.command == "run":
            from tuning.results import ensure_writable

            ensure_writable(args.results_dir)  # refused before Keras is even imported
            from tuning import backend_not_installed

            if problem := backend_not_installed():
                raise UsageError(problem)
            from tuning.execution.runner import run_to_file

            path = run_to_file(
                args.strategy,
                args.seed,
                args.budget,
                args.results_dir,
                quiet=args.quiet,
                force=args.force,
                fresh=args.fresh,
                problem=args.problem,
            )
            print(path)
            return 0
        if args.command == "quality":
            return _quality(args.baseline, args.table_dir, args.write)
        if args.command == "gate":
            return _gate(args.directory, args.baseline, args.write)
        if args.command == "record":
            return _record(args)
        if args.command == "fit":
            return _fit(args)
        if args.command == "replay":
            return _replay(args)
        if args.command == "pack":
            return _pack(args.source, args.target)
        if args.command == "agreement":
            path = _agreement(
                args.budget,
                args.results_dir,
                _agreement_command(args.budget, args.results_dir, args.problem),
                args.live_dir,
                args.holdout_dir,
                args.table_dir,
                args.problem,
            )
            sys.stdout.write(path.read_text())
            return 0
        if args.command == "report":
            from tuning.report.command import report

            options = {} if args.spread is None else {"spread_pp": args.spread}
            options |= {} if args.margin is None else {"margin": args.margin / 100}
            return report(
                args.directory,
                args.format,
                args.plot,
                table=args.table,
                reference=args.reference,
                optimum=dict(args.optimum or []),
                plan=args.plan,
                **options,
            )
    except UsageError as e:
        print(f"tuning: error: {e}", file=sys.stderr)
        return 2
    except RunError as e:
        print(f"tuning: run failed: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "tuning: interrupted; no result written (the same command continues after the last finished trial)",
            file=sys.stderr,
        )
        return 130
    return 2


def entry() -> int:
    """The command line (``tuning``, ``python -m tuning``): ``main`` with the C++ libraries' log lines
    filtered off stderr (``tuning.terminal``)."""
    from tuning.terminal import quiet_stderr

    with quiet_stderr():
        return main()
