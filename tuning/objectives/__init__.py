"""Objectives: how a configuration is trained (or looked up) and scored, behind one seam.

``base.Objective`` is the interface (HPOBench's and JAHS-Bench-201's seam: a
benchmark is a space, a fidelity and an objective).  ``live`` trains real
models on MNIST; ``synthetic`` trains nothing, for the property tests.  A
new objective (a replay table, a surrogate) is one more module here.
"""
