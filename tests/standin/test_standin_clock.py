"""The stand-in's market clock through the real SDK: funding charged every hour, prices replayed from
real candles, both on a clock the test moves (no sleeps)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hyperliquid.info import Info

from agent.standin import DEMO_ACCOUNT_ADDRESS, load_demo_snapshot, serve
from agent.standin.engine import StandIn

HOUR = 3600.0


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def standin(**kw) -> tuple[StandIn, Clock]:
    snap = load_demo_snapshot()
    clock = Clock(snap["time"] / 1000)
    return StandIn.from_snapshot(snap, clock=clock, **kw), clock


def info_for(url: str, snap: dict) -> Info:
    return Info(url, skip_ws=True, meta=snap["meta"], spot_meta=snap["spotMeta"])


def test_funding_is_charged_every_hour_as_userfunding_elements():
    ex, clock = standin()
    with serve(ex, funding=True) as srv:
        info = info_for(srv.url, load_demo_snapshot())
        before = info.user_state(DEMO_ACCOUNT_ADDRESS)["assetPositions"][0]["position"]
        clock.t += 3 * HOUR + 1
        after = info.user_state(DEMO_ACCOUNT_ADDRESS)["assetPositions"][0]["position"]
    events = ex.account.funding_events
    assert len(events) == 3 and [e["delta"]["coin"] for e in events] == ["AVAX"] * 3
    rate = Decimal(ex.funding_rates["AVAX"])
    first = events[0]
    assert set(first) == {"time", "hash", "delta"} and first["delta"]["type"] == "funding"
    expected = -Decimal("55.66") * ex.mark("AVAX") * rate
    assert Decimal(first["delta"]["usdc"]) == pytest.approx(expected, abs=Decimal("1e-6"))
    paid = -sum(Decimal(e["delta"]["usdc"]) for e in events)
    assert Decimal(after["cumFunding"]["allTime"]) - Decimal(before["cumFunding"]["allTime"]) == pytest.approx(
        paid, abs=Decimal("1e-5")
    )


def test_replay_moves_prices_as_the_real_candles_moved():
    ex, clock = standin()
    snap = load_demo_snapshot()
    closes = [Decimal(c["c"]) for c in snap["candles"]["SOL"]["1d"]]
    with serve(ex, time_scale=24.0, replay=True) as srv:  # one daily candle per wall-clock hour
        info = info_for(srv.url, snap)
        mids0 = info.all_mids()
        clock.t += 2 * HOUR  # two days on the market clock
        mids2 = info.all_mids()
        book = info.l2_snapshot("SOL")
    ratio = closes[2] / closes[0]
    assert Decimal(mids2["SOL"]) == pytest.approx(Decimal(mids0["SOL"]) * ratio, rel=Decimal("1e-6"))
    assert Decimal(mids2["@156"]) == pytest.approx(Decimal(mids0["@156"]) * ratio, rel=Decimal("1e-6"))  # USOL follows
    assert mids2["BTC"] == mids0["BTC"]  # no candles: it stays
    best_bid, best_ask = Decimal(book["levels"][0][0]["px"]), Decimal(book["levels"][1][0]["px"])
    assert best_bid < Decimal(mids2["SOL"]) < best_ask
