"""Order placement: validation with Hyperliquid's rules and error strings, matching, settlement.

Error strings follow the Hyperliquid docs ("Error responses") and messages reported in SDK issues;
most carry Hyperliquid's `` asset=N`` suffix. Rejections that Hyperliquid records with an order id
(tick, minimum value, margin, reduce-only, post-only, IOC, spot balance) are recorded here too, so
``orderStatus`` by cloid finds them; malformed sizes/prices are not recorded.

Fees: perps pay the taker fee in USDC from the perp ledger. Spot buys pay it in the received base
token, spot sells in USDC (as Hyperliquid does). Resting orders are makers-to-be but never match.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from agent.standin import matching, unified
from agent.standin.accounting import isolated, opening_margin
from agent.standin.rules import (
    ZERO,
    dec,
    fmt,
    price_decimals_ok,
    price_sig_figs_ok,
    size_ok,
)
from agent.standin.state import Balance, Market, OrderRecord, Position

if TYPE_CHECKING:
    from agent.standin.engine import StandIn

MIN_NOTIONAL = Decimal(10)
#: Hyperliquid's answer to a non-ALO order right after a network upgrade (quoted from the API docs).
POST_ONLY_AFTER_UPGRADE = "Only post-only orders allowed immediately after a network upgrade"
REFERENCE_BAND = Decimal(5)  # "cannot be more than 80% away from the reference price"


class Rejected(Exception):
    """An order-level failure: ``status`` is the orderStatus value, None when not recorded."""

    def __init__(self, message: str, status: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _wire_hash(wire: Mapping[str, Any], oid: int) -> str:
    return "0x" + hashlib.sha256(f"{sorted(wire.items())}|{oid}".encode()).hexdigest()


def place(ex: StandIn, wire: Mapping[str, Any]) -> dict[str, Any]:
    """Validate and execute one order wire ``{a, b, p, s, r, t, c?}``; return its status entry."""
    now = ex.now_ms()
    try:
        market = ex.markets_by_asset.get(int(wire["a"]))
        if market is None or market.delisted:
            raise Rejected(f"Invalid asset: {wire['a']}", None)
        is_buy = bool(wire["b"])
        limit = wire.get("t") or {}
        if "limit" not in limit:
            raise Rejected("Stand-in: only limit orders (Gtc, Ioc, Alo) are supported.", None)
        tif = str(limit["limit"].get("tif"))
        if tif not in ("Gtc", "Ioc", "Alo"):
            raise Rejected(f"Invalid TIF: {tif}", None)
        sz, px = _parse_size_price(wire, market)
        cloid = str(wire["c"]).lower() if wire.get("c") else None
    except (KeyError, ValueError, TypeError) as exc:
        return {"error": f"Invalid order: {exc}"}
    except Rejected as rej:
        return {"error": rej.message}
    if tif != "Alo" and now < ex.post_only_until_ms:
        return {"error": POST_ONLY_AFTER_UPGRADE}
    reduce_only = bool(wire.get("r", False))
    oid = ex.new_oid()
    record = OrderRecord(
        oid=oid,
        coin=market.coin,
        side="B" if is_buy else "A",
        limit_px=px,
        orig_sz=sz,
        sz=sz,
        timestamp=now,
        tif=tif,
        reduce_only=reduce_only,
        cloid=cloid,
        status="open",
        status_timestamp=now,
    )
    try:
        sz = _check(ex, market, record)
        record.orig_sz = record.sz = sz
    except Rejected as rej:
        if rej.status is None:
            return {"error": rej.message}
        _record(ex, record, rej.status)
        return {"error": rej.message}
    return _execute(ex, market, record, _wire_hash(wire, oid))


def _parse_size_price(wire: Mapping[str, Any], market: Market) -> tuple[Decimal, Decimal]:
    sz, px = dec(wire["s"]), dec(wire["p"])
    if sz == ZERO:
        raise Rejected("Order has zero size.", None)
    if not size_ok(sz, market.sz_decimals):
        raise Rejected("Order has invalid size.", None)
    if not price_decimals_ok(px, market.sz_decimals, spot=market.spot):
        raise Rejected("Order has invalid price.", None)
    return sz, px


def _check(ex: StandIn, market: Market, order: OrderRecord) -> Decimal:
    """Apply the exchange's rules in Hyperliquid's order; return the (possibly clamped) size."""
    asset = market.asset
    if not price_sig_figs_ok(order.limit_px):
        raise Rejected(f"Price must be divisible by tick size. asset={asset}", "tickRejected")
    reference = ex.mark(market.coin)
    if reference > ZERO and (
        order.limit_px > reference * REFERENCE_BAND or order.limit_px * REFERENCE_BAND < reference
    ):
        raise Rejected("Order price cannot be more than 80% away from the reference price", "oracleRejected")
    sz = order.sz
    if market.spot:
        if sz * order.limit_px < MIN_NOTIONAL:
            quote = ex.tokens[market.quote_token or 0].name
            raise Rejected(f"Order must have minimum value of 10 {quote}. asset={asset}", "minTradeNtlRejected")
        _check_spot_balance(ex, market, order)
        return sz
    pos = ex.account.positions.get(market.coin)
    szi = pos.szi if pos else ZERO
    if order.reduce_only:
        if szi == ZERO or (szi > 0) == order.is_buy:
            raise Rejected(f"Reduce only order would increase position. asset={asset}", "reduceOnlyRejected")
        sz = min(sz, abs(szi))
    closes_all = order.reduce_only and sz == abs(szi)
    if sz * order.limit_px < MIN_NOTIONAL and not closes_all:
        raise Rejected(f"Order must have minimum value of $10. asset={asset}", "minTradeNtlRejected")
    signed = sz if order.is_buy else -sz
    new = szi + signed
    increase = abs(new) - abs(szi) if (szi >= 0) == (new >= 0) else abs(new)
    if increase > ZERO:
        leverage = Decimal(ex.leverage_for(market.coin)[1])
        needed = increase * order.limit_px / leverage + sz * order.limit_px * ex.fees.perp_taker * market.fee_scale
        if needed > ex.perp_available(market.dex):
            raise Rejected(f"Insufficient margin to place order. asset={asset}", "perpMarginRejected")
    return sz


def _spot_balance(ex: StandIn, token: int) -> Balance:
    bal = ex.account.balances.get(token)
    if bal is None:
        bal = Balance(token=token, coin=ex.tokens[token].name, total=ZERO)
        ex.account.balances[token] = bal
    return bal


def _check_spot_balance(ex: StandIn, market: Market, order: OrderRecord) -> None:
    if order.is_buy:
        quote = market.quote_token or 0
        free = unified.usdc_available(ex) if quote == 0 and ex.account.unified else _spot_balance(ex, quote).free
        short = free < order.sz * order.limit_px
    else:
        free = _spot_balance(ex, market.base_token or 0).free
        short = free < order.sz
    if short:
        raise Rejected(f"Insufficient spot balance asset={market.asset}", "insufficientSpotBalanceRejected")


def _record(ex: StandIn, order: OrderRecord, status: str) -> None:
    order.status = status
    order.status_timestamp = ex.now_ms()
    ex.account.orders[order.oid] = order
    if order.cloid:
        ex.account.cloids[order.cloid] = order.oid


def _execute(ex: StandIn, market: Market, order: OrderRecord, tx_hash: str) -> dict[str, Any]:
    book = ex.book(market.coin)
    if order.tif == "Alo" and matching.crosses(book, is_buy=order.is_buy, limit_px=order.limit_px):
        bid, ask = matching.bbo(book)
        _record(ex, order, "badAloPxRejected")
        return {"error": f"Post only order would have immediately matched, bbo was {bid}@{ask}. asset={market.asset}"}
    trades = (
        [] if order.tif == "Alo" else matching.preview(book, is_buy=order.is_buy, limit_px=order.limit_px, sz=order.sz)
    )
    if order.tif == "Ioc" and not trades:
        _record(ex, order, "iocCancelRejected")
        return {"error": f"Order could not immediately match against any resting orders. asset={market.asset}"}
    matching.consume(book, is_buy=order.is_buy, trades=trades)
    for trade in trades:
        _settle(ex, market, order, trade, tx_hash)
    filled = sum((t.sz for t in trades), ZERO)
    order.sz = order.orig_sz - filled
    extra = {"cloid": order.cloid} if order.cloid else {}
    if order.sz > ZERO and order.tif in ("Gtc", "Alo"):
        _lock(ex, market, order)
        _record(ex, order, "open")
        return {"resting": {"oid": order.oid, **extra}}
    _record(ex, order, "filled" if order.sz == ZERO else "canceled")
    avg = sum((t.px * t.sz for t in trades), ZERO) / filled
    return {"filled": {"totalSz": fmt(filled), "avgPx": fmt(avg), "oid": order.oid, **extra}}


def _lock(ex: StandIn, market: Market, order: OrderRecord) -> None:
    if not market.spot:
        return
    if order.is_buy:
        order.locked = order.sz * order.limit_px
        _spot_balance(ex, market.quote_token or 0).hold += order.locked
    else:
        order.locked = order.sz
        _spot_balance(ex, market.base_token or 0).hold += order.locked


def close_order(ex: StandIn, order: OrderRecord, status: str) -> None:
    """Cancel a resting order with the given status, releasing its spot hold."""
    market = ex.markets_by_coin.get(order.coin)
    if market is not None and market.spot and order.locked > ZERO:
        token = market.quote_token if order.is_buy else market.base_token
        bal = _spot_balance(ex, token or 0)
        bal.hold = max(ZERO, bal.hold - order.locked)
        order.locked = ZERO
    _record(ex, order, status)


def _settle(ex: StandIn, market: Market, order: OrderRecord, trade: matching.Trade, tx_hash: str) -> None:
    notional = trade.px * trade.sz
    ex.account.cum_volume += notional
    fill = _settle_spot(ex, market, order, trade) if market.spot else _settle_perp(ex, market, order, trade)
    fill.update(
        {
            "coin": market.coin,
            "px": fmt(trade.px),
            "sz": fmt(trade.sz),
            "side": order.side,
            "time": ex.now_ms(),
            "hash": tx_hash,
            "oid": order.oid,
            "crossed": True,
            "tid": ex.new_tid(),
        }
    )
    if order.cloid:
        fill["cloid"] = order.cloid
    ex.account.fills.append(fill)


def _settle_perp(ex: StandIn, market: Market, order: OrderRecord, trade: matching.Trade) -> dict[str, Any]:
    acct = ex.account
    pos = acct.positions.get(market.coin)
    old = pos.szi if pos else ZERO
    signed = trade.sz if order.is_buy else -trade.sz
    new = old + signed
    fee = trade.px * trade.sz * ex.fees.perp_taker * market.fee_scale
    closed_pnl = ZERO
    if pos is not None and old != ZERO and (old > 0) != (signed > 0):
        closing = min(abs(old), trade.sz)
        closed_pnl = closing * (trade.px - pos.entry_px) * (1 if old > 0 else -1)
    if market.dex:  # a HIP-3 dex keeps its own perp ledger
        acct.dex_raw_usd[market.dex] = acct.dex_raw_usd.get(market.dex, ZERO) - (signed * trade.px + fee)
    else:
        acct.raw_usd -= signed * trade.px + fee
    kind, lev = ex.leverage_for(market.coin)
    if new == ZERO:
        acct.positions.pop(market.coin, None)
    elif pos is None or old == ZERO:
        margin = opening_margin(abs(new), trade.px, lev) if kind == "isolated" else ZERO
        acct.positions[market.coin] = Position(market.coin, new, trade.px, lev, kind, isolated_margin=margin)
    elif (old > 0) != (new > 0):
        pos.szi, pos.entry_px, pos.cum_funding_since_open = new, trade.px, ZERO
        if isolated(pos):
            pos.isolated_margin = opening_margin(abs(new), trade.px, pos.leverage)
    else:
        if abs(new) > abs(old):
            pos.entry_px = (abs(old) * pos.entry_px + trade.sz * trade.px) / abs(new)
            if isolated(pos):  # more margin moves out of the cross balance
                pos.isolated_margin += opening_margin(trade.sz, trade.px, pos.leverage)
        elif isolated(pos):  # margin released pro rata (with the realized PnL, back to cross)
            pos.isolated_margin = pos.isolated_margin * abs(new) / abs(old)
        pos.szi = new
    if pos is not None and new != ZERO:
        pos.cum_funding_since_change = ZERO
    return {
        "startPosition": fmt(old),
        "dir": _direction(old, new),
        "closedPnl": fmt(closed_pnl, 6),
        "fee": fmt(fee, 6),
        "feeToken": "USDC",
    }


def _direction(old: Decimal, new: Decimal) -> str:
    if old == ZERO or ((old > 0) == (new > 0) and abs(new) > abs(old)):
        return "Open Long" if new > 0 else "Open Short"
    if new == ZERO or (old > 0) == (new > 0):
        return "Close Long" if old > 0 else "Close Short"
    return "Long > Short" if old > 0 else "Short > Long"


def _settle_spot(ex: StandIn, market: Market, order: OrderRecord, trade: matching.Trade) -> dict[str, Any]:
    base = _spot_balance(ex, market.base_token or 0)
    quote = _spot_balance(ex, market.quote_token or 0)
    start = base.total
    cost = trade.px * trade.sz
    closed_pnl = ZERO
    if order.is_buy:
        fee = trade.sz * ex.fees.spot_taker
        quote.total -= cost
        base.total += trade.sz - fee
        base.entry_ntl += cost
        fee_token = base.coin
    else:
        fee = cost * ex.fees.spot_taker
        basis = base.entry_ntl * trade.sz / start if start > ZERO else ZERO
        closed_pnl = cost - basis
        base.entry_ntl -= basis
        base.total -= trade.sz
        quote.total += cost - fee
        fee_token = quote.coin
    return {
        "startPosition": fmt(start),
        "dir": "Buy" if order.is_buy else "Sell",
        "closedPnl": fmt(closed_pnl, 6),
        "fee": fmt(fee, 8),
        "feeToken": fee_token,
    }


def liquidate(ex: StandIn, pos: Position) -> None:
    """Close an isolated position at the mark on its own margin: what is left of that margin is lost
    (taken by the liquidator); the cross balance is untouched. Recorded as a fill with ``liquidation``."""
    acct = ex.account
    mark = ex.mark(pos.coin)
    market = ex.markets_by_coin[pos.coin]
    left = max(ZERO, pos.isolated_margin + pos.szi * (mark - pos.entry_px))
    delta = pos.szi * mark - left  # the position's value comes back to the ledger, less its lost margin
    if market.dex:
        acct.dex_raw_usd[market.dex] = acct.dex_raw_usd.get(market.dex, ZERO) + delta
    else:
        acct.raw_usd += delta
    acct.positions.pop(pos.coin, None)
    acct.fills.append(
        {
            "coin": pos.coin,
            "px": fmt(mark),
            "sz": fmt(abs(pos.szi)),
            "side": "A" if pos.szi > 0 else "B",
            "time": ex.now_ms(),
            "startPosition": fmt(pos.szi),
            "dir": "Close Long" if pos.szi > 0 else "Close Short",
            "closedPnl": fmt(pos.szi * (mark - pos.entry_px), 6),
            "hash": "0x" + "0" * 64,
            "oid": ex.new_oid(),
            "crossed": True,
            "fee": "0.0",
            "tid": ex.new_tid(),
            "feeToken": "USDC",
            "liquidation": {"liquidatedUser": acct.user, "markPx": fmt(mark), "method": "market"},
        }
    )
