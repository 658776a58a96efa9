"""Seeds, in one place: what a seed may be, and how a run seed becomes oracle and trial seeds."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

SEED_RULE = "a non-negative integer"


def check_seed(value: Any) -> int:
    """``value`` if it is a usable seed, else ``ValueError`` saying what is allowed."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"seed must be {SEED_RULE}, got {value!r}")
    return value


def parse_seed(text: str) -> int:
    """A seed written on a command line (decimal only)."""
    try:
        return check_seed(int(text, 10))
    except ValueError:
        raise ValueError(f"seed must be {SEED_RULE}, got {text!r}") from None


def parse_seeds(text: str) -> list[int]:
    """``"0,1,2"`` or a range ``"0-9"`` (or a mix: ``"0-4,10"``), in order, without repeats."""
    seeds: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        low, sep, high = part.partition("-")
        if sep and low.strip() and high.strip():
            first, last = parse_seed(low.strip()), parse_seed(high.strip())
            if last < first:
                raise ValueError(f"seed range {part!r} runs backwards")
            chosen = range(first, last + 1)
        else:
            chosen = [parse_seed(part)]
        seeds += [s for s in chosen if s not in seeds]
    if not seeds:
        raise ValueError(f"seeds must be comma-separated {SEED_RULE}s or ranges like 0-9, got {text!r}")
    return seeds


def oracle_seed(seed: int) -> int:
    """Keras Tuner replaces a falsy seed (0) with a random one; shift by one so seed 0 stays seed 0."""
    return seed + 1


def trial_seed(seed: int, trial_id: str) -> int:
    """A 31-bit seed for one trial of one run, independent across both (weights, shuffling, samplers)."""
    return int(np.random.SeedSequence([seed, int(trial_id)]).generate_state(1)[0] & 0x7FFFFFFF)


def seed_runs(seeds: Iterable[int]) -> str:
    """Seeds as runs of consecutive numbers: ``0-199`` rather than two hundred of them (what ``--seeds`` accepts)."""
    runs: list[list[int]] = []
    for s in sorted(set(seeds)):
        if runs and s == runs[-1][1] + 1:
            runs[-1][1] = s
        else:
            runs.append([s, s])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)
