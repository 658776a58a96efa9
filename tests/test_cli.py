"""Bad input gets one clear line, exit 2, no traceback and nothing written; good input a result file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tuning.cli import main
from tuning.results import read_result, write_atomic


def tuning(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tuning", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


def _one_error_line(proc: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("tuning")]
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--strategy", "annealing", "--seed", "0", "--budget", "smoke"], ["annealing", "grid", "random"]),
        (["--strategy", "random", "--seed", "0", "--budget", "huge"], ["huge", "smoke", "paper"]),
        (["--strategy", "random", "--seed", "-1", "--budget", "smoke"], ["non-negative integer", "-1"]),
        (["--strategy", "random", "--seed", "1.5", "--budget", "smoke"], ["non-negative integer", "1.5"]),
        (["--strategy", "random", "--seed", "x", "--budget", "smoke"], ["non-negative integer"]),
        (["--strategy", "random", "--budget", "smoke"], ["--seed"]),
    ],
)
def test_bad_arguments(args: list[str], needles: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["run", *args, "--results-dir", str(tmp_path)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    for needle in needles:
        assert needle in err
    assert not any(tmp_path.iterdir())


def test_unwritable_results_dir(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    proc = tuning(
        "run", "--strategy", "random", "--seed", "0", "--budget", "smoke", "--results-dir", str(blocker / "out")
    )
    _one_error_line(proc, 2, "cannot write results", str(blocker))
    assert blocker.read_text() == "not a directory"


def test_corrupt_dataset(tmp_path: Path) -> None:
    bad = tmp_path / "mnist.npz"
    bad.write_bytes(b"\x00" * 1024)
    out = tmp_path / "out"
    proc = tuning(
        "run",
        "--strategy",
        "random",
        "--seed",
        "0",
        "--budget",
        "smoke",
        "--results-dir",
        str(out),
        env={"TUNING_MNIST_FILE": str(bad)},
    )
    _one_error_line(proc, 2, "corrupt or not MNIST", str(bad))
    assert not any(p.is_file() for p in out.rglob("*"))


def test_missing_dataset(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = tuning(
        "run",
        "--strategy",
        "grid",
        "--seed",
        "0",
        "--budget",
        "smoke",
        "--results-dir",
        str(out),
        env={"TUNING_MNIST_FILE": str(tmp_path / "absent.npz")},
    )
    _one_error_line(proc, 2, "does not exist")
    assert not any(p.is_file() for p in out.rglob("*"))


def test_strategies_lists_each_with_a_line() -> None:
    from tuning import strategies

    proc = tuning("strategies")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == strategies.names()


def test_atomic_write_leaves_nothing_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "mnist-mlp" / "smoke" / "x.json"
    with pytest.raises(TypeError):
        write_atomic(target, {"unserialisable": object()})
    assert list(target.parent.iterdir()) == []


@pytest.mark.backend
@pytest.mark.training
def test_run_writes_the_result_file_and_prints_its_path_last(tmp_path: Path) -> None:
    proc = tuning("run", "--strategy", "random", "--seed", "0", "--budget", "smoke", "--results-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    path = Path(proc.stdout.strip().splitlines()[-1])
    assert path == tmp_path / "mnist-mlp" / "smoke" / "random-seed0.json"
    result = read_result(path).to_json()
    assert result["strategy"] == "random" and result["seed"] == 0 and result["budget"]["name"] == "smoke"
    assert result["epochs_trained"] == sum(t["epochs"] for t in result["trials"]) <= 6
    assert 0.5 < result["best"]["test_accuracy"] <= 1.0
    assert result["best"]["val_accuracy"] == max(t["val_accuracy_final"] for t in result["trials"])
    assert result["throughput_samples_per_second"] > 0
    env = result["environment"]
    assert env["versions"]["keras-tuner"] and env["device"]["kind"] in {"CPU", "GPU"} and "commit" in env["git"]
    for trial in result["trials"]:
        layers = trial["hyperparameters"]["num_layers"]
        assert {k for k in trial["hyperparameters"] if k.startswith("units_")} == {f"units_{i}" for i in range(layers)}
        assert len(trial["val_accuracy"]) == trial["epochs"] and trial["status"] == "COMPLETED"
    assert "[random seed 0 smoke] trial 3" in proc.stderr
    json.dumps(result)  # round-trips


@pytest.mark.training
def test_a_run_by_hand_needs_no_tensorflow_and_writes_to_the_local_folder(tmp_path: Path) -> None:
    """As after a plain `pip install .` (no [tensorflow] extra; TensorFlow made unimportable here) and with no
    --results-dir: the run trains on JAX and writes under results/local/, the git-ignored folder the bench uses.
    Old: results/, where the committed reference lives (and `tuning run` answered "complete; not run again")."""
    root = Path(__file__).resolve().parent.parent
    code = "import sys; sys.modules['tensorflow'] = None; from tuning.cli import entry; sys.exit(entry())"
    env = {**os.environ, "PYTHONPATH": str(root), "KERAS_BACKEND": "jax"}
    args = ["run", "--strategy", "random", "--seed", "0", "--budget", "smoke"]
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == str(
        Path("results", "local", "mnist-mlp", "smoke", "random-seed0.json")
    )
    assert [p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.json")] == [
        "results/local/mnist-mlp/smoke/random-seed0.json"
    ]
    assert (
        read_result(tmp_path / "results/local/mnist-mlp/smoke/random-seed0.json").environment["versions"]["backend"]
        == "jax"
    )


def test_the_tensorflow_backend_without_tensorflow_is_one_line(tmp_path: Path) -> None:
    """TensorFlow is an extra: choosing it without installing it says how, instead of Keras's ImportError."""
    code = "import sys; sys.modules['tensorflow'] = None; from tuning.cli import entry; sys.exit(entry())"
    args = ["run", "--strategy", "random", "--seed", "0", "--budget", "smoke", "--results-dir", str(tmp_path)]
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "KERAS_BACKEND": "tensorflow"},
    )
    _one_error_line(proc, 2, "KERAS_BACKEND=tensorflow", "tuning[tensorflow]")
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_help_is_plain_text() -> None:
    """Old: the description showed reStructuredText's double backquotes."""
    for args in (["--help"], ["run", "--help"], ["replay", "--help"]):
        proc = tuning(*args)
        assert proc.returncode == 0 and "``" not in proc.stdout and "usage: tuning" in proc.stdout, proc.stdout


