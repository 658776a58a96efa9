"""The throughput file a bench writes beside its results: this machine's measured speed, the gate's yardstick.

Kept apart from ``throughput`` (which trains) so that reading it - the gate
does, in CI - never imports Keras.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tuning.results import write_atomic

THROUGHPUT_FILE = "throughput.json"
CALIBRATION = "example best 1x448"  # the architecture whose samples/s calibrates the speed gate


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


def read_calibration(directory: Path) -> float:
    """Calibration samples per second measured in ``directory``'s bench; ``ValueError`` says why not."""
    path = Path(directory) / THROUGHPUT_FILE
    try:
        doc = json.loads(path.read_text())
        return float(doc["calibration_samples_per_second"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ValueError(f"no usable calibration at {path} ({e})") from None
