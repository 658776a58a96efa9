"""The throughput file a bench writes beside its results: this machine's measured speed, for the report.

Kept apart from ``throughput`` (which trains) so that writing it never needs
Keras.  (The speed gate no longer reads it: it normalises by the bench's own
training steps, ``tuning.bench.gate``.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tuning.results import write_atomic

THROUGHPUT_FILE = "throughput.json"
CALIBRATION = "example best 1x448"  # the architecture whose samples/s the file names as the calibration


def write_throughput(directory: Path, device: dict[str, Any], measured: list[dict[str, Any]]) -> Path:
    """Write what the throughput benchmark measured (one entry per architecture) to ``directory``."""
    by_name = {m["architecture"]: m for m in measured}
    if CALIBRATION not in by_name:
        raise ValueError(f"the calibration architecture {CALIBRATION!r} was not measured")
    return write_atomic(
        Path(directory) / THROUGHPUT_FILE,
        {
            "kind": "throughput",
            "device": device,
            "calibration": CALIBRATION,
            "calibration_samples_per_second": by_name[CALIBRATION]["samples_per_second"],
            "backend": measured[-1].get("backend"),
            "peak_matmul": measured[-1].get("peak_matmul"),
            "architectures": measured,
        },
    )
