"""The stand-in's market clock: funding charged every hour and, with ``--replay``, prices that move.

Both run on the same accelerated clock as TWAP suborders (``time_scale`` × the wall clock, from when the
stand-in started), lazily at the next request.

**Funding** (on for ``rebalancer exchange serve``, ``serve(..., funding=True)`` elsewhere; docs, "Funding":
paid every hour; payment = position size × oracle price × funding rate,
longs pay shorts when the rate is positive): each hour, every perp position pays or receives
``-szi × mark × rate`` (the mark stands in for the oracle price) at its coin's hourly rate from the
snapshot's asset contexts (``metaAndAssetCtxs`` ``funding``, per dex). The ledger of the position's dex
moves by it, its ``cumFunding`` by the amount paid, and the charge is appended to ``Account.funding_events``
as one element of Hyperliquid's ``userFunding`` answer (recorded shape, ../shared/hl-recorded/
test_user_funding_history_*.yaml): ``{"time", "hash", "delta": {"type": "funding", "coin", "usdc", "szi",
"fundingRate", "nSamples"}}`` (``nSamples`` is null here: current hourly answers were not recorded).

**Replay** (``--replay``): each coin with candles in the snapshot (``candles[coin]["1h"]`` or ``["1d"]``,
real Hyperliquid ``candleSnapshot`` answers) moves as the candles' closes moved: at step k (one candle
interval of the market clock) its mid, mark and book are the snapshot's × close[k] / close[0]; spot pairs
whose base token is the coin's Unit token (``U`` + coin: UBTC, UETH, USOL) move with it. After the last
candle prices stay put.
"""

from __future__ import annotations

import copy
import hashlib
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from agent.standin.rules import ZERO, dec, fmt, round_price
from agent.standin.state import dex_of

if TYPE_CHECKING:
    from agent.standin.engine import StandIn

HOUR_MS = 3_600_000
INTERVALS = {"1h": HOUR_MS, "1d": 24 * HOUR_MS}


def elapsed_ms(ex: StandIn) -> float:
    """Market-clock time since the stand-in started."""
    return (ex.now_ms() - ex.started_ms) * ex.time_scale


def tick(ex: StandIn) -> None:
    hours = int(elapsed_ms(ex) // HOUR_MS)
    while ex.funding_hours < hours:
        ex.funding_hours += 1
        if ex.charges_funding:
            charge_funding(ex)
    if ex.replay is not None:
        ex.replay.step(ex)


def charge_funding(ex: StandIn) -> None:
    now = ex.now_ms()
    for pos in list(ex.account.positions.values()):
        rate = ex.funding_rates.get(pos.coin)
        if not rate:
            continue
        usdc = -pos.szi * ex.mark(pos.coin) * rate
        dex = dex_of(pos.coin)
        if dex:
            ex.account.dex_raw_usd[dex] = ex.account.dex_raw_usd.get(dex, ZERO) + usdc
        else:
            ex.account.raw_usd += usdc
        pos.cum_funding_all_time -= usdc
        pos.cum_funding_since_open -= usdc
        pos.cum_funding_since_change -= usdc
        digest = hashlib.sha256(f"funding|{pos.coin}|{now}|{ex.funding_hours}".encode()).hexdigest()
        ex.account.funding_events.append(
            {
                "time": now,
                "hash": "0x" + digest,
                "delta": {
                    "type": "funding",
                    "coin": pos.coin,
                    "usdc": fmt(usdc, 6),
                    "szi": fmt(pos.szi),
                    "fundingRate": fmt(rate, 10),
                    "nSamples": None,
                },
            }
        )


def funding_rates(snapshot: Any, dexes: Any) -> dict[str, Decimal]:
    """Hourly funding rate per perp coin from the snapshot's asset contexts (main dex and HIP-3 dexes)."""
    rates: dict[str, Decimal] = {}
    mac = snapshot.get("metaAndAssetCtxs")
    pairs = [(snapshot["meta"]["universe"], mac[1] if mac else [])]
    pairs += [(d.meta["universe"], d.ctxs or []) for d in dexes.values()]
    for universe, ctxs in pairs:
        for item, ctx in zip(universe, ctxs, strict=False):
            if ctx and ctx.get("funding") is not None:
                rates[str(item["name"])] = dec(ctx["funding"])
    return rates


class Replay:
    """Prices following real candles (see the module doc)."""

    def __init__(self, ex: StandIn) -> None:
        self.series: dict[str, tuple[int, list[Decimal]]] = {}
        for coin, by_interval in (ex.snapshot.get("candles") or {}).items():
            interval = next((i for i in ("1h", "1d") if by_interval.get(i)), None)
            if interval is None:
                continue
            closes = [dec(c["c"]) for c in by_interval[interval]]
            if len(closes) >= 2 and closes[0] > ZERO:
                self.series[coin] = (INTERVALS[interval], closes)
        self.follow: dict[str, list[str]] = {coin: [coin] for coin in self.series}
        for market in ex.markets_by_asset.values():
            if market.spot and market.base_token is not None:
                base = ex.tokens[market.base_token].name
                for coin in self.series:
                    if base in (coin, "U" + coin):
                        self.follow[coin].append(market.coin)
        self.mids0 = dict(ex.mids)
        self.marks0 = dict(ex.marks)
        self.step_done: dict[str, int] = {}

    def step(self, ex: StandIn) -> None:
        now = elapsed_ms(ex)
        for coin, (interval, closes) in self.series.items():
            k = min(int(now // interval), len(closes) - 1)
            if self.step_done.get(coin) == k:
                continue
            self.step_done[coin] = k
            ratio = closes[k] / closes[0]
            for c in self.follow[coin]:
                market = ex.markets_by_coin.get(c)
                if market is None:
                    continue
                if c in self.mids0:
                    ex.mids[c] = self.mids0[c] * ratio
                if c in self.marks0:
                    ex.marks[c] = self.marks0[c] * ratio
                seed = ex.book_seed.get(c)
                if seed is not None:
                    book = copy.deepcopy(seed)
                    for levels, up in ((book.bids, False), (book.asks, True)):
                        for lv in levels:
                            lv.px = round_price(lv.px * ratio, market.sz_decimals, spot=market.spot, up=up)
                    ex.books[c] = book
