"""Steady-state training throughput of three fixed architectures, on the GPU where one is visible."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from tuning.bench.throughput import ARCHITECTURES, device_summary, measure, peak_matmul
from tuning.objectives.live import backend
from tuning.objectives.live.data import load_mnist, make_split


@pytest.fixture(scope="module")
def split():  # type: ignore[no-untyped-def]
    return make_split(load_mnist(), 8_192, 1_000)


@pytest.fixture(scope="module")
def peak() -> dict[str, Any]:
    """This machine's large-matmul peak, in the same backend and process as the architectures."""
    figures = peak_matmul()
    print(f"\n[throughput] peak: {figures['gflops']:.0f} GFLOP/s ({figures['n']}^2 float32 matmul)", file=sys.stderr)
    return figures


@pytest.mark.parametrize("architecture", list(ARCHITECTURES))
def test_throughput(
    benchmark: Any, architecture: str, split: Any, peak: dict[str, Any], throughput_log: list[dict[str, Any]]
) -> None:
    backend.make_deterministic()
    figures = benchmark.pedantic(measure, args=(architecture, split), rounds=1, iterations=1)
    figures["fraction_of_peak"] = figures["gflops"] / peak["gflops"]
    device = device_summary()
    benchmark.extra_info.update({**figures, "device": device, "peak_matmul": peak, "backend": backend.name()})
    throughput_log.append({**figures, "device": device, "peak_matmul": peak, "backend": backend.name()})
    print(
        f"\n[throughput] {architecture}: {figures['samples_per_second']:,.0f} samples/s, "
        f"{figures['gflops']:.1f} GFLOP/s ({100 * figures['fraction_of_peak']:.0f} % of peak) "
        f"on {device['kind']} {device['name']} ({backend.name()})",
        file=sys.stderr,
    )
    assert figures["samples_per_second"] > 0
