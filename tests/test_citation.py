"""Citable: CITATION.cff validates and names this version; the committed report has the tables the command makes."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from tuning.report.command import build, render

ROOT = Path(__file__).resolve().parent.parent


def test_citation_cff_validates() -> None:
    """The Citation File Format's own validator (cffconvert --validate), where it is installed."""
    cffconvert = pytest.importorskip("cffconvert", reason="cffconvert not installed (pip install cffconvert)")
    citation = cffconvert.Citation((ROOT / "CITATION.cff").read_text(encoding="utf-8"), src=str(ROOT / "CITATION.cff"))
    citation.validate()  # raises on a document that does not follow the schema it declares


def test_citation_names_the_packages_version() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    cff = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    assert re.search(rf"^version: {re.escape(version)}$", cff, re.MULTILINE), f"CITATION.cff is not version {version}"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    cite = readme.split("## How to cite", 1)[1].split("\n## ", 1)[0]
    assert version in cite and "CITATION.cff" in cite


def _outline(markdown: str) -> list[str]:
    """Headings and table header rows: what the report's layout is, without the numbers."""
    lines = markdown.splitlines()
    return [
        line for i, line in enumerate(lines) if line.startswith("#") or (i + 1 < len(lines) and "|--" in lines[i + 1])
    ]


def test_the_committed_report_has_the_tables_the_command_makes_now() -> None:
    """results/RESULTS.md is what README's command makes from the committed files (regenerate it after a change)."""
    sections = build(ROOT / "results", warn=lambda _: None)
    assert _outline(render(sections, "github")) == _outline((ROOT / "results" / "RESULTS.md").read_text())


def test_one_licence_named_everywhere() -> None:
    """LICENSE is the licence that pyproject.toml and CITATION.cff name (an SPDX identifier)."""
    spdx = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]
    cff = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    assert re.search(rf"^license: {re.escape(spdx)}$", cff, re.MULTILINE), f"CITATION.cff does not name {spdx}"
    titles = {"Apache-2.0": "Apache License\n                           Version 2.0", "MIT": "MIT License"}
    assert titles[spdx] in (ROOT / "LICENSE").read_text(encoding="utf-8")
