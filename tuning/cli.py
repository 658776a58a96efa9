"""``tuning`` / ``python -m tuning``: run a strategy, list strategies."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from tuning.core.errors import RunError, UsageError


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


def _parser() -> argparse.ArgumentParser:
    from tuning import strategies
    from tuning.core.budget import BUDGETS
    from tuning.report import FORMATS

    parser = _Parser(prog="tuning", description=__doc__)
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
        default=Path("results"),
        metavar="DIR",
        help="where result files go (default: results/)",
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
        "--plot",
        type=Path,
        metavar="PATH",
        help="also write anytime curves to PATH.png and PATH.svg (a .png/.svg suffix is replaced)",
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
    return parser


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
        if args.command == "report":
            from tuning.report.command import report

            return report(args.directory, args.format, args.plot)
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
