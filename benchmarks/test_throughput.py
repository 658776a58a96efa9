"""Steady-state training throughput of three fixed architectures, on the GPU where one is visible."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from tuning.data import load_mnist, make_split
from tuning.gate import THROUGHPUT_FILE
from tuning.results import write_atomic
from tuning.throughput import ARCHITECTURES, CALIBRATION, device_summary, measure

_measured: dict[str, dict[str, Any]] = {}


@pytest.fixture(scope="module")
def split():  # type: ignore[no-untyped-def]
    return make_split(load_mnist(), 8_192, 1_000)


@pytest.mark.parametrize("architecture", list(ARCHITECTURES))
def test_throughput(benchmark: Any, architecture: str, split: Any, budget_name: str, results_dir: Path) -> None:
    figures = benchmark.pedantic(measure, args=(architecture, split), rounds=1, iterations=1)
    device = device_summary()
    benchmark.extra_info.update({**figures, "device": device})
    _measured[architecture] = figures
    print(
        f"\n[throughput] {architecture}: {figures['samples_per_second']:,.0f} samples/s, "
        f"{figures['gflops']:.1f} GFLOP/s on {device['kind']} {device['name']}",
        file=sys.stderr,
    )
    if len(_measured) == len(ARCHITECTURES):
        write_atomic(
            results_dir / budget_name / THROUGHPUT_FILE,
            {
                "kind": "throughput",
                "device": device,
                "calibration": CALIBRATION,
                "calibration_samples_per_second": _measured[CALIBRATION]["samples_per_second"],
                "architectures": list(_measured.values()),
            },
        )
    assert figures["samples_per_second"] > 0
