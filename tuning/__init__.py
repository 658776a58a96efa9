"""tuning: which hyperparameter-search technique to use, and what it costs.

Data flows one way: data -> space -> strategy -> run -> result file -> report.
"""

import importlib.util
import os

# Quiet TensorFlow's C++ start-up logging before anything imports it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# JAX is the default Keras backend (measured fastest here; KERAS_BACKEND=tensorflow selects TensorFlow).
# Set before Keras is imported: Keras reads it once, at import.
os.environ.setdefault("KERAS_BACKEND", "jax")

__version__ = "0.1.0"

_INSTALL = {"tensorflow": "pip install 'tuning[tensorflow]'"}  # TensorFlow is an extra; JAX comes with the suite


def backend_not_installed() -> str | None:
    """Why the Keras backend that KERAS_BACKEND names cannot load, said before Keras is imported (whose own
    ImportError would be a traceback); None when it is installed."""
    chosen = os.environ["KERAS_BACKEND"]
    if importlib.util.find_spec(chosen) is not None:
        return None
    return (
        f"KERAS_BACKEND={chosen}, which is not installed; install it: {_INSTALL.get(chosen, f'pip install {chosen}')}"
    )
