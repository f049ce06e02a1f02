"""The test-suite's own rules hold: no network beyond loopback (any client), never the working folder."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import httpx
import pytest
import requests
from guards import REPO, NetworkBlocked


@pytest.mark.parametrize(
    "reach",
    [
        pytest.param(lambda: requests.get("https://api.hyperliquid.xyz/info", timeout=2), id="requests-sdk-path"),
        pytest.param(lambda: httpx.get("https://api.openai.com/v1/models", timeout=2), id="httpx-llm-path"),
        pytest.param(lambda: socket.create_connection(("1.1.1.1", 443), timeout=2), id="raw-socket"),
        pytest.param(lambda: socket.getaddrinfo("example.com", 443), id="dns"),
    ],
)
def test_every_non_loopback_connection_fails_the_test(reach):
    with pytest.raises((NetworkBlocked, requests.exceptions.ConnectionError, httpx.ConnectError)) as info:
        reach()
    assert "network access in a test" in str(info.value)


def test_loopback_still_works():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    accepted = threading.Thread(target=lambda: server.accept()[0].close(), daemon=True)
    accepted.start()
    socket.create_connection(server.getsockname(), timeout=2).close()
    accepted.join(timeout=5)
    server.close()


def test_tests_never_run_in_the_folder_pytest_was_started_from():
    assert Path.cwd().resolve() != REPO and not (Path.cwd() / "rebalancer.toml").exists()
