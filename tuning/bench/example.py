"""The seed example's own code path, run on a given list of configurations: the side-by-side yardstick.

The example (Keras Tuner's MNIST tutorial that the suite grew from) builds
every model with its ``build_model(hp)`` below (verbatim but for ``import
keras`` in place of ``from tensorflow import keras``), lets a Keras Tuner
``Tuner`` train each with ``fit(x, y, epochs, validation_data)`` - default
compile, one step per call, Keras Tuner's per-trial bookkeeping, its
best-epoch checkpoints and garbage collections - and scores the best model
on the test images.  The only change: proposals come from a fixed list
(``ListOracle``) instead of ``RandomSearchOracle``, so that the example trains
exactly the configurations the suite's own run trained.

It runs in a process of its own (``python -m tuning.bench.example``) on
the example's backend - Keras's default, TensorFlow, where it is installed -
so the suite's process keeps its backend.  The figures it prints are the
example's wall-clock (tuner construction to test score, imports and data
loading excluded, as for the suite's runs) and each configuration's final
validation accuracy.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

EXAMPLE_BACKEND = "tensorflow"  # what `from tensorflow import keras` gives the example


def example_backend() -> str:
    """TensorFlow where it is installed (the example's own), else the backend this process has."""
    import importlib.util

    if importlib.util.find_spec("tensorflow") is not None:
        return EXAMPLE_BACKEND
    return os.environ.get("KERAS_BACKEND", "jax")


def build_model(hp: Any) -> Any:
    """The seed example's model-building function."""
    import keras
    from keras import layers

    model = keras.Sequential()
    model.add(layers.Input(shape=(784,)))
    for i in range(hp.Int("num_layers", 1, 5)):
        model.add(
            layers.Dense(units=hp.Int("units_" + str(i), min_value=32, max_value=512, step=32), activation="relu")
        )
    model.add(layers.Dense(10, activation="softmax"))

    optimizer_choice = hp.Choice("optimizer", values=["adam", "sgd", "rmsprop"])
    if optimizer_choice == "adam":
        optimizer = keras.optimizers.Adam(learning_rate=hp.Float("learning_rate", 1e-4, 1e-2, sampling="log"))
    elif optimizer_choice == "sgd":
        optimizer = keras.optimizers.SGD(learning_rate=hp.Float("learning_rate", 1e-4, 1e-2, sampling="log"))
    else:  # 'rmsprop'
        optimizer = keras.optimizers.RMSprop(learning_rate=hp.Float("learning_rate", 1e-4, 1e-2, sampling="log"))

    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def run_example(configs: list[dict[str, Any]], budget_name: str, seed: int) -> dict[str, Any]:
    """Train ``configs`` through the example's code path on the budget's data; return what it measured."""
    import keras
    import keras_tuner as kt

    from tuning.objectives.live.data import load_mnist, make_split
    from tuning.problems.mnist_mlp import BUDGETS

    class ListOracle(kt.Oracle):
        """Proposes ``configs`` in order, then stops."""

        def populate_space(self, trial_id: str) -> dict[str, Any]:
            index = len(self.trials)  # the trials proposed so far (this one is not yet among them)
            if index >= len(configs):
                return {"status": kt.engine.trial.TrialStatus.STOPPED, "values": None}
            return {"status": kt.engine.trial.TrialStatus.RUNNING, "values": dict(configs[index])}

    budget = BUDGETS[budget_name]
    split = make_split(load_mnist(), budget.n_train, budget.n_val)
    keras.utils.set_random_seed(seed)
    with tempfile.TemporaryDirectory(prefix="tuning-example-") as directory:
        started = time.perf_counter()
        oracle = ListOracle(objective=kt.Objective("val_accuracy", "max"), max_trials=len(configs), seed=seed + 1)
        tuner = kt.Tuner(oracle=oracle, hypermodel=build_model, directory=directory, project_name="example")
        tuner.search(
            split.x_train, split.y_train, epochs=budget.epochs, validation_data=(split.x_val, split.y_val), verbose=0
        )
        best_model = tuner.get_best_models(num_models=1)[0]
        test_loss, test_accuracy = best_model.evaluate(split.x_test, split.y_test, verbose=0)
        wall = time.perf_counter() - started
        trials = [oracle.trials[t] for t in sorted(oracle.trials, key=int)]
        final = [t.metrics.get_history("val_accuracy")[-1].value[0] for t in trials]
    return {
        "backend": keras.backend.backend(),
        "wall_clock_seconds": wall,
        "val_accuracy_final": [float(v) for v in final],
        "hyperparameters": [dict(t.hyperparameters.values) for t in trials],
        "test_accuracy": float(test_accuracy),
        "test_loss": float(test_loss),
    }


def run_example_process(configs: list[dict[str, Any]], budget_name: str, seed: int) -> dict[str, Any]:
    """``run_example`` in a process of its own, on the example's backend."""
    import subprocess

    with tempfile.TemporaryDirectory(prefix="tuning-example-io-") as io:
        request, answer = Path(io) / "configs.json", Path(io) / "answer.json"
        request.write_text(json.dumps({"configs": configs, "budget": budget_name, "seed": seed}))
        env = {**os.environ, "KERAS_BACKEND": example_backend()}
        done = subprocess.run(
            [sys.executable, "-m", "tuning.bench.example", str(request), str(answer)],
            env=env,
            capture_output=True,
            text=True,
            timeout=6 * 3600,
        )
        if done.returncode != 0:
            raise RuntimeError(f"the example's code path failed: {done.stderr.strip().splitlines()[-1:]}")
        return json.loads(answer.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tuning.bench.example", description=__doc__)
    parser.add_argument("request", type=Path, help="JSON: {configs, budget, seed}")
    parser.add_argument("answer", type=Path, help="where the measured JSON goes")
    args = parser.parse_args(argv)
    request = json.loads(args.request.read_text())
    result = run_example(request["configs"], request["budget"], int(request["seed"]))
    args.answer.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    from tuning.terminal import quiet_stderr

    with quiet_stderr():
        raise SystemExit(main())
