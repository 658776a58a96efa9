"""``tuning report DIR``: citable tables (and plots) from the result files under a directory.

Data flows one way: this package only reads result files; it never imports
Keras or TensorFlow, so a report is quick and runs where nothing was trained.

Per budget found under DIR (mixed budgets are reported one section per
budget, never pooled: their accuracies are not comparable) it prints, each
table with its notes and provenance so a pasted table still says how it was
made:

* a summary, one row per strategy, by name with its mean rank over the seeds
  every strategy ran beside it (IQM with a bootstrap CI from
  ``MIN_RUNS_FOR_CI`` runs, the range below);
* the Friedman test over the seeds every strategy ran;
* the pairwise table: the mean paired difference with its 95 % CI, a verdict
  (better / worse / equivalent within a margin / undecided: Wilcoxon
  signed-rank with Holm's correction, TOST), the difference the seeds could
  detect and the seeds that would decide an undecided pair (``--plan`` costs
  them out), and the probability of improvement;
* anytime mean ranks (and normalized regret where the optimum is known);
* where the time goes: training steps, compiling, validation and the rest, per strategy;
* with ``--reference DIR``, this machine's runs against the reference's.

Modules: ``command`` (the command itself), ``load`` (files -> records, bad ones named and skipped),
``statistics`` (aggregates, intervals, ranks), ``significance`` (Friedman, Wilcoxon, Holm, TOST, power),
``plan`` (the seed planner),
``anytime`` (curves along the budget), ``timing`` (where the wall-clock goes), ``compare`` (local against reference), ``provenance``,
``tables`` (numbers -> Markdown, LaTeX, CSV) and ``plots`` (anytime curves and the critical-difference
diagram; it imports tables, never the other way).  A new statistic goes in ``statistics`` or
``significance`` and gets a column or table in ``tables``.
"""

# Here, so the command line can list them without importing scipy.
FORMATS = ("github", "latex", "csv")
TABLES = ("summary", "friedman", "pairwise", "anytime", "time", "reference")
