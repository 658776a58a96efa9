"""The README's facts are the code's: default backend, budgets, commands, the headline answer, its links."""

from __future__ import annotations

import configparser
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tuning.cli import _parser
from tuning.problems.mnist_mlp import BUDGETS
from tuning.report.headline import BEGIN, END, headline, markers

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands() -> list[str]:
    """Every command line in the README's bash blocks, its comment cut off."""
    blocks = re.findall(r"```bash\n(.*?)```", README, re.DOTALL)
    return [line.split("  #")[0].strip() for block in blocks for line in block.splitlines() if line.strip()]


def _seeds(seeds: tuple[int, ...]) -> str:
    contiguous = list(seeds) == list(range(seeds[0], seeds[-1] + 1))
    return f"{seeds[0]}–{seeds[-1]}" if contiguous and len(seeds) > 1 else " ".join(map(str, seeds))


def test_the_front_page_is_short_and_its_links_exist() -> None:
    assert len(README.splitlines()) < 200
    for target in re.findall(r"\]\(([^)#]+)\)", README):
        assert (ROOT / target).exists(), target


def test_the_stated_default_backend_is_the_one_a_run_gets() -> None:
    (stated,) = re.findall(r"The default\s+Keras backend is (\w+)\.", README)
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    code = "import tuning, keras; print(keras.backend.backend())"
    got = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert got.returncode == 0, got.stderr
    assert stated.lower() == got.stdout.strip().splitlines()[-1]


def test_the_budgets_table_is_the_code_s() -> None:
    rows = re.findall(
        r"^\| (smoke|standard|paper|\w+) \| ([\d,]+) / ([\d,]+) \| (\d+) \| (\d+) \| (\d+) \| (.+) \|$",
        README,
        re.MULTILINE,
    )
    table = {r[0]: (int(r[1].replace(",", "")), int(r[2].replace(",", "")), *map(int, r[3:6]), r[6]) for r in rows}
    code = {b.name: (b.n_train, b.n_val, b.epochs, b.trials, b.epoch_budget, _seeds(b.seeds)) for b in BUDGETS.values()}
    assert table == code


def test_every_command_exists() -> None:
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    envs = {"py"} | {s.split(":", 1)[1] for s in tox.sections() if s.startswith("testenv:")}
    bench_options = set(re.findall(r'addoption\(\s*"(--[\w-]+)"', (ROOT / "benchmarks" / "conftest.py").read_text()))
    commands = _commands()
    assert commands.index("tox -e bench") < commands.index("tox -e py")  # the README's order
    for command in commands:
        words = shlex.split(command)
        if words[:2] == ["tox", "-e"]:
            assert words[2] in envs, command
            after = words[words.index("--") + 1 :] if "--" in words else []
            assert {w for w in after if w.startswith("--")} <= bench_options, command
        elif words[:3] == ["python", "-m", "tuning"]:
            _parser().parse_args(words[3:])  # an unknown subcommand or option exits 2
        elif words[:3] == ["python", "-m", "tuning.report.headline"]:
            assert (ROOT / "tuning" / "report" / "headline.py").is_file()
        else:
            assert words[0] == "pip", command


def test_the_answer_is_what_the_committed_results_give(capsys: pytest.CaptureFixture[str]) -> None:
    """Regenerate with `python -m tuning.report.headline results` between the README's headline markers."""
    stated = README.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert stated == headline(ROOT / "results").strip()


@pytest.mark.parametrize("budget", ["paper"])
def test_the_answer_at_another_budget_is_what_its_committed_results_give(budget: str) -> None:
    """`python -m tuning.report.headline results --budget paper --verdict-only` between that budget's markers."""
    begin, end = markers(budget)
    assert begin in README and end in README, f"the README holds no {budget} headline between {begin} and {end}"
    stated = README.split(begin, 1)[1].split(end, 1)[0].strip()
    assert stated == headline(ROOT / "results", budget, table=False).strip()
