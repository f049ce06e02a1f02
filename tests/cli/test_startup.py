"""``rebalancer --help`` and ``--version`` load the command line only: the exchange SDK, the LLM SDKs, the web
server, the charts and Temporal are imported by the commands that use them (a fresh interpreter each, so
what this test process already imported does not count)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("hyperliquid", "eth_account", "matplotlib", "starlette", "temporalio", "openai", "anthropic")
PROGRAM = """
import json, sys
sys.argv = ["rebalancer", *{args!r}]
from agent.interfaces.cli import main
try:
    main()
except SystemExit as e:
    code = e.code
else:
    code = 0
print(json.dumps({{"code": code, "loaded": sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})}}),
      file=sys.stderr)
"""


def loaded_by(*args: str) -> tuple[int, list[str], str]:
    p = subprocess.run(
        [sys.executable, "-c", PROGRAM.format(args=list(args), heavy=HEAVY)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    report = json.loads(p.stderr.strip().splitlines()[-1])
    return report["code"], report["loaded"], p.stdout + p.stderr


@pytest.mark.parametrize("args", [["--help"], ["--version"], [], ["fleet", "--help"], ["plan", "--help"]])
def test_help_and_version_do_not_import_the_heavy_dependencies(args):
    code, loaded, out = loaded_by(*args)
    assert code in (0, 2) and ("Usage: rebalancer" in out or "rebalancer 0." in out)  # no arguments: help, exit 2
    assert loaded == []


def test_a_command_still_loads_what_it_needs():
    """The check above can fail: a command that reads the exchange does import the SDK."""
    code, loaded, _ = loaded_by("exchange", "serve", "--port", "0")
    assert code == 2 and "hyperliquid" in {m.split(".")[0] for m in loaded}


#: top-level modules of the dev extra's tools (pyproject.toml): the quick start's first command installs none of them
DEV_ONLY = (
    "pytest",
    "_pytest",
    "hypothesis",
    "respx",
    "playwright",
    "mypy",
    "ruff",
    "importlinter",
    "xdist",
    "pytest_benchmark",
    "temporalio",
    "yaml",
)


def test_the_demo_needs_nothing_from_the_dev_extra():
    """The quick start's first command is `pip install -e . && rebalancer demo`: the demo imports no test tool."""
    p = subprocess.run(
        [sys.executable, "-c", PROGRAM.format(args=["demo", "--json"], heavy=DEV_ONLY)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = json.loads(p.stderr.strip().splitlines()[-1])
    assert report["code"] in (0, None) and json.loads(p.stdout)["execution"]["status"] == "ok"
    assert report["loaded"] == []
