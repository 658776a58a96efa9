"""Where a live run's wall-clock goes: training steps, compiling, the per-epoch validation, and the rest.

A trial records its training-step seconds (``train_seconds``), how much of
them JAX spent preparing programs (``compile_seconds``: tracing, lowering,
compiling or loading from the cache; None on TensorFlow) and the seconds of
scoring the validation images after each epoch (``validation_seconds``).
The rest of the wall-clock - building models, the strategy's decisions,
Keras Tuner's bookkeeping, scoring the test images, writing state - is what
a run spends besides the protocol's work.

Shares are ratios of sums over a strategy's runs (so they add up to 100 %
and a long run weighs by its length); a run whose trials lack the timings
(a replay, or a file from before they were recorded) is left out and
counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tuning.report.load import ResultFile


@dataclass(frozen=True)
class Timing:
    """One strategy's time, summed over its runs that recorded where it went."""

    strategy: str
    runs: int  # runs counted
    skipped: int  # runs without the timings (replays, older files)
    wall: float
    steps: float  # training steps, the first call's compile excluded
    compile: float
    validation: float

    @property
    def rest(self) -> float:
        return self.wall - self.steps - self.compile - self.validation

    def share(self, seconds: float) -> float:
        return seconds / self.wall if self.wall > 0 else float("nan")

    @property
    def wall_per_step(self) -> float:
        """Wall-clock / training-step time: 1.0 would be a run that does nothing but train."""
        return self.wall / self.steps if self.steps > 0 else float("nan")

    @property
    def wall_per_protocol(self) -> float:
        """Wall-clock / (training steps + the validation after each epoch that the protocol needs)."""
        work = self.steps + self.validation
        return self.wall / work if work > 0 else float("nan")


def timed(run: ResultFile) -> bool:
    """Whether every trial of a live run recorded its validation seconds (its compile seconds are None on a
    backend that does not report them: they stay counted in its steps)."""
    trials = run.result.trials
    return run.result.mode == "live" and bool(trials) and all(t.validation_seconds is not None for t in trials)


def timings(runs: Sequence[ResultFile], order: Sequence[str]) -> list[Timing]:
    """One ``Timing`` per strategy in ``order`` (strategies with no timed run included, with zero runs)."""
    out = []
    for name in order:
        mine = [r for r in runs if r.strategy == name]
        counted = [r for r in mine if timed(r)]
        trials = [t for r in counted for t in r.result.trials]
        compile_ = sum(t.compile_seconds or 0.0 for t in trials)
        out.append(
            Timing(
                strategy=name,
                runs=len(counted),
                skipped=len(mine) - len(counted),
                wall=sum(r.result.wall_clock_seconds for r in counted),
                steps=sum(t.train_seconds for t in trials) - compile_,
                compile=compile_,
                validation=sum(t.validation_seconds or 0.0 for t in trials),
            )
        )
    return out
