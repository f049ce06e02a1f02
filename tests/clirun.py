"""Run the installed ``rebalancer`` console script as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

SCRIPT = Path(sys.executable).with_name("rebalancer")


def clean_env() -> dict[str, str]:
    """The environment of a console-script run: no REBALANCER_/provider variables, and bytecode caching on
    (a machine that sets PYTHONDONTWRITEBYTECODE would otherwise recompile every module in every run)."""
    drop = ("REBALANCER_", "OPENAI_", "ANTHROPIC_", "PYTHONDONTWRITEBYTECODE")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 120, cwd: str | Path | None = None):
    full_env = clean_env()
    full_env.update(env or {})
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout, env=full_env, cwd=cwd, check=False
    )


def run_json(*args: str, **kw: Any) -> tuple[int, Any]:
    p = run(*args, "--json", **kw)
    return p.returncode, json.loads(p.stdout) if p.stdout.strip() else None


def made_db(path: str | Path) -> Path:
    """A history database created on purpose at ``path``, as ``rebalancer db init`` does: a configured
    path that does not exist is refused (a mistyped path must not start a fresh database)."""
    from agent.adapters.store.db import Store

    Store(path, init=True).close()
    return Path(path)
