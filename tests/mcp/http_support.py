"""``rebalancer mcp --http`` as a user starts it: a console-script subprocess on a free loopback port, its
first-start bearer token read from its stderr, and the official ``mcp`` client with that token."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from clirun import clean_env, made_db
from mcp import Client
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client

REBALANCER = Path(sys.executable).parent / "rebalancer"
TOKEN_LINE = re.compile(r"MCP bearer token \(shown once; only its hash is stored\): (\S+)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class HttpServer:
    url: str
    port: int
    token: str | None
    proc: subprocess.Popen
    stderr: Path

    def client(self, token: str | None = None, **kw) -> Client:
        """The official client, sending ``Authorization: Bearer <token>`` (default: the first-start token)."""
        headers = {"Authorization": f"Bearer {token or self.token}"}
        http = create_mcp_http_client(headers=headers)
        return Client(streamable_http_client(self.url, http_client=http), **kw)


def _wait(port: int, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the server did not start listening")


@contextmanager
def serve_http(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[HttpServer]:
    """Start the server (its database created on purpose first) and stop it on exit."""
    port = free_port()
    full_env = clean_env() | {"REBALANCER_DB": str(tmp_path / "h.db"), "REBALANCER_NETWORK": "local"}
    full_env |= env or {}
    made_db(full_env["REBALANCER_DB"])  # as `rebalancer db init` does (that command has its own tests)
    err_path = tmp_path / "err.log"
    with (tmp_path / "out.log").open("w") as out, err_path.open("w") as err:
        proc = subprocess.Popen(
            [str(REBALANCER), "mcp", "--http", "--port", str(port), *args],
            env=full_env,
            cwd=tmp_path,
            stdout=out,
            stderr=err,
        )
        try:
            _wait(port, proc)
            found = TOKEN_LINE.search(err_path.read_text())
            yield HttpServer(f"http://127.0.0.1:{port}/mcp", port, found.group(1) if found else None, proc, err_path)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
