"""The suite's run against the seed example's code path on the same configurations (``--example-budget``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from tuning.bench.side_by_side import KIND, compare, summary
from tuning.problems.mnist_mlp import BUDGETS, PROBLEM
from tuning.results import write_atomic


def test_side_by_side(benchmark: Any, example_budget: str, selection: Any, results_dir: Path) -> None:
    seed = selection.seeds[0]
    doc = benchmark.pedantic(compare, args=(BUDGETS[example_budget], seed), rounds=1, iterations=1)
    benchmark.extra_info.update({k: v for k, v in doc.items() if k != "configurations"})
    write_atomic(results_dir / PROBLEM.name / example_budget / f"{KIND}-seed{seed}.json", doc)
    for line in summary(doc):
        print(f"[side-by-side] {line}", file=sys.stderr)
    assert doc["ratio"] > 0 and len(doc["example"]["val_accuracy_final"]) == len(doc["configurations"])
