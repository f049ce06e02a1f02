"""Run the installed ``rebalancer`` console script as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

SCRIPT = Path(sys.executable).with_name("rebalancer")


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 120, cwd: str | Path | None = None):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("REBALANCER_", "OPENAI_", "ANTHROPIC_"))}
    full_env.update(env or {})
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout, env=full_env, cwd=cwd, check=False
    )


def run_json(*args: str, **kw: Any) -> tuple[int, Any]:
    p = run(*args, "--json", **kw)
    return p.returncode, json.loads(p.stdout) if p.stdout.strip() else None
