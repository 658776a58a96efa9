"""Accuracies as percentage points in tables: one format for every report, so that figures compare by eye."""

from __future__ import annotations


def points(x: float | None, signed: bool = False) -> str:
    """A fraction as points with two decimals (``0.9512`` -> ``95.12``; signed: ``+95.12``), None as ``n/a``."""
    if x is None:
        return "n/a"
    return f"{100 * x:+.2f}" if signed else f"{100 * x:.2f}"
