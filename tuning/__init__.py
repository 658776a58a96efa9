"""tuning: which hyperparameter-search technique to use, and what it costs.

Data flows one way: data -> space -> strategy -> run -> result file -> report.
"""

import os

# Quiet TensorFlow's C++ start-up logging before anything imports it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# JAX is the default Keras backend (measured fastest here; KERAS_BACKEND=tensorflow selects TensorFlow).
# Set before Keras is imported: Keras reads it once, at import.
os.environ.setdefault("KERAS_BACKEND", "jax")

__version__ = "0.1.0"
