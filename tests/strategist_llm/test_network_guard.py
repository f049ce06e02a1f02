"""The autouse guard really blocks non-mocked, non-loopback HTTP (so no test can reach a real provider)."""

from __future__ import annotations

import httpx
import pytest
import respx


def test_unmocked_request_fails_the_test():
    with pytest.raises(respx.models.AllMockedAssertionError):
        httpx.get("https://api.openai.com/v1/models")
