"""Problems as parts: the registry, the seed problem's seam, a user's own model, and bad input refused in one line."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tuning import problems, strategies
from tuning.cli import main
from tuning.core.space import SpaceError
from tuning.execution.runner import cannot_serve
from tuning.problems.hypermodel import protocols

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "digits_mlp.py"

# The seed example's build_model on tiny arrays: what a user's module looks like.
USER_MODULE = """
import keras
import numpy as np

{extra}

def build_model(hp):
    model = keras.Sequential([keras.Input(shape=(8,))])
    for i in range(hp.Int("num_layers", 1, 3)):
        model.add(keras.layers.Dense(hp.Int(f"units_{{i}}", 8, 32, step=8), activation="relu"))
    model.add(keras.layers.Dense(3, activation="softmax"))
    model.compile(optimizer=keras.optimizers.Adam(hp.Float("learning_rate", 1e-3, 1e-1, sampling="log")),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def load_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 8)).astype("float32")
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0.5)
    return (x[:240], y[:240]), (x[240:], y[240:])
"""


def write_module(tmp_path: Path, text: str, name: str = "user_model.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def run_smoke(
    problem: object, strategy: str, results: Path, capsys: pytest.CaptureFixture[str], *more: str
) -> tuple[int, str, str]:
    """``tuning run --problem PROBLEM --strategy STRATEGY --budget smoke --seed 0 --results-dir RESULTS``."""
    args = ["run", "--problem", str(problem), "--strategy", strategy, "--budget", "smoke", "--seed", "0"]
    return run_cli([*args, "--results-dir", str(results), *more], capsys)


def test_the_registry_lists_both_built_in_problems(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["problems"], capsys)
    assert code == 0
    names = [line.split()[0] for line in out.splitlines()]
    assert names[:2] == ["mnist-mlp", "mnist-mlp-extended"]
    assert "live, replay, synthetic" in out.splitlines()[0]


def test_the_seed_problem_states_its_live_objectives_capabilities() -> None:
    from tuning.objectives.live.train import CAPABILITIES

    assert problems.get("mnist-mlp").capabilities == CAPABILITIES


def test_the_seed_problem_keeps_the_seed_protocol() -> None:
    """The budgets a result file records are the same as before problems: the committed results stay valid."""
    budgets = problems.get("mnist-mlp").budgets()
    assert [(b.name, b.n_train, b.n_val, b.epochs, b.trials, b.epoch_budget) for b in budgets.values()] == [
        ("smoke", 2_000, 1_000, 2, 3, 6),
        ("standard", 12_000, 3_000, 3, 8, 24),
        ("paper", 48_000, 12_000, 10, 10, 100),
    ]


def test_budgets_scale_with_the_data_and_give_mnist_the_seed_protocol() -> None:
    seed = problems.get("mnist-mlp").protocols
    assert protocols(60_000) == seed
    small = protocols(1_500)
    assert (small["paper"].n_train, small["paper"].n_val) == (1_200, 300)  # validation_split=0.2
    assert (small["standard"].n_train, small["standard"].n_val) == (300, 75)
    assert (small["smoke"].n_train, small["smoke"].n_val) == (1_200, 300)


def test_strategies_for_a_problem_say_which_serve_it(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["strategies", "--problem", "mnist-mlp-extended"], capsys)
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert "cannot serve mnist-mlp-extended" in lines["hypergradient"]
    assert "cannot serve" not in lines["random"] and "cannot serve" not in lines["grid"]


@pytest.mark.backend  # builds the user's Keras models
def test_a_discovered_space_has_the_users_hyperparameters_and_its_grid() -> None:
    problem = problems.get(str(EXAMPLE))
    space = problem.space
    names = [p.name for p in space.params()]
    # The plain loop declares units_1 and units_2 only when reached: discovery builds with the largest depth too.
    assert names == ["num_layers", "units_0", "learning_rate", "units_1", "units_2"]
    config = space.validate({"num_layers": 2, "units_0": 32, "learning_rate": 0.001, "units_1": 64, "units_2": 32})
    assert space.key(config).startswith("num_layers=2,units_0=32")
    assert space.grid_size() == 3 * 8 * 2 * 8 * 8
    with pytest.raises(SpaceError, match="units_0=33"):
        space.validate({**config, "units_0": 33})


@pytest.mark.backend  # builds the user's Keras models
def test_a_conditional_grid_counts_only_active_hyperparameters() -> None:
    import keras_tuner as kt

    from tuning.problems.keras_space import KerasTunerSpace

    hp = kt.HyperParameters()
    hp.Int("depth", 1, 3)
    for i in range(3):
        with hp.conditional_scope("depth", list(range(i + 1, 4))):
            hp.Choice(f"w{i}", [1, 2])
    hp.Float("lr", 0.1, 1.0)
    space = KerasTunerSpace(hp, {"lr": [0.1, 0.5]})
    assert space.grid_size() == (2 + 4 + 8) * 2
    with pytest.raises(SpaceError, match="lr is a continuous Float"):
        KerasTunerSpace(hp).grid_size()
    assert space.active_names({"depth": 1, "w0": 1, "lr": 0.1}) == ["depth", "w0", "lr"]
    declared = space.keras_tuner_hyperparameters(grid=True)
    assert [type(p).__name__ for p in declared.space] == ["Int", "Choice", "Choice", "Choice", "Choice"]


def test_grid_refuses_a_continuous_space_with_the_reason(tmp_path: Path) -> None:
    problem = problems.get(str(write_module(tmp_path, USER_MODULE.format(extra=""))))
    why = cannot_serve(strategies.get("grid"), problem)
    assert why is not None and "learning_rate is a continuous Float" in why and "GRID" in why
    assert "training:hypergradient" in (cannot_serve(strategies.get("hypergradient"), problem) or "")
    assert cannot_serve(strategies.get("random"), problem) is None


def test_a_users_module_is_recorded_by_a_path_a_clone_shares(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "models").mkdir()
    module = write_module(tmp_path / "models", USER_MODULE.format(extra=""), "portable_model.py")
    monkeypatch.chdir(tmp_path)  # below the working directory: relative, as a committed result should say it
    assert problems.get(str(module)).provenance()["file"] == str(Path("models") / "portable_model.py")
    monkeypatch.chdir(tmp_path / "models")
    elsewhere = tmp_path.parent / f"{tmp_path.name}-other"  # outside it: absolute, the only name that finds it
    elsewhere.mkdir()
    outside = write_module(elsewhere, USER_MODULE.format(extra=""), "outside_model.py")
    assert problems.get(str(outside)).provenance()["file"] == str(outside.resolve())


BAD_INPUTS = {
    "missing file": None,
    "does not import": "import nonexistent_package_xyz\n",
    "no build_model": "def load_data():\n    return None\n",
    "no load_data": "def build_model(hp):\n    return None\n",
    "build_model raises": USER_MODULE.format(extra="")
    + "\n_b = build_model\ndef build_model(hp):\n    raise ValueError('broken')\n",
    "not a model": USER_MODULE.format(extra="") + "\ndef build_model(hp):\n    hp.Int('a', 1, 2)\n    return 42\n",
    "not compiled": USER_MODULE.format(extra="")
    + "\ndef build_model(hp):\n    return keras.Sequential([keras.Input((8,)), keras.layers.Dense(hp.Int('u', 2, 4))])\n",
    "data of the wrong shape": USER_MODULE.format(extra="")
    + "\ndef load_data():\n    return (np.zeros((10, 8)), np.zeros(9)), (np.zeros((2, 8)), np.zeros(2))\n",
    "data of the wrong type": USER_MODULE.format(extra="")
    + "\ndef load_data():\n    return (np.array(['a'] * 20), np.zeros(20)), (np.zeros((2, 8)), np.zeros(2))\n",
    "data the model cannot take": USER_MODULE.format(extra="")
    + "\ndef load_data():\n    return (np.zeros((20, 5)), np.zeros(20)), (np.zeros((2, 5)), np.zeros(2))\n",
    "no hyperparameters": USER_MODULE.format(extra="")
    + "\ndef build_model(hp):\n    m = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3)])\n"
    + "    m.compile(optimizer='adam', loss='mse')\n    return m\n",
}
EXPECTED = {
    "missing file": "does not exist",
    "does not import": "does not import: ModuleNotFoundError",
    "no build_model": "defines no build_model",
    "no load_data": "defines no load_data",
    "build_model raises": "build_model(hp) raised ValueError: broken",
    "not a model": "returned int, expected a compiled keras.Model",
    "not compiled": "not compiled",
    "data of the wrong shape": "x_train has 10 rows but y_train has 9",
    "data of the wrong type": "x_train is not a numeric array",
    "data the model cannot take": "cannot take load_data()'s x_train rows of shape (5,)",
    "no hyperparameters": "declares no hyperparameters",
}


@pytest.mark.backend  # builds the user's Keras models
@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_a_bad_user_module_is_refused_in_one_line_and_nothing_is_written(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = BAD_INPUTS[case]
    module = tmp_path / "missing.py" if text is None else write_module(tmp_path, text, f"bad_{len(case)}.py")
    results = tmp_path / "results"
    code, out, err = run_smoke(module, "random", results, capsys)
    assert code == 2, err
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("tuning: error: ") and EXPECTED[case] in err, err
    assert not any(p.is_file() for p in results.rglob("*")) if results.exists() else True


def test_an_unknown_problem_name_lists_the_choices(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(
        ["run", "--problem", "nope", "--strategy", "random", "--budget", "smoke", "--seed", "0"], capsys
    )
    assert code == 2 and "unknown problem 'nope'; choose from mnist-mlp, mnist-mlp-extended" in err


@pytest.mark.backend  # builds the user's Keras models
@pytest.mark.training
def test_a_users_module_runs_and_reports_under_its_own_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    module = write_module(tmp_path, USER_MODULE.format(extra="NAME = 'toy'"))
    results = tmp_path / "results"
    paths = []
    for strategy in ("random", "tpe", "hyperband"):
        code, out, err = run_smoke(module, strategy, results, capsys, "--quiet")
        assert code == 0, err
        paths.append(Path(out.strip()))
    assert [p.relative_to(results).parts[:2] for p in paths] == [("toy", "smoke")] * 3
    doc = json.loads(paths[0].read_text())
    assert doc["problem"] == "toy"
    assert doc["environment"]["problem"]["sha256"] and doc["split"]["n_train"] == 192  # 240 rows, 20 % validate
    assert 0.0 <= doc["best"]["test_accuracy"] <= 1.0 and doc["best"]["parameters"] > 0
    again = tmp_path / "again"
    code, out, _ = run_smoke(module, "random", again, capsys, "--quiet")
    rerun = json.loads(Path(out.strip()).read_text())
    assert [t["val_accuracy"] for t in rerun["trials"]] == [t["val_accuracy"] for t in doc["trials"]]
    assert rerun["best"] == doc["best"]
    code, out, _ = run_cli(["report", str(results), "--table", "summary"], capsys)
    assert code == 0 and "Problem toy, budget smoke: 3 strategies" in out


PLUGIN = {
    "pyproject.toml": """
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "tuning-plugin-example"
        version = "0.0.1"

        [project.entry-points."tuning.strategies"]
        sobol-random = "tuning_plugin_example.strategy:STRATEGY"

        [project.entry-points."tuning.problems"]
        toy-plugin = "tuning_plugin_example.problem"
    """,
    "tuning_plugin_example/__init__.py": "",
    "tuning_plugin_example/strategy.py": """
        from dataclasses import replace

        from tuning.strategies.random_search import STRATEGY as RANDOM

        STRATEGY = replace(RANDOM, name="sobol-random", summary="an outside package's strategy (random search)")
    """,
    "tuning_plugin_example/problem.py": USER_MODULE.format(extra="NAME = 'toy-plugin'"),
}


@pytest.mark.training
def test_an_outside_packages_strategy_and_problem_are_found_through_entry_points(tmp_path: Path) -> None:
    source = tmp_path / "plugin"
    for name, text in PLUGIN.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(textwrap.dedent(text))
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--disable-pip-version-check",
            "--target",
            str(site),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    env = {**__import__("os").environ, "PYTHONPATH": f"{site}:{ROOT}"}

    def tuning(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tuning", *args], env=env, capture_output=True, text=True, cwd=tmp_path, timeout=600
        )

    assert "sobol-random" in tuning("strategies").stdout
    assert "toy-plugin" in tuning("problems").stdout
    done = tuning(
        "run",
        "--problem",
        "toy-plugin",
        "--strategy",
        "sobol-random",
        "--budget",
        "smoke",
        "--seed",
        "0",
        "--results-dir",
        str(tmp_path / "results"),
        "--quiet",
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(Path(done.stdout.strip()).read_text())
    assert (doc["problem"], doc["strategy"]) == ("toy-plugin", "sobol-random")
