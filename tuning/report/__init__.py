"""``tuning report DIR``: citable tables (and plots) from the result files under a directory.

Data flows one way: this package only reads result files; it never imports
Keras or TensorFlow, so a report is quick and runs where nothing was trained.

Per budget found under DIR (mixed budgets are reported one section per
budget, never pooled: their accuracies are not comparable) it prints a
summary table, one row per strategy, sorted by mean rank across seeds; a
pairwise table (paired test-accuracy differences over shared seeds, with the
Wilcoxon signed-rank p-value); and under each table its provenance, so a
pasted table still says how it was made.

Modules: ``command`` (the command itself), ``load`` (files -> records, bad ones named and skipped),
``statistics``, ``provenance``, ``tables`` (numbers -> Markdown, LaTeX, CSV)
and ``plots`` (which imports tables, never the other way).  A new statistic
goes in ``statistics`` and gets a column or table in ``tables``.
"""

FORMATS = ("github", "latex", "csv")  # here, so the command line can list them without importing scipy
