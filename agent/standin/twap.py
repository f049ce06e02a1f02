"""Native TWAP orders on the stand-in: ``twapOrder`` / ``twapCancel``, one suborder every 30 seconds.

Hyperliquid docs ("Order types", TWAP): the order is divided into suborders sent every 30 seconds over
the duration (5 minutes to 24 hours); each suborder may trade up to 3 % away from the mark; what a
suborder misses is caught up by the next ones. Here a suborder is an IOC at mark × (1 ± 3 %) for the
remaining size divided by the suborders left (so misses are caught up), placed through the same order
path as any order, and its fills are also listed in ``userTwapSliceFills`` as ``{"fill", "twapId"}``.
Liquidity comes back between suborders: each one finds its coin's book as the snapshot had it (a
modelling choice of the stand-in, whose books otherwise only deplete).

The slices follow the stand-in's TWAP clock, ``time_scale`` times faster than the wall clock
(``--time-scale N``), so a 30-minute TWAP runs in 3 seconds at N = 600. Slices are executed lazily,
when the next request arrives (as the dead-man switch is); each is stamped with the time it ran.

Answer shapes: ``{"status": {"running": {"twapId": n}}}`` for a placed TWAP and ``{"status":
{"error": text}}`` for a refused one (docs, exchange endpoint "Place a TWAP order"); ``twapCancel``
answers ``{"status": "success"}`` or ``{"status": {"error": "TWAP was never placed, already canceled,
or filled."}}``. ``twapHistory`` holds one entry per TWAP, updated in place: ``{"time" (s), "state":
{coin, user, side, sz, executedSz, executedNtl, minutes, reduceOnly, randomize, timestamp}, "status":
{"status": "activated" | "finished" | "terminated"}, "twapId"}`` (shape assumed from the docs' TWAP
stream and SDK types; see agent/standin/README.md).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from agent.standin import orders
from agent.standin.rules import ZERO, dec, fmt, round_price, round_size

if TYPE_CHECKING:
    from agent.standin.engine import StandIn

SLICE_MS = 30_000
MIN_MINUTES, MAX_MINUTES = 5, 24 * 60
SLICE_SLIPPAGE = Decimal("0.03")
MIN_SLICE_NOTIONAL = Decimal(10)


@dataclass
class TwapRun:
    twap_id: int
    asset: int
    coin: str
    is_buy: bool
    sz: Decimal
    reduce_only: bool
    minutes: int
    randomize: bool
    started_ms: int  # wall clock
    executed_sz: Decimal = ZERO
    executed_ntl: Decimal = ZERO
    slices_done: int = 0
    status: str = "activated"

    @property
    def n_slices(self) -> int:
        return self.minutes * 60_000 // SLICE_MS


def place(ex: StandIn, wire: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a ``twapOrder``'s ``twap`` object; start it; return its status entry."""
    market = ex.markets_by_asset.get(int(wire["a"]))
    if market is None or market.delisted:
        return {"error": f"Invalid asset: {wire['a']}"}
    sz, minutes = dec(wire["s"]), int(wire["m"])
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        return {"error": f"Invalid TWAP duration: {minutes} min(s)"}
    if sz <= ZERO or round_size(sz, market.sz_decimals) != sz:
        return {"error": "Order has invalid size."}
    slice_value = sz * ex.mark(market.coin) * SLICE_MS / (minutes * 60_000)
    if slice_value < MIN_SLICE_NOTIONAL:
        return {"error": "Stand-in: TWAP suborders would be under the $10 minimum order value."}
    run = TwapRun(
        twap_id=ex.new_twap_id(),
        asset=market.asset,
        coin=market.coin,
        is_buy=bool(wire["b"]),
        sz=sz,
        reduce_only=bool(wire.get("r", False)),
        minutes=minutes,
        randomize=bool(wire.get("t", False)),
        started_ms=ex.now_ms(),
    )
    ex.twaps[run.twap_id] = run
    _history(ex, run)
    return {"running": {"twapId": run.twap_id}}


def cancel(ex: StandIn, asset: int, twap_id: int) -> Any:
    run = ex.twaps.get(twap_id)
    if run is None or run.status != "activated" or run.asset != asset:
        return {"error": "TWAP was never placed, already canceled, or filled."}
    run.status = "terminated"
    _history(ex, run)
    return "success"


def tick(ex: StandIn) -> None:
    """Run every suborder whose time has come on the TWAP clock."""
    now = ex.now_ms()
    for run in list(ex.twaps.values()):
        while run.status == "activated":
            elapsed = (now - run.started_ms) * ex.time_scale
            if run.slices_done >= run.n_slices or elapsed < run.slices_done * SLICE_MS:
                break
            _slice(ex, run)
            run.slices_done += 1
            if run.slices_done >= run.n_slices or run.executed_sz >= run.sz:
                run.status = "finished"
            _history(ex, run)


def _slice(ex: StandIn, run: TwapRun) -> None:
    market = ex.markets_by_coin[run.coin]
    left = run.sz - run.executed_sz
    slices_left = max(1, run.n_slices - run.slices_done)
    sz = left if slices_left == 1 else round_size(left / slices_left, market.sz_decimals)
    if sz <= ZERO:
        return
    seed = ex.book_seed.get(run.coin)
    if seed is not None:  # liquidity comes back between suborders: the book is the snapshot's again
        ex.books[run.coin] = copy.deepcopy(seed)
    mark = ex.mark(run.coin)
    px = round_price(mark * (1 + SLICE_SLIPPAGE if run.is_buy else 1 - SLICE_SLIPPAGE), market.sz_decimals,
                     spot=market.spot, up=not run.is_buy)  # fmt: skip
    before = len(ex.account.fills)
    wire = {"a": run.asset, "b": run.is_buy, "p": fmt(px), "s": fmt(sz), "r": run.reduce_only,
            "t": {"limit": {"tif": "Ioc"}}}  # fmt: skip
    orders.place(ex, wire)
    for fill in ex.account.fills[before:]:
        f_sz, f_px = dec(fill["sz"]), dec(fill["px"])
        run.executed_sz += f_sz
        run.executed_ntl += f_sz * f_px
        ex.account.twap_slice_fills.append({"fill": dict(fill), "twapId": run.twap_id})


def _history(ex: StandIn, run: TwapRun) -> None:
    entry = {
        "time": ex.now_ms() // 1000,
        "state": {
            "coin": run.coin,
            "user": ex.account.user,
            "side": "B" if run.is_buy else "A",
            "sz": fmt(run.sz),
            "executedSz": fmt(run.executed_sz),
            "executedNtl": fmt(run.executed_ntl, 6),
            "minutes": run.minutes,
            "reduceOnly": run.reduce_only,
            "randomize": run.randomize,
            "timestamp": run.started_ms,
        },
        "status": {"status": run.status},
        "twapId": run.twap_id,
    }
    history = ex.account.twap_history
    for i, old in enumerate(history):
        if old.get("twapId") == run.twap_id:
            history[i] = entry
            return
    history.append(entry)
