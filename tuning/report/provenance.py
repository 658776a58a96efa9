"""Provenance: the lines under every table that say how it was made, from the results alone."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Sequence
from importlib import metadata
from typing import Any

from tuning.report.load import ResultFile


def _distinct(values: Iterable[str]) -> str:
    """One value, or every distinct value with its run count when runs disagree."""
    counts = Counter(values)
    if len(counts) == 1:
        return next(iter(counts))
    return " | ".join(f"{v} ({n} run{'s' if n != 1 else ''})" for v, n in sorted(counts.items()))


def _device(env: dict[str, Any]) -> str:
    device = env.get("device")
    if not isinstance(device, dict):
        return "unknown"
    text = " ".join(str(device[k]) for k in ("kind", "name") if device.get(k)) or "unknown"
    count = device.get("count")
    return f"{text} x{count}" if isinstance(count, int) and count > 1 else text


def _commit(env: dict[str, Any]) -> str:
    git = env.get("git") if isinstance(env.get("git"), dict) else {}
    commit = git.get("commit")
    if not commit:
        return "not in git"
    dirty = {True: "dirty", False: "clean"}.get(git.get("dirty"), "dirty unknown")
    return f"{str(commit)[:12]} ({dirty})"


def _split(split: dict[str, Any]) -> str:
    if not split:
        return "not recorded"
    parts = [f"{split.get('dataset', '?')} from {split.get('source', '?')}"]
    parts += [f"{k}: {split[k]}" for k in ("train", "validation", "test") if k in split]
    if "preprocessing" in split:
        parts.append(str(split["preprocessing"]))
    return "; ".join(parts)


def report_versions() -> str:
    """The versions of what computed the statistics: a p-value or a bootstrap CI may move with them."""
    names = ("tuning", "scipy", "numpy", "statsmodels", "scikit-posthocs")
    found = []
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found)


def seed_list(seeds: Iterable[int]) -> str:
    """Sorted seeds, four or more in a row as a range: ``0, 1, 2`` but ``0-199`` (what ``--seeds`` accepts)."""
    parts: list[str] = []
    for _, run in itertools.groupby(enumerate(sorted(set(seeds))), key=lambda pair: pair[1] - pair[0]):
        values = [seed for _, seed in run]
        parts += [f"{values[0]}-{values[-1]}"] if len(values) >= 4 else [str(v) for v in values]
    return ", ".join(parts)


def files(runs: Sequence[ResultFile]) -> str:
    """Which files a table was made from, per folder, as a pattern and a count: sixty names said nothing a reader
    checks, while ``results/mnist-mlp/standard/: 60 files {strategy}-seed{seed}.json`` with the names and seeds does."""
    folders: dict[str, list[ResultFile]] = {}
    for run in sorted(runs, key=lambda r: str(r.path)):
        folders.setdefault(str(run.path.parent), []).append(run)
    parts = []
    for folder, mine in folders.items():
        regular = [r for r in mine if r.path.name == f"{r.strategy}-seed{r.seed}.json"]
        text = (
            (
                f"{folder}/: {len(regular)} file{'s' if len(regular) != 1 else ''} {{strategy}}-seed{{seed}}.json "
                f"({', '.join(sorted({r.strategy for r in regular}))}; seeds {seed_list(r.seed for r in regular)})"
            )
            if regular
            else f"{folder}/:"
        )
        others = [r.path.name for r in mine if r not in regular]
        parts.append(text + (f"{' and' if regular else ''} {', '.join(others)}" if others else ""))
    return "; ".join(parts)


def provenance(runs: Sequence[ResultFile]) -> list[tuple[str, str]]:
    """(label, text) lines saying how a table was made; disagreeing runs list every value."""
    b = runs[0].result.budget
    defaults = f" (the budget's default seeds: {seed_list(b.seeds)})" if b.seeds else ""
    by_strategy = {r.strategy for r in runs}
    seed_sets = {name: seed_list(r.seed for r in runs if r.strategy == name) for name in sorted(by_strategy)}
    if len(set(seed_sets.values())) > 1:
        seeds = "; ".join(f"{name}: {s}" for name, s in seed_sets.items())
    else:
        seeds = next(iter(seed_sets.values()))
    libraries = sorted({k for r in runs for k, v in (r.environment.get("versions") or {}).items() if v is not None})
    versions = ", ".join(
        f"{lib} {_distinct(str((r.environment.get('versions') or {}).get(lib)) for r in runs)}" for lib in libraries
    )
    created = sorted(str(r.environment["created"]) for r in runs if r.environment.get("created"))
    return [
        (
            "Budget",
            f"{b.name} ({b.n_train:,} training / {b.n_val:,} validation images, "
            f"{b.epochs} epochs per full trial, {b.trials} trials, epoch budget {b.epoch_budget})",
        ),
        ("Seeds", f"{seeds}{defaults}"),
        ("Split", _distinct(_split(r.result.split) for r in runs)),
        ("Device", _distinct(_device(r.environment) for r in runs)),
        ("Platform", _distinct(str(r.environment.get("platform", "unknown")) for r in runs)),
        ("Versions", versions or "not recorded"),
        ("Commit", _distinct(_commit(r.environment) for r in runs)),
        ("Runs", f"{len(runs)} result files" + (f", created {created[0]} to {created[-1]}" if created else "")),
        ("Files", files(runs)),
        ("Made by", f"python -m tuning report (tuning/report/) from the result files alone, with {report_versions()}"),
    ]
