"""The replay objective: recorded learning curves, and a surrogate fitted to them, in place of training.

Tabular and surrogate benchmarks (LCBench, NAS-Bench-201, YAHPO Gym,
JAHS-Bench-201, Syne Tune's blackbox repository) answer a configuration from
recorded runs; this is that for any problem's space (the seed's Keras Tuner
MNIST space, or a user's), built from our own live runs.  ``table`` is the recorded table (one line per configuration
and seed) and its files; ``surrogate`` predicts any configuration's curves
from it, with seed noise drawn from the recorded spread; ``validate`` says
how far to trust it (``SURROGATE.md``); ``objective`` is the
``tuning.objectives.base.Objective`` a search runs against.

It offers no training variant (``capabilities`` is empty): a strategy that
changes training itself (hypergradient descent learns the learning rate
while it trains) cannot be answered from recorded curves and stays live-only.
"""
