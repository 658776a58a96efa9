"""tuning: which hyperparameter-search technique to use, and what it costs.

Data flows one way: data -> space -> strategy -> run -> result file -> report.
"""

import os

# Quiet TensorFlow's C++ start-up logging before anything imports it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
