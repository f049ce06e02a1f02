"""The folder list is the architecture: the import contracts hold, SQL lives only in the store, modules stay small."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
SQL = re.compile(
    r"\b(SELECT\s.+\sFROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+TABLE)\b", re.I
)
#: modules allowed past the length limit (none today).
LONG_OK: set[str] = set()


def sources() -> list[Path]:
    return sorted(p for d in ("agent", "tools") for p in (REPO / d).rglob("*.py"))


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed (pip install -e '.[dev]')")
def test_the_import_contracts_hold():
    p = subprocess.run(
        [str(LINT_IMPORTS), "--config", str(REPO / ".importlinter"), "--no-cache"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert p.returncode == 0, p.stdout[-3000:]
    assert "6 kept, 0 broken" in p.stdout


def test_sql_is_written_only_in_the_store():
    offenders = [
        str(p.relative_to(REPO))
        for p in sources()
        if "adapters/store" not in p.as_posix() and "standin" not in p.as_posix() and SQL.search(p.read_text())
    ]
    assert offenders == []


def test_only_the_store_opens_sqlite():
    offenders = [
        str(p.relative_to(REPO))
        for p in sources()
        if "adapters/store" not in p.as_posix() and re.search(r"^\s*(import sqlite3|from sqlite3)", p.read_text(), re.M)
    ]
    assert offenders == []


def test_modules_stay_about_400_lines():
    long = {
        str(p.relative_to(REPO)): n
        for p in sources()
        if (n := len(p.read_text().splitlines())) > 460 and str(p.relative_to(REPO)) not in LONG_OK
    }
    assert long == {}
