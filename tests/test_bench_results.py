"""A bench that never writes over the committed reference.

Old: ``tox -e bench`` wrote into ``results/standard/`` over the committed
reference files: after one bench on a new machine ``git status`` was dirty,
the provenance said "dirty" and the reference was gone.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _bench_results_default() -> str:
    """The --results-dir default that benchmarks/conftest.py declares."""
    tree = ast.parse((ROOT / "benchmarks" / "conftest.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            if node.args[0].value == "--results-dir":
                (default,) = [k.value for k in node.keywords if k.arg == "default"]
                assert isinstance(default, ast.Constant)
                return str(default.value)
    raise AssertionError("no --results-dir option in benchmarks/conftest.py")


@pytest.mark.skipif(shutil.which("git") is None, reason="git not on PATH")
def test_the_bench_writes_to_a_git_ignored_folder_by_default() -> None:
    """Old: results/, so a bench wrote over results/standard/*.json, the committed reference."""
    default = _bench_results_default()
    assert Path(default) != Path("results")
    for budget in ("smoke", "standard", "paper"):
        path = f"{default}/{budget}/random-seed0.json"
        ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT, capture_output=True)
        if ignored.returncode == 128:
            pytest.skip("not a git checkout")
        assert ignored.returncode == 0, f"{path} is not git-ignored"


@pytest.mark.training
@pytest.mark.skipif(shutil.which("git") is None, reason="git not on PATH")
def test_the_readme_s_two_commands_in_order_on_a_fresh_clone(tmp_path: Path) -> None:
    """The bench as tox runs it (smoke, one strategy), in a fresh repository of this tree: afterwards `git status`
    has nothing to say, and the tests that read the committed results pass beside the bench's files."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True)
    if listed.returncode:
        pytest.skip("not a git checkout")
    clone = tmp_path / "clone"
    for name in filter(None, listed.stdout.decode().split("\0")):
        if (ROOT / name).is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, clone / name)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "fresh"]):
        subprocess.run([*git, *command], cwd=clone, check=True, capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(clone), "PYTHONHASHSEED": "0"}
    # tox.ini's bench command; one run, the calibration benchmark and the side by side, at the smoke budget.
    bench = [
        sys.executable,
        "-m",
        "pytest",
        "benchmarks",
        "--capture=no",
        "--benchmark-autosave",
        "-p",
        "no:cacheprovider",
        "--budget",
        "smoke",
        "--strategies",
        "random",
        "-k",
        "random or example or side_by_side",
    ]
    proc = subprocess.run(bench, cwd=clone, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    written = sorted(p.name for p in (clone / "results" / "local" / "mnist-mlp" / "smoke").iterdir())
    assert written == ["random-seed0.json", "side-by-side-seed0.json", "throughput.json"]
    status = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True, check=True)
    assert status.stdout == "", status.stdout
    # Then the README's second command: the tests that read the committed results, with the bench's files there.
    # Old: test_records read results/local/smoke/*.json too, and `tox -e py` failed after `tox -e bench`.
    tests = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/test_records.py",
        "tests/test_citation.py",
        "tests/test_readme.py",
    ]
    proc = subprocess.run(tests, cwd=clone, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
