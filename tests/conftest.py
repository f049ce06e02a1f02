"""Rules for every test: no network beyond loopback, and never the working folder's ``rebalancer.toml``.

- ``_loopback_only``: any socket connection (or name lookup) to a non-loopback address fails the test.
  It sits under every client: httpx (the LLM SDKs), requests (the Hyperliquid SDK), raw sockets.
- ``_isolated_folder``: each test runs in its own empty folder with no ``REBALANCER_*`` variables, so a
  ``rebalancer.toml`` or ``rebalancer.db`` where pytest was started (the README's heartbeat walk-through
  copies one there) changes nothing.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from guards import NetworkBlocked, _address_allowed, _is_loopback


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> Any:
        if not _address_allowed(self.family, address):
            raise NetworkBlocked(f"network access in a test: connect to {address!r}")
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        if not _address_allowed(self.family, address):
            raise NetworkBlocked(f"network access in a test: connect to {address!r}")
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name is not None and not _is_loopback(name):
            raise NetworkBlocked(f"network access in a test: name lookup of {name!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture(autouse=True)
def _isolated_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
    for name in list(os.environ):
        if name.startswith("REBALANCER_"):
            monkeypatch.delenv(name)
