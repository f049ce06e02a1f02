"""A real PostgreSQL server for tests and benchmarks: ``initdb`` + ``pg_ctl`` in a temporary folder, on loopback.

Debian's ``postgresql`` package (its binaries under ``/usr/lib/postgresql/<major>/bin``) provides the server;
as root it runs as the ``postgres`` user (the server refuses root). Unavailable → :func:`find_bin` is None and
the tests that need it are skipped with the reason.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator


def find_bin() -> str | None:
    """The folder holding ``initdb`` and ``pg_ctl`` (newest major), or None."""
    if shutil.which("initdb") and shutil.which("pg_ctl"):
        return os.path.dirname(os.path.realpath(shutil.which("pg_ctl") or ""))
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return os.path.dirname(found[-1]) if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Start a throwaway server; yields its URL (``postgresql://postgres@127.0.0.1:PORT/postgres``)."""
    bindir = find_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    root = os.geteuid() == 0
    folder = tempfile.mkdtemp(prefix="rebalancer-pg-")
    data = os.path.join(folder, "data")
    as_user = ["runuser", "-u", "postgres", "--"] if root else []
    if root:
        shutil.chown(folder, "postgres")
        os.chmod(folder, 0o755)
    port = _free_port()
    env = {**os.environ, "LC_ALL": "C"}
    subprocess.run(
        [*as_user, f"{bindir}/initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
        check=True,
        capture_output=True,
        env=env,
    )
    opts = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    subprocess.run(
        [*as_user, f"{bindir}/pg_ctl", "-D", data, "-o", opts, "-l", os.path.join(folder, "log"), "-w", "start"],
        check=True,
        capture_output=True,
        env=env,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True, env=env
        )
        shutil.rmtree(folder, ignore_errors=True)


def fresh_schema(url: str) -> str:
    """``url`` with a schema no other test uses (each test its own store on the one server)."""
    return f"{url}?schema=t{uuid.uuid4().hex[:10]}"
