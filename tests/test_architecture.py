"""The folder list is the architecture: the import contracts hold, no import cycle at run time, SQL lives only in
the store, and modules stay small (a long one is reported, not refused)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import grimp
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


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """One shortest cycle through each module that sits on one (as import chains, the module first and last)."""
    cycles: dict[frozenset[str], list[str]] = {}
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            chain = graph.find_shortest_chain(importer=imported, imported=module)
            if chain is not None:
                cycles.setdefault(frozenset(chain), [module, *chain])
                break
    return list(cycles.values())


def test_no_module_imports_itself_back_at_run_time():
    """Every import chain in ``agent`` and ``tools`` points one way: a module never ends up importing itself,
    through however many others (imports under ``TYPE_CHECKING`` are annotations, not run-time imports).
    Function-level imports count: they run too, just later."""
    graph = grimp.build_graph("agent", "tools", exclude_type_checking_imports=True, cache_dir=None)
    assert [" -> ".join(c) for c in import_cycles(graph)] == []


def test_the_cycle_check_finds_a_cycle():
    graph = grimp.ImportGraph()
    for name in ("pkg.a", "pkg.b", "pkg.c", "pkg.d"):
        graph.add_module(name)
    graph.add_import(importer="pkg.a", imported="pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg.c")
    graph.add_import(importer="pkg.c", imported="pkg.a")
    graph.add_import(importer="pkg.c", imported="pkg.d")
    assert import_cycles(graph) == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]


def test_modules_stay_about_400_lines():
    """A module past ~460 lines probably holds two concepts: it is reported (run with ``-s`` to read it),
    not refused, because the cure is a split by concept, never by line count."""
    long = {
        str(p.relative_to(REPO)): n
        for p in sources()
        if (n := len(p.read_text().splitlines())) > 460 and str(p.relative_to(REPO)) not in LONG_OK
    }
    for path, n in sorted(long.items()):
        print(f"warning: {path} has {n} lines (about 400 is the aim; split it by concept)")