def test_failing_trials_are_a_run_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tuning.objectives.live.train import KerasObjective

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("boom in training")

    monkeypatch.setattr(KerasObjective, "evaluate", broken)
    code = main(
        ["run", "--strategy", "random", "--seed", "0", "--budget", "smoke", "--results-dir", str(tmp_path), "--quiet"]
    )
    err = capsys.readouterr().err
    assert code == 1 and "boom in training" in err and "Traceback" not in err
    assert len([line for line in err.splitlines() if line.startswith("tuning")]) == 1, err
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_library_warnings_are_counted_in_one_line_and_ours_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    import warnings

    from tuning import terminal

    monkeypatch.delenv("TUNING_DEBUG", raising=False)
    lines: list[str] = []
    with pytest.warns(UserWarning, match="ours") as shown, terminal.counted_warnings(lines.append):
        for line in range(3):
            warnings.warn_explicit("did not converge", RuntimeWarning, "/site-packages/somelib/fit.py", line)
        warnings.warn_explicit("ours", UserWarning, terminal.__file__, 1)
    assert lines == ["3 library warning(s) not shown (builtins RuntimeWarning x3); TUNING_DEBUG=1 shows them"]
    assert [str(w.message) for w in shown] == ["ours"]
    monkeypatch.setenv("TUNING_DEBUG", "1")
    with pytest.warns(RuntimeWarning), terminal.counted_warnings(lines.append):
        warnings.warn_explicit("did not converge", RuntimeWarning, "/site-packages/somelib/fit.py", 8)
    assert len(lines) == 1


@pytest.mark.backend
@pytest.mark.training  # not training, but a whole standard-budget Bayesian search: seconds
def test_a_standard_bayesian_run_prints_no_warning_tracebacks() -> None:
    """Old: a standard bench printed 14 scikit-learn ConvergenceWarnings (Keras Tuner's Gaussian process) with
    their source lines among the progress lines.  The same search, on the synthetic objective: one count line."""
    code = (  # as the command line runs: the C++ libraries' log lines filtered (tuning.cli.entry), then the search
        "from tuning.terminal import quiet_stderr\n"
        "with quiet_stderr():\n"
        "    from tuning import strategies; from tuning.problems.mnist_mlp import BUDGETS, SPACE\n"
        "    from tuning.execution.runner import execute, stderr_log, stderr_progress\n"
        "    from tuning.objectives.synthetic import SyntheticObjective\n"
        "    execute(strategies.get('bayesian'), BUDGETS['standard'], 0, SyntheticObjective(SPACE), "
        "progress=stderr_progress('bayesian'), log=stderr_log)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TUNING_DEBUG"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert all(line.startswith(("[bayesian] trial", "tuning: ")) for line in lines), proc.stderr
    (count,) = [line for line in lines if "library warning" in line]
    assert "sklearn ConvergenceWarning" in count, count


@pytest.mark.backend
def test_quiet_stderr_drops_cpp_log_lines_and_keeps_ours() -> None:
    code = (
        "import os, sys; from tuning.terminal import quiet_stderr\n"
        "with quiet_stderr():\n"
        "    os.write(2, b'WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\\n')\n"
        "    os.write(2, b'E0000 00:00:1795999527.193593    2651 node_def_util.cc:682] NodeDef mentions attribute\\n')\n"
        "    print('[random seed 0 smoke] trial 1', file=sys.stderr)\n"
        "    os.write(2, b'I0000 00:00:1795999519.148358    2651 port.cc:153] oneDNN custom operations are on\\n')\n"
        "print('tuning: error: one line', file=sys.stderr)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TUNING_DEBUG"}
    quiet = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert quiet.stderr.splitlines() == ["[random seed 0 smoke] trial 1", "tuning: error: one line"], quiet.stderr
    loud = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env={**env, "TUNING_DEBUG": "1"}
    )
    assert len(loud.stderr.splitlines()) == 5
