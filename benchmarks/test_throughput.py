"""Steady-state training throughput of three fixed architectures, on the GPU where one is visible."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from tuning.bench.throughput import ARCHITECTURES, device_summary, measure
from tuning.objectives.live.data import load_mnist, make_split


@pytest.fixture(scope="module")
def split():  # type: ignore[no-untyped-def]
    return make_split(load_mnist(), 8_192, 1_000)


@pytest.mark.parametrize("architecture", list(ARCHITECTURES))
def test_throughput(benchmark: Any, architecture: str, split: Any, throughput_log: list[dict[str, Any]]) -> None:
    figures = benchmark.pedantic(measure, args=(architecture, split), rounds=1, iterations=1)
    device = device_summary()
    benchmark.extra_info.update({**figures, "device": device})
    throughput_log.append({**figures, "device": device})
    print(
        f"\n[throughput] {architecture}: {figures['samples_per_second']:,.0f} samples/s, "
        f"{figures['gflops']:.1f} GFLOP/s on {device['kind']} {device['name']}",
        file=sys.stderr,
    )
    assert figures["samples_per_second"] > 0
