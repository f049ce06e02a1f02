"""The network guard's rules (used by the autouse fixtures in ``conftest.py``)."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


class NetworkBlocked(AssertionError):
    """A test tried to reach beyond 127.0.0.1."""


def _is_loopback(host: Any) -> bool:
    if not isinstance(host, str):
        return False
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _address_allowed(family: int, address: Any) -> bool:
    if family == getattr(socket, "AF_UNIX", None):
        return True
    host = address[0] if isinstance(address, tuple) and address else address
    return _is_loopback(host)
