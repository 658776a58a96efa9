"""BACKEND-SPECIFIC CODE LIVES HERE, AND ONLY HERE.

The harness is written against ``keras`` (Keras 3) so that it runs on JAX
(the default since it measured 2.6x TensorFlow's training throughput here:
see the README's throughput section) and on TensorFlow
(``KERAS_BACKEND=tensorflow``).  What Keras does not abstract - op determinism,
thread pools, device names, peak device memory - is answered here, per
backend, so that no other module imports ``tensorflow`` or ``jax``.
"""

from __future__ import annotations

import os
import platform
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def name() -> str:
    import keras

    return keras.backend.backend()


def make_deterministic() -> None:
    """Ask the backend for bit-reproducible kernels (same seed, same machine, same numbers)."""
    if name() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    # JAX on CPU is deterministic; on GPU XLA_FLAGS=--xla_gpu_deterministic_ops=true would be needed.
    if name() == "jax":
        flags = os.environ.get("XLA_FLAGS", "")
        if "--xla_gpu_deterministic_ops" not in flags:
            os.environ["XLA_FLAGS"] = (flags + " --xla_gpu_deterministic_ops=true").strip()


def set_seed(seed: int) -> None:
    """Seed what training draws from: Python's and numpy's generators (weights are drawn with numpy;
    on JAX, Keras shuffles with numpy too) and, on TensorFlow, TensorFlow's.

    ``keras.utils.set_random_seed`` would do the same, but it imports TensorFlow whenever it is
    installed, even on JAX: 4-5 s and a screen of C++ log lines per process for nothing.
    """
    if name() == "tensorflow":
        import keras

        keras.utils.set_random_seed(seed)
        return
    random.seed(seed)
    np.random.seed(seed)


def device_array(values: np.ndarray) -> Any:
    """``values`` as the backend's own array, without compiling anything.

    On JAX, Keras makes a variable's value with ``jnp.asarray(value)``; for a numpy
    array that stages a small program compiled per new shape (5-8 ms each, four per
    dense layer with Adam), where ``jax.device_put`` only copies.  Other backends take
    numpy as it is.
    """
    if name() == "jax":
        import jax

        return jax.device_put(values)
    return values


_COMPILE_EVENTS = (
    "/jax/core/compile/jaxpr_trace_duration",  # tracing (top-level traces only: nested ones are not timed)
    "/jax/core/compile/jaxpr_to_mlir_module_duration",  # lowering
    "/jax/core/compile/backend_compile_duration",  # XLA's compile, or loading the program from the cache
)
_compile_seconds = 0.0
_listening = False


def _count_compile(event: str, seconds: float, **_: Any) -> None:
    global _compile_seconds
    if event in _COMPILE_EVENTS:
        _compile_seconds += seconds


def compile_clock() -> Callable[[], float] | None:
    """A clock of the seconds this process has spent preparing programs to run: tracing, lowering,
    and compiling them or loading them from the cache (JAX reports each through ``jax.monitoring``).
    None on backends that do not report it."""
    global _listening
    if name() != "jax":
        return None
    if not _listening:
        import jax

        jax.monitoring.register_event_duration_secs_listener(_count_compile)
        _listening = True
    return lambda: _compile_seconds


def restarts_like_new() -> bool:
    """Whether a restarted model (``model.restart``) trains to the same weights as a new one here, given
    ``draw_like_first_fit``: checked on JAX (``tests/test_train.py``).  On TensorFlow, Keras shuffles with
    TensorFlow's own generator inside ``tf.data``, whose draws a first fit makes are not reproduced: build anew."""
    return name() == "jax"


def draw_like_first_fit(n_train: int) -> None:
    """Draw what a new model's first ``fit`` draws and a restarted model's would not.

    On JAX, Keras shuffles with numpy's global generator, one permutation per pass over the
    data; a new model's first ``fit`` makes one extra pass to build its metrics and loss
    (``Trainer._symbolic_build`` takes a first batch), so its first epoch trains on the second
    permutation.  A restarted model is built already: drawing that permutation here puts its
    epochs on the same batches as a new model's.
    """
    if name() == "jax":
        np.random.permutation(n_train)


