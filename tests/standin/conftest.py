"""Fixtures for the Hyperliquid stand-in tests: a small synthetic market, a fresh server per test,
and real ``hyperliquid-python-sdk`` clients pointed at it over loopback."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import eth_account
import pytest
from doubles import SecondsClock
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info

from agent.standin import Faults, StandIn, StandInServer, serve

# Test-only keys derived from fixed phrases; they hold nothing anywhere.
USER: LocalAccount = eth_account.Account.from_key(keccak(b"standin tests: user"))
AGENT: LocalAccount = eth_account.Account.from_key(keccak(b"standin tests: approved agent"))
STRANGER: LocalAccount = eth_account.Account.from_key(keccak(b"standin tests: stranger"))

T0 = 1_771_027_200.0  # 2026-02-14 00:00 UTC, seconds


def _levels(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"px": px, "sz": sz, "n": 1} for px, sz in pairs]


SNAPSHOT: dict[str, Any] = {
    "user": USER.address,
    "meta": {
        "universe": [
            {"name": "BTC", "szDecimals": 5, "maxLeverage": 40},
            {"name": "ETH", "szDecimals": 4, "maxLeverage": 25},
            {"name": "SOL", "szDecimals": 2, "maxLeverage": 20},
        ]
    },
    "spotMeta": {
        "tokens": [
            {"name": "USDC", "szDecimals": 8, "weiDecimals": 8, "index": 0},
            {"name": "UBTC", "szDecimals": 5, "weiDecimals": 10, "index": 197},
        ],
        "universe": [{"tokens": [197, 0], "name": "@142", "index": 142, "isCanonical": False}],
    },
    "clearinghouseState": {
        "marginSummary": {
            "accountValue": "10000.0",
            "totalNtlPos": "0.0",
            "totalRawUsd": "10000.0",
            "totalMarginUsed": "0.0",
        },
        "assetPositions": [],
    },
    "spotClearinghouseState": {
        "balances": [
            {"coin": "USDC", "token": 0, "total": "1000.0", "hold": "0.0", "entryNtl": "0.0"},
            {"coin": "UBTC", "token": 197, "total": "0.1", "hold": "0.0", "entryNtl": "9000.0"},
        ]
    },
    "allMids": {"BTC": "100000.0", "ETH": "2000.0", "SOL": "100.0", "@142": "100000.0"},
    "l2Books": {
        "BTC": {
            "coin": "BTC",
            "time": 0,
            "levels": [
                _levels(("99999.0", "1.0"), ("99990.0", "2.0")),
                _levels(("100001.0", "0.5"), ("100010.0", "1.0")),
            ],
        },
        "ETH": {"coin": "ETH", "time": 0, "levels": [_levels(("1999.9", "10.0")), _levels(("2000.1", "10.0"))]},
        "SOL": {
            "coin": "SOL",
            "time": 0,
            "levels": [_levels(("99.99", "100.0")), _levels(("100.01", "50.0"), ("100.05", "50.0"))],
        },
        "@142": {"coin": "@142", "time": 0, "levels": [_levels(("99990.0", "0.05")), _levels(("100010.0", "0.05"))]},
    },
    "candles": {
        "SOL": {
            "1d": [
                {
                    "t": 1770940800000,
                    "T": 1771027199999,
                    "s": "SOL",
                    "i": "1d",
                    "o": "78.363",
                    "c": "79.874",
                    "h": "80.579",
                    "l": "77.5",
                    "v": "1145910.41",
                    "n": 54782,
                },
            ]
        }
    },
    "fundingHistory": {
        "SOL": [
            {"coin": "SOL", "fundingRate": "-0.0000148456", "premium": "-0.0006187649", "time": 1770976800004},
        ]
    },
}


@pytest.fixture
def snapshot() -> dict[str, Any]:
    return copy.deepcopy(SNAPSHOT)


@pytest.fixture
def clock() -> SecondsClock:
    import time

    return SecondsClock(time.time())


@pytest.fixture
def server(snapshot: dict[str, Any], clock: SecondsClock) -> Iterator[StandInServer]:
    standin = StandIn.from_snapshot(snapshot, approved_agents=[AGENT.address], clock=clock)
    with serve(standin, faults=Faults()) as srv:
        yield srv


@pytest.fixture
def user() -> LocalAccount:
    return USER


@pytest.fixture
def agent() -> LocalAccount:
    return AGENT


@pytest.fixture
def stranger() -> LocalAccount:
    return STRANGER


@pytest.fixture
def new_info(server: StandInServer, snapshot: dict[str, Any]) -> Callable[..., Info]:
    """Factory: a real SDK ``Info`` on the stand-in (no network at construction: meta passed in)."""

    def make(timeout: float | None = None) -> Info:
        return Info(server.url, skip_ws=True, meta=snapshot["meta"], spot_meta=snapshot["spotMeta"], timeout=timeout)

    return make


@pytest.fixture
def new_exchange(server: StandInServer, snapshot: dict[str, Any]) -> Callable[..., Exchange]:
    """Factory: a real SDK ``Exchange`` trading for the snapshot user, signed by ``wallet``."""

    def make(wallet: LocalAccount = USER, timeout: float | None = None) -> Exchange:
        return Exchange(
            wallet,
            server.url,
            meta=snapshot["meta"],
            spot_meta=snapshot["spotMeta"],
            account_address=USER.address,
            timeout=timeout,
        )

    return make


@pytest.fixture
def info(new_info: Callable[..., Info]) -> Info:
    return new_info()


@pytest.fixture
def exchange(new_exchange: Callable[..., Exchange]) -> Exchange:
    return new_exchange()


@pytest.fixture
def statuses() -> Callable[[dict[str, Any]], list[dict[str, Any]]]:
    """Per-order statuses of an ``ok`` /exchange answer (fails the test on a whole-request error)."""

    def read(response: dict[str, Any]) -> list[dict[str, Any]]:
        assert response["status"] == "ok", response
        return response["response"]["data"]["statuses"]

    return read
