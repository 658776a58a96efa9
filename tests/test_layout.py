"""Rules of the layout that import contracts cannot state: where Keras Tuner's internals may be reached."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "tuning"
INTERNALS = re.compile(r"keras_tuner\.src|_try_run_and_update_trial|kt_config")


def test_only_the_search_loop_reaches_into_keras_tuner_internals() -> None:
    reaching = sorted(
        str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if INTERNALS.search(p.read_text(encoding="utf-8"))
    )
    assert reaching == ["execution/loop.py"]
