"""tuning (python -m tuning): run a strategy, list strategies, report; record, fit and replay a table.

Every command that writes writes under results/local/ unless told otherwise (git-ignored: this machine's
runs); the committed reference (results/<budget>/, results/replay/<budget>/) is read by default and written
only when named with --results-dir results or --table-dir results/replay."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from tuning.core.errors import RunError, UsageError
from tuning.results import LOCAL_RESULTS, LOCAL_TABLES, REFERENCE_RESULTS, REFERENCE_TABLES


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
    from tuning import strategies
    from tuning.core.budget import BUDGETS
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
    run.add_argument("--seed", required=True, type=_seed, metavar="N", help="a non-negative integer")
    run.add_argument(
        "--budget", required=True, choices=list(BUDGETS), metavar="NAME", help="one of: " + ", ".join(BUDGETS)
    )
    run.add_argument(
        "--results-dir",
        type=Path,
        default=LOCAL_RESULTS,
        metavar="DIR",
        help=f"result files go under DIR/<budget>/ (default: {LOCAL_RESULTS}, git-ignored; the committed reference "
        f"is {REFERENCE_RESULTS}, written only when named)",
    )
    run.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    run.add_argument("--force", action="store_true", help="run even if a complete result file exists (it is replaced)")
    run.add_argument(
        "--fresh",
        action="store_true",
        help="discard the work folder an interrupted run left (DIR/<budget>/.work/<strategy>-seed<N>) instead of continuing it",
    )

    sub.add_parser("strategies", help="list the strategies, a line each")

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
    gate = sub.add_parser(
        "gate", help="compare a smoke bench's results with the committed baseline; exit 1 on a regression"
    )
    gate.add_argument(
        "directory", type=Path, metavar="DIR", help="the bench's <results>/<budget> folder (with throughput.json)"
    )
    gate.add_argument("--baseline", type=Path, required=True, metavar="FILE", help="e.g. results/baseline/smoke.json")
    gate.add_argument(
        "--write", action="store_true", help="refresh FILE from DIR instead of comparing (on purpose only)"
    )
    _replay_parsers(sub, BUDGETS)
    return parser


def _replay_parsers(sub: argparse._SubParsersAction, budgets: Sequence[str]) -> None:
    """``record``, ``fit``, ``replay`` and ``agreement``: replay mode (``tuning.objectives.replay``)."""

    def budget(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--budget", required=True, choices=list(budgets), metavar="NAME", help="one of: " + ", ".join(budgets)
        )

    def table_dir(p: argparse.ArgumentParser, default: Path = REFERENCE_TABLES) -> None:
        p.add_argument("--table-dir", type=Path, default=default, metavar="DIR",
                       help=f"the tables live in DIR/<budget>/ (default: {default})")  # fmt: skip

    def workers(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--workers", type=int, default=1, metavar="W",
            help="local single-threaded Dask worker processes to spread the work over (default 1: this process)",
        )  # fmt: skip
        p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="an existing Dask cluster instead (tcp:// or tls://HOST:PORT; see Scaling out)")  # fmt: skip

    record = sub.add_parser(
        "record", help="train configurations into the budget's replay table (resumable: run it again to continue)"
    )
    budget(record)
    record.add_argument("--configs", type=int, required=True, metavar="N", help="Sobol points of the whole space")
    record.add_argument("--seeds", type=int, required=True, metavar="K",
                        help="seeds 0..K-1 for grid and live configurations and a quarter of the Sobol points")  # fmt: skip
    record.add_argument("--grid", type=int, default=None, metavar="G",
                        help="the grid strategy's first G points (default: as far as any budget reaches)")  # fmt: skip
    record.add_argument("--live-dir", type=Path, default=REFERENCE_RESULTS, metavar="DIR",
                        help=f"configurations tried by the live runs in DIR/<budget>/ (default: {REFERENCE_RESULTS})")  # fmt: skip
    record.add_argument("--max-minutes", type=float, default=None, metavar="M",
                        help="start no training after M minutes (a chunk); run again to continue")  # fmt: skip
    record.add_argument("--label", default=None, help="a note kept in every line's provenance, e.g. pilot")
    table_dir(record, LOCAL_TABLES)
    workers(record)

    fit = sub.add_parser(
        "fit", help="fit and validate the budget's surrogate; write SURROGATE.md and surrogate.json beside the table"
    )
    budget(fit)
    table_dir(fit, LOCAL_TABLES)
    fit.add_argument("--live-dir", type=Path, default=REFERENCE_RESULTS, metavar="DIR",
                     help="hold out each strategy's configurations from the live runs in DIR/<budget>/")  # fmt: skip
    fit.add_argument("--models", type=_names, default=None, metavar="A,B",
                     help="candidate models (default: forest, boosting, knn)")  # fmt: skip

    replay = sub.add_parser(
        "replay", help="replay strategies against the budget's table and surrogate, one result file per seed"
    )
    budget(replay)
    replay.add_argument("--seeds", required=True, type=_seeds, metavar="SEEDS", help="e.g. 0-199 or 0,1,2")
    replay.add_argument("--strategies", type=_names, default=None, metavar="A,B",
                        help="default: every available strategy a replay can answer (hypergradient is live-only)")  # fmt: skip
    replay.add_argument("--results-dir", type=Path, default=LOCAL_RESULTS, metavar="DIR",
                        help=f"result files go under DIR/replay/<budget>/ (default: {LOCAL_RESULTS})")  # fmt: skip
    replay.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    table_dir(replay)
    workers(replay)

    agreement = sub.add_parser(
        "agreement", help="REPLAY.md: the replay's summary and whether the live results fall inside its intervals"
    )
    budget(agreement)
    agreement.add_argument("--results-dir", type=Path, default=LOCAL_RESULTS, metavar="DIR",
                           help=f"replays in DIR/replay/<budget>/, REPLAY.md beside them (default: {LOCAL_RESULTS})")  # fmt: skip
    agreement.add_argument("--live-dir", type=Path, default=REFERENCE_RESULTS, metavar="DIR",
                           help=f"live runs in DIR/<budget>/ (default: {REFERENCE_RESULTS}, the reference)")  # fmt: skip


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

    fitted = fit(args.budget, args.table_dir, args.live_dir, args.models)
    sys.stdout.write(fitted.report)
    _say(f"tuning: kept {fitted.chosen}; wrote {fitted.directory / SURROGATE_REPORT}")
    return 0


def _agreement_command(budget_name: str, results_dir: Path) -> str:
    """The command that remakes a REPLAY.md, as its first line names it."""
    named = "" if results_dir == LOCAL_RESULTS else f" --results-dir {results_dir}"
    return f"python -m tuning agreement --budget {budget_name}{named}"


def _agreement(budget_name: str, results_dir: Path, command: str, live_dir: Path | None = None) -> Path:
    """Write and return ``<results>/replay/<budget>/REPLAY.md`` from the result files alone."""
    from tuning.execution.replay import live_only
    from tuning.report.agreement import write_report

    return write_report(
        budget_name, results_dir, live_only(), command, warn=lambda m: _say(f"tuning: {m}"), live_dir=live_dir
    )


def _replay(args: argparse.Namespace) -> int:
    from tuning.execution.replay import replay

    try:
        paths = replay(args.budget, args.seeds, args.strategies, args.results_dir, args.table_dir, args.workers,
                       None if args.quiet else _say, args.scheduler)  # fmt: skip
    except KeyboardInterrupt:
        _say("tuning: interrupted; every replay result file written so far is complete, none is half-written")
        return 130
    report = _agreement(
        args.budget, args.results_dir, _agreement_command(args.budget, args.results_dir), REFERENCE_RESULTS
    )
    _say(f"tuning: {len(paths)} replay result files; wrote {report}")
    print(report)
    return 0


def _record(args: argparse.Namespace) -> int:
    from tuning.execution.record import GRID_POINTS, record

    outcome = record(args.budget, args.configs, args.seeds, args.table_dir, args.live_dir, args.workers,
                     args.max_minutes, GRID_POINTS if args.grid is None else args.grid, args.label, _say,
                     args.scheduler)  # fmt: skip
    _say(
        f"tuning: {'interrupted; ' if outcome.interrupted else ''}recorded {outcome.recorded} in {outcome.seconds:.0f}s; {outcome.already + outcome.recorded} of "
        f"{outcome.planned} planned are in the table ({outcome.table_size} lines), {outcome.remaining} to go"
    )
    print(outcome.directory)
    return 130 if outcome.interrupted else 0


def _gate(directory: Path, baseline: Path, write: bool) -> int:
    from tabulate import tabulate

    from tuning.bench import gate

    try:
        if write:
            print(f"wrote {gate.write_baseline(directory, baseline)}")
            return 0
        checks = gate.compare(gate.read_baseline(baseline), directory)
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
        f"cost x{gate.SPEED_TOLERANCE} (cost = wall-clock x calibration samples/s)"
    )
    return 1 if failed else 0


def _strategies() -> int:
    from tuning import strategies

    for strategy in strategies.all_strategies():
        state = "" if strategy.available() else f"  [unavailable: {strategy.install_hint}]"
        print(f"{strategy.name:<14} {strategy.summary}{state}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "strategies":
            return _strategies()
        if args.command == "run":
            from tuning.results import ensure_writable

            ensure_writable(args.results_dir / args.budget)  # refused before Keras is even imported
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
            )
            print(path)
            return 0
        if args.command == "gate":
            return _gate(args.directory, args.baseline, args.write)
        if args.command == "record":
            return _record(args)
        if args.command == "fit":
            return _fit(args)
        if args.command == "replay":
            return _replay(args)
        if args.command == "agreement":
            path = _agreement(args.budget, args.results_dir, _agreement_command(args.budget, args.results_dir),
                              args.live_dir)  # fmt: skip
            sys.stdout.write(path.read_text())
            return 0
        if args.command == "report":
            from tuning.report.command import report

            spread = {} if args.spread is None else {"spread_pp": args.spread}
            return report(args.directory, args.format, args.plot, table=args.table, reference=args.reference,
                          optimum=dict(args.optimum or []), **spread)  # fmt: skip
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