def compilation_cache_dir() -> Path:
    """Where compiled XLA programs are kept between processes (``TUNING_CACHE_DIR`` or ~/.cache/tuning)."""
    root = os.environ.get("TUNING_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "tuning")
    return Path(root) / f"xla-{name()}"


def enable_compilation_cache() -> None:
    """Keep JAX's compiled programs on disk: a configuration trained before (by any run, any seed,
    any strategy) skips its compile, which is most of a short trial's overhead.  The cache is keyed by
    the program, the compiler and the device, so it changes no number.  TensorFlow has no such cache."""
    if name() != "jax":
        return
    import jax

    directory = compilation_cache_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:  # read-only home: run without the cache
        return
    jax.config.update("jax_compilation_cache_dir", str(directory))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.05)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def limit_threads(n: int) -> None:
    """Compute on ``n`` threads: a Dask worker (one run at a time) shares its host with other workers.

    Measured on this project's machine: the numbers a run produces do not depend on it (TensorFlow
    intra-op 1 vs all cores, XLA's Eigen pool on or off: identical accuracies and losses); only the
    speed does.  Call it before the first computation: TensorFlow refuses a change after its
    runtime starts (the same value again is accepted), and XLA reads its flags when JAX first
    computes.
    """
    if n < 1:
        raise ValueError(f"threads must be a positive integer, got {n}")
    global _limit
    _limit = n
    if name() == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(n)
        tf.config.threading.set_inter_op_parallelism_threads(n)
    if name() == "jax":
        flags = [f for f in os.environ.get("XLA_FLAGS", "").split() if not f.startswith(_XLA_THREAD_FLAGS)]
        flags += [f"--xla_cpu_multi_thread_eigen={'true' if n > 1 else 'false'}", f"intra_op_parallelism_threads={n}"]
        os.environ["XLA_FLAGS"] = " ".join(flags)


_XLA_THREAD_FLAGS = ("--xla_cpu_multi_thread_eigen", "intra_op_parallelism_threads")
_limit: int | None = None  # limit_threads's


def compute_threads() -> int:
    """The threads this process computes on: ``limit_threads``'s, else every core it may run on."""
    if _limit is not None:
        return _limit
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def threads() -> dict[str, Any]:
    info: dict[str, Any] = {"cpu_count": os.cpu_count()}
    try:
        info["affinity"] = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        pass
    if name() == "tensorflow":
        import tensorflow as tf

        info["tf_intra_op"] = tf.config.threading.get_intra_op_parallelism_threads()  # 0 = all cores
        info["tf_inter_op"] = tf.config.threading.get_inter_op_parallelism_threads()
    if name() == "jax":
        info["xla_threads"] = (
            " ".join(f for f in os.environ.get("XLA_FLAGS", "").split() if f.startswith(_XLA_THREAD_FLAGS))
            or "default (all cores)"
        )
    return info


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_names() -> list[str]:
    backend = name()
    if backend == "tensorflow":
        import tensorflow as tf

        names = []
        for dev in tf.config.list_physical_devices("GPU"):
            details = tf.config.experimental.get_device_details(dev)
            names.append(details.get("device_name", dev.name))
        return names
    if backend == "jax":
        import jax

        return [d.device_kind for d in jax.devices() if d.platform == "gpu"]
    return []


def device() -> dict[str, Any]:
    """What trains: the GPU where one is visible, else the CPU."""
    gpus = gpu_names()
    if gpus:
        return {"kind": "GPU", "name": gpus[0], "count": len(gpus), "cpu": cpu_model()}
    return {"kind": "CPU", "name": cpu_model(), "count": 1, "cpu": cpu_model()}


def peak_memory_bytes() -> int | None:
    """Peak accelerator memory since start, where the backend tells it."""
    backend = name()
    try:
        if backend == "tensorflow" and gpu_names():
            import tensorflow as tf

            return int(tf.config.experimental.get_memory_info("GPU:0")["peak"])
        if backend == "jax":
            import jax

            dev = jax.devices()[0]
            if dev.platform == "gpu":
                return int((dev.memory_stats() or {}).get("peak_bytes_in_use", 0)) or None
    except Exception:  # memory statistics are best-effort provenance, never a failure
        return None
    return None


def versions() -> dict[str, str | None]:
    import importlib.metadata as metadata

    out: dict[str, str | None] = {"python": platform.python_version(), "backend": name()}
    libraries = ("tensorflow", "jax", "torch", "keras", "keras-tuner", "numpy", "scipy", "scikit-learn", "optuna")
    strategies = ("cmaes", "smac", "ConfigSpace")  # the strategies' own libraries (issue 18), for provenance
    for dist in libraries + strategies:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out
