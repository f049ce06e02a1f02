"""Daily candles of closed days are kept in the store per venue, coin and day, and shared: the exchange is asked
for a coin's day once, whichever account, tick or page asks; today's candle (not final) is never used or kept.
``status`` shows the doctor's wiring checks as ``doctor`` found them for a day, and its other checks for a
heartbeat interval."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from agent.services.config import Settings
from agent.services.evidence import doctor
from agent.services.market_history import daily_history
from agent.services.runtime import open_runtime
from agent.standin import load_demo_snapshot, serve
from agent.standin.demo import DEMO_ACCOUNT_ADDRESS, DEMO_AGENT_ADDRESS
from agent.standin.server import StandInServer

FIRST = date(2026, 1, 1)
TODAY = date(2026, 3, 10)
DAY_MS = 86_400_000


def candles(coin: str, base: float) -> list[dict[str, Any]]:
    out = []
    for k in range((TODAY - FIRST).days + 1):
        t = int(datetime.combine(FIRST + timedelta(days=k), datetime.min.time(), UTC).timestamp() * 1000)
        close = 999_999.0 if FIRST + timedelta(days=k) == TODAY else base * (1 + 0.01 * (k % 7))
        out.append(
            {
                "t": t,
                "T": t + DAY_MS - 1,
                "s": coin,
                "i": "1d",
                "o": str(close),
                "c": str(close),
                "h": str(close),
                "l": str(close),
                "v": "10",
                "n": 5,
            }
        )
    return out


class Clock:
    def __init__(self) -> None:
        self.now = datetime.combine(TODAY, datetime.min.time(), UTC) + timedelta(hours=15)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def standin() -> Iterator[StandInServer]:
    snapshot = json.loads(json.dumps(load_demo_snapshot()))
    snapshot["candles"] = {"BTC": {"1d": candles("BTC", 60_000.0)}, "ETH": {"1d": candles("ETH", 3_000.0)}}
    with serve(snapshot) as server:
        yield server


def candle_requests(server: StandInServer, start: int) -> list[dict[str, Any]]:
    return [json.loads(r.key)["req"] for r in server.requests.since(start) if r.kind == "candleSnapshot"]


def test_closed_days_are_asked_once_and_shared_by_every_account(tmp_path, standin):
    clock = Clock()
    db = str(tmp_path / "h.db")
    coins = ["UBTC/USDC", "UETH/USDC"]
    with open_runtime(Settings(network=standin.url, db=db), clock=clock) as svc:
        market = svc.exchange.market()
        start = len(standin.requests)
        hist = daily_history(svc.context, coins, 30, market)
        assert hist.source.startswith("the exchange's daily candles") and hist.table.coins == tuple(coins)
        # today's candle is not final: not used (and the mids were not read on this clock's day: no mids row)
        assert hist.table.dates[-1] == TODAY - timedelta(days=1)
        assert len(hist.table.dates) == 31 and hist.table.close.max() < 999_999
        asked = candle_requests(standin, start)
        assert sorted(r["coin"] for r in asked) == ["BTC", "ETH"]
        start = len(standin.requests)
        again = daily_history(svc.context, coins, 30, market)
        assert candle_requests(standin, start) == [] and (again.table.close == hist.table.close).all()
        assert daily_history(svc.context, coins, 10, market).table.dates[-1] == TODAY - timedelta(
            days=1
        )  # inside the span
        assert candle_requests(standin, start) == []
    other = "0x" + "12" * 20  # another account, the same store: the same candles
    with open_runtime(Settings(network=standin.url, db=db, account_address=other), clock=clock) as svc:
        start = len(standin.requests)
        assert daily_history(svc.context, coins, 30, svc.exchange.market()).table.dates == hist.table.dates
        assert candle_requests(standin, start) == []
        clock.now += timedelta(days=1)  # a day closes: only it is asked for
        start = len(standin.requests)
        later = daily_history(svc.context, coins, 30, svc.exchange.market())
        asked = candle_requests(standin, start)
        assert later.table.dates[-1] == TODAY and len(asked) == 2
        day_start = int(datetime.combine(TODAY, datetime.min.time(), UTC).timestamp() * 1000)
        assert all(r["startTime"] == day_start for r in asked)
        assert later.table.close[-1, 0] == 999_999.0  # yesterday's close, final now


def test_status_keeps_the_doctor_for_an_interval_and_the_wiring_for_a_day(tmp_path, standin):
    """``status`` never reads the wiring (``userRole`` weighs 60): it shows what ``doctor`` found for a day; the
    other checks it asks again once per heartbeat interval."""
    clock = Clock()

    def kinds(start: int) -> list[str | None]:
        return [r.kind for r in standin.requests.since(start)]

    with open_runtime(Settings(network=standin.url, db=str(tmp_path / "h.db")), clock=clock) as svc:
        start = len(standin.requests)
        never = svc.doctor_kept()  # the doctor never ran on this store
        assert "userRole" not in kinds(start) and "userRateLimit" in kinds(start)
        assert never.unchecked == ["account", "signer", "dexes"]
        assert [c.check for c in never.checks] == ["mode", "open_orders", "dead_man_switch", "rate_budget"]
        start = len(standin.requests)
        full = svc.doctor()  # `rebalancer doctor` always asks, the wiring included
        assert "userRole" in kinds(start)
        start = len(standin.requests)
        kept = svc.doctor_kept()
        assert kept.checks == full and kept.unchecked == [] and kinds(start) == []  # answered from the store
        clock.now += svc.settings.heartbeat.interval  # older than an interval: asked again, but not the wiring
        start = len(standin.requests)
        again = svc.doctor_kept()
        assert "userRateLimit" in kinds(start) and "userRole" not in kinds(start)
        assert [c.check for c in again.checks] == [c.check for c in full] and again.unchecked == []
        clock.now += doctor.WIRING_FRESH  # a day on: the wiring is no longer vouched for
        assert svc.doctor_kept().unchecked == ["account", "signer", "dexes"]


def test_a_failing_wiring_stays_shown_until_the_doctor_clears_it_and_another_wiring_is_unchecked(tmp_path, standin):
    clock = Clock()
    agent = Settings(network=standin.url, db=str(tmp_path / "h.db"), account_address=DEMO_AGENT_ADDRESS)
    with open_runtime(agent, clock=clock) as svc:
        assert "account" in [c.check for c in svc.doctor() if not c.ok]
        clock.now += 2 * doctor.WIRING_FRESH  # old, yet a known problem: still shown
        kept = svc.doctor_kept()
        assert "account" in kept.failing and kept.unchecked == ["account", "signer", "dexes"]
    fixed = Settings(network=standin.url, db=str(tmp_path / "h.db"), account_address=DEMO_ACCOUNT_ADDRESS)
    with open_runtime(fixed, clock=clock) as svc:  # another address: the old verdict was about another wiring
        kept = svc.doctor_kept()
        assert "account" not in kept.failing and kept.unchecked == ["account", "signer", "dexes"]
        svc.doctor()
        assert svc.doctor_kept().failing == [] and svc.doctor_kept().unchecked == []
