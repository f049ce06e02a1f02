"""Run the ``rebalancer`` command line as a user would: in this process through Typer's runner (``invoke``,
the fast way for behaviour tests), or as the installed console script (``run``, for smoke tests, crashes,
concurrency and the commands that end their process with ``os._exit``).

Both take the same arguments and return a ``subprocess.CompletedProcess`` (``returncode``, ``stdout``,
``stderr``), so a test can switch between them.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCRIPT = Path(sys.executable).with_name("rebalancer")
#: commands that leave their process with ``os._exit`` (the Temporal SDK's threads): console script only
_EXITS_PROCESS = {("fleet", "worker"), ("fleet", "deploy"), ("fleet", "approve")}


def clean_env() -> dict[str, str]:
    """The environment of a console-script run: no REBALANCER_/provider variables, and bytecode caching on
    (a machine that sets PYTHONDONTWRITEBYTECODE would otherwise recompile every module in every run)."""
    return {k: v for k, v in clean_env_from(dict(os.environ)).items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 120, cwd: str | Path | None = None):
    """The console script in a new process."""
    full_env = clean_env()
    full_env.update(env or {})
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout, env=full_env, cwd=cwd, check=False
    )


def run_json(*args: str, **kw: Any) -> tuple[int, Any]:
    p = run(*args, "--json", **kw)
    return p.returncode, json.loads(p.stdout) if p.stdout.strip() else None


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """The console script's log handler (warnings on stderr), writing to whatever ``sys.stderr`` is now."""

    def __init__(self) -> None:
        super().__init__()
        self.setLevel(logging.WARNING)

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


@contextmanager
def _like_a_new_process(env: dict[str, str] | None, cwd: str | Path | None) -> Iterator[None]:
    """What a fresh process would have: the console script's environment, folder and log handler; and what a
    command changes in its process (signal handlers, ``-v``) put back afterwards."""
    from agent.interfaces.cli import base

    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    saved_signals = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    quiet = logging.getLogger("rebalancer")
    saved_level = quiet.level
    handler = _CurrentStderr()
    root = logging.getLogger()
    os.environ.clear()
    os.environ.update({"COLUMNS": "80", **clean_env_from(saved_env), **(env or {})})
    root.addHandler(handler)
    try:
        if cwd is not None:
            os.chdir(cwd)
        yield
    finally:
        root.removeHandler(handler)
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        for s, h in saved_signals.items():
            signal.signal(s, h)
        quiet.setLevel(saved_level)
        base.VERBOSE["on"] = False


def clean_env_from(environ: dict[str, str]) -> dict[str, str]:
    drop = ("REBALANCER_", "OPENAI_", "ANTHROPIC_")
    return {k: v for k, v in environ.items() if not k.startswith(drop)}


def invoke(*args: str, env: dict[str, str] | None = None, timeout: float = 120, cwd: str | Path | None = None):
    """The command line in this process (Typer's ``CliRunner``): the same exit codes and output as ``run``.
    ``timeout`` is accepted for symmetry with ``run`` and not enforced."""
    if tuple(args[:2]) in _EXITS_PROCESS:
        raise ValueError(f"`rebalancer {' '.join(args[:2])}` ends its process: use run(), not invoke()")
    from typer.testing import CliRunner

    from agent.interfaces.cli import app

    with _like_a_new_process(env, cwd):
        result = CliRunner().invoke(app, list(args), prog_name="rebalancer")
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        # what the console script would print for an exception nothing caught
        stderr += "".join(traceback.format_exception(result.exception))
    return subprocess.CompletedProcess(["rebalancer", *args], result.exit_code, result.stdout, stderr)


def invoke_json(*args: str, **kw: Any) -> tuple[int, Any]:
    p = invoke(*args, "--json", **kw)
    return p.returncode, json.loads(p.stdout) if p.stdout.strip() else None


def made_db(path: str | Path) -> Path:
    """A history database created on purpose at ``path``, as ``rebalancer db init`` does: a configured
    path that does not exist is refused (a mistyped path must not start a fresh database)."""
    from agent.adapters.store.db import Store

    Store(path, init=True).close()
    return Path(path)
