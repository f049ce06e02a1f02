"""/info responses in Hyperliquid's current shapes (docs: Info endpoint, Perpetuals, Spot).

Queries about any address other than the served account answer like Hyperliquid does for an empty
account (zero margin summary, no balances, no orders, no fills). Numbers are strings; ``time`` and
ids are integers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from agent.standin import accounting, candles, history, matching, unified, wallets
from agent.standin.rules import ZERO, fmt
from agent.standin.snapshot import EMPTY_SPOT_META
from agent.standin.state import OrderRecord, dex_of

if TYPE_CHECKING:
    from agent.standin.engine import StandIn

MAX_FILLS = 2000
MAX_FUNDING = 500
MAX_BOOK_LEVELS = 20

#: required fields per supported request type (others are ignored, e.g. ``"dex": ""``).
REQUIRED: dict[str, tuple[str, ...]] = {
    "clearinghouseState": ("user",),
    "spotClearinghouseState": ("user",),
    "meta": (),
    "spotMeta": (),
    "metaAndAssetCtxs": (),
    "spotMetaAndAssetCtxs": (),
    "allMids": (),
    "l2Book": ("coin",),
    "openOrders": ("user",),
    "frontendOpenOrders": ("user",),
    "orderStatus": ("user", "oid"),
    "historicalOrders": ("user",),
    "userFills": ("user",),
    "userFillsByTime": ("user", "startTime"),
    "candleSnapshot": ("req",),
    "fundingHistory": ("coin", "startTime"),
    "userRateLimit": ("user",),
    "portfolio": ("user",),
    "userFunding": ("user", "startTime"),
    "userAbstraction": ("user",),
    "perpDexs": (),
    "twapHistory": ("user",),
    "userTwapSliceFills": ("user",),
    "userRole": ("user",),
    "extraAgents": ("user",),
}


def answer(ex: StandIn, request: Mapping[str, Any]) -> Any:
    kind = request["type"]
    own = ex.is_user(request.get("user"))
    handler = _HANDLERS[kind]
    if own:
        history.record(ex)  # the account-value history follows the stand-in's clock
    return handler(ex, request, own)


def _zero_summary() -> dict[str, str]:
    return {"accountValue": "0.0", "totalNtlPos": "0.0", "totalRawUsd": "0.0", "totalMarginUsed": "0.0"}


def clearinghouse_state(ex: StandIn, req: Mapping[str, Any], own: bool) -> dict[str, Any]:
    dex = ex.dex(req.get("dex"))
    if not own:
        return {
            "marginSummary": _zero_summary(),
            "crossMarginSummary": _zero_summary(),
            "crossMaintenanceMarginUsed": "0.0",
            "withdrawable": "0.0",
            "assetPositions": [],
            "time": ex.now_ms(),
        }
    summary = ex.perp_summary(dex)
    max_lev = ex.max_leverage()
    upnl_all = sum((p.szi * (ex.mark(p.coin) - p.entry_px) for p in ex.account.positions.values()), ZERO)
    # unified: the whole USDC balance backs the positions (liquidation is computed against it)
    liq_summary = replace(summary, cross_value=unified.usdc_total(ex) + upnl_all) if ex.account.unified else summary
    positions = []
    for pos in sorted(ex.account.positions.values(), key=lambda p: p.coin):
        if dex_of(pos.coin) != dex:
            continue
        mark = ex.mark(pos.coin)
        upnl = pos.szi * (mark - pos.entry_px)
        initial = abs(pos.szi) * pos.entry_px / Decimal(pos.leverage)
        leverage: dict[str, Any] = {"type": pos.leverage_type, "value": pos.leverage}
        if accounting.isolated(pos):
            leverage["rawUsd"] = fmt(accounting.isolated_raw_usd(pos), 6)
        liq = accounting.liquidation_px(pos, liq_summary, mark, max_lev[pos.coin])
        positions.append(
            {
                "type": "oneWay",
                "position": {
                    "coin": pos.coin,
                    "szi": fmt(pos.szi),
                    "leverage": leverage,
                    "entryPx": fmt(pos.entry_px, 6),
                    "positionValue": fmt(accounting.position_value(pos, mark), 6),
                    "unrealizedPnl": fmt(upnl, 6),
                    "returnOnEquity": fmt(upnl / initial if initial else ZERO, 9),
                    "liquidationPx": fmt(liq, 6) if liq is not None else None,
                    "marginUsed": fmt(accounting.margin_used(pos, mark), 6),
                    "maxLeverage": max_lev[pos.coin],
                    "cumFunding": {
                        "allTime": fmt(pos.cum_funding_all_time, 6),
                        "sinceOpen": fmt(pos.cum_funding_since_open, 6),
                        "sinceChange": fmt(pos.cum_funding_since_change, 6),
                    },
                },
            }
        )
    value, raw, withdrawable = summary.account_value, accounting.raw_usd(ex.account, dex), summary.withdrawable
    if ex.account.unified:  # "not meaningful" (docs): the margin backing the positions, nothing to withdraw
        mine = [p for p in ex.account.positions.values() if dex_of(p.coin) == dex]
        value = summary.total_margin_used + sum((p.szi * (ex.mark(p.coin) - p.entry_px) for p in mine), ZERO)
        raw, withdrawable = value - sum((p.szi * ex.mark(p.coin) for p in mine), ZERO), ZERO
    margin = {
        "accountValue": fmt(value, 6),
        "totalNtlPos": fmt(summary.total_ntl_pos, 6),
        "totalRawUsd": fmt(raw, 6),
        "totalMarginUsed": fmt(summary.total_margin_used, 6),
    }
    cross = dict(margin)  # the cross positions alone (isolated ones have their own margin)
    if not ex.account.unified:
        cross = {
            "accountValue": fmt(summary.cross_value, 6),
            "totalNtlPos": fmt(summary.cross_ntl_pos, 6),
            "totalRawUsd": fmt(raw - summary.isolated_raw_usd, 6),
            "totalMarginUsed": fmt(summary.cross_margin_used, 6),
        }
    return {
        "marginSummary": margin,
        "crossMarginSummary": cross,
        "crossMaintenanceMarginUsed": fmt(summary.maintenance_margin, 6),
        "withdrawable": fmt(withdrawable, 6),
        "assetPositions": positions,
        "time": ex.now_ms(),
    }


def spot_clearinghouse_state(ex: StandIn, _req: Mapping[str, Any], own: bool) -> dict[str, Any]:
    if not own:
        return {"balances": []}
    out = []
    for bal in sorted(ex.account.balances.values(), key=lambda b: b.token):
        if bal.total == ZERO and bal.hold == ZERO and bal.token != 0:
            continue
        total, hold = bal.total, bal.hold
        if bal.token == 0 and ex.account.unified:
            total, hold = unified.usdc_total(ex), unified.usdc_hold(ex)
        out.append(
            {
                "coin": bal.coin,
                "token": bal.token,
                "total": fmt(total),
                "hold": fmt(hold),
                "entryNtl": fmt(bal.entry_ntl, 6),
            }
        )
    return {"balances": out}


def _open_order(o: OrderRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "coin": o.coin,
        "side": o.side,
        "limitPx": fmt(o.limit_px),
        "sz": fmt(o.sz),
        "oid": o.oid,
        "timestamp": o.timestamp,
        "origSz": fmt(o.orig_sz),
    }
    if o.cloid:
        out["cloid"] = o.cloid
    if o.reduce_only:
        out["reduceOnly"] = True
    return out


def frontend_order(o: OrderRecord) -> dict[str, Any]:
    return {
        "coin": o.coin,
        "side": o.side,
        "limitPx": fmt(o.limit_px),
        "sz": fmt(o.sz),
        "oid": o.oid,
        "timestamp": o.timestamp,
        "triggerCondition": "N/A",
        "isTrigger": False,
        "triggerPx": "0.0",
        "children": [],
        "isPositionTpsl": False,
        "reduceOnly": o.reduce_only,
        "orderType": o.order_type,
        "origSz": fmt(o.orig_sz),
        "tif": o.tif,
        "cloid": o.cloid,
    }


def _orders_of(ex: StandIn, req: Mapping[str, Any]) -> list[OrderRecord]:
    """Open orders of the request's dex: the main dex's and spot's, or one HIP-3 dex's."""
    dex = ex.dex(req.get("dex"))
    return [o for o in ex.open_orders() if dex_of(o.coin) == dex]


def open_orders(ex: StandIn, req: Mapping[str, Any], own: bool) -> list[dict[str, Any]]:
    return [_open_order(o) for o in _orders_of(ex, req)] if own else []


def frontend_open_orders(ex: StandIn, req: Mapping[str, Any], own: bool) -> list[dict[str, Any]]:
    return [frontend_order(o) for o in _orders_of(ex, req)] if own else []


def order_status(ex: StandIn, req: Mapping[str, Any], own: bool) -> dict[str, Any]:
    key = req["oid"]
    oid = ex.account.cloids.get(key.lower()) if isinstance(key, str) else int(key)
    order = ex.account.orders.get(oid) if own and oid is not None else None
    if order is None:
        return {"status": "unknownOid"}
    return {
        "status": "order",
        "order": {
            "order": frontend_order(order),
            "status": order.status,
            "statusTimestamp": order.status_timestamp,
        },
    }


def historical_orders(ex: StandIn, _req: Mapping[str, Any], own: bool) -> list[dict[str, Any]]:
    if not own:
        return []
    records = sorted(ex.account.orders.values(), key=lambda o: -o.oid)[:MAX_FILLS]
    return [{"order": frontend_order(o), "status": o.status, "statusTimestamp": o.status_timestamp} for o in records]


def user_fills(ex: StandIn, _req: Mapping[str, Any], own: bool) -> list[dict[str, Any]]:
    return [dict(f) for f in reversed(ex.account.fills)][:MAX_FILLS] if own else []


def user_fills_by_time(ex: StandIn, req: Mapping[str, Any], own: bool) -> list[dict[str, Any]]:
    start, end = int(req["startTime"]), req.get("endTime")
    return [
        f for f in user_fills(ex, req, own) if int(f["time"]) >= start and (end is None or int(f["time"]) <= int(end))
    ]


def _levels(levels: list[Any]) -> list[dict[str, Any]]:
    return [{"px": fmt(lv.px), "sz": fmt(lv.sz), "n": lv.n} for lv in levels[:MAX_BOOK_LEVELS]]


def l2_book(ex: StandIn, req: Mapping[str, Any], _own: bool) -> dict[str, Any] | None:
    market = ex.markets_by_coin.get(str(req["coin"]))
    if market is None:
        return None
    book = ex.book(market.coin)
    return {"coin": market.coin, "time": ex.now_ms(), "levels": [_levels(book.bids), _levels(book.asks)]}


def all_mids(ex: StandIn, req: Mapping[str, Any], _own: bool) -> dict[str, str]:
    dex = ex.dex(req.get("dex"))
    if dex:
        return {coin: fmt(px) for coin, px in ex.mids.items() if dex_of(coin) == dex}
    raw = ex.snapshot.get("allMids") if ex.replay is None else None  # replayed prices move
    mids = dict(raw) if raw else {coin: fmt(px) for coin, px in ex.mids.items()}
    return {c: px for c, px in mids.items() if not dex_of(c)}


def meta(ex: StandIn, req: Mapping[str, Any] | None = None, _own: bool = False) -> dict[str, Any]:
    dex = ex.dex((req or {}).get("dex"))
    out = dict(ex.dexes[dex].meta if dex else ex.snapshot["meta"])
    out.setdefault("marginTables", [])
    out.setdefault("collateralToken", 0)
    return out


def spot_meta(ex: StandIn, _req: Mapping[str, Any] | None = None, _own: bool = False) -> dict[str, Any]:
    """The snapshot's ``spotMeta`` with its token list made dense, as Hyperliquid's is (token ``index`` =
    position in ``tokens``): a snapshot keeps only the tokens it uses, so the gaps are filled with
    placeholder tokens that no pair trades (clients such as ccxt look a pair's tokens up by position)."""
    out = dict(ex.snapshot.get("spotMeta") or EMPTY_SPOT_META)
    out["tokens"] = dense_tokens(out.get("tokens") or [])
    return out


def dense_tokens(tokens: list[Any]) -> list[Any]:
    by_index = {int(t["index"]): t for t in tokens}
    top = max(by_index, default=-1)
    return [by_index.get(i) or _placeholder_token(i) for i in range(top + 1)]


def _placeholder_token(index: int) -> dict[str, Any]:
    return {
        "name": f"UNLISTED{index}",
        "szDecimals": 0,
        "weiDecimals": 0,
        "index": index,
        "tokenId": f"0x{index:032x}",
        "isCanonical": False,
        "evmContract": None,
        "fullName": "stand-in placeholder: a token the snapshot does not hold",
    }


def _synthetic_ctx(ex: StandIn, coin: str) -> dict[str, Any]:
    mid = ex.mids.get(coin)
    book = ex.books.get(coin)
    bid, ask = matching.bbo(book) if book else (None, None)
    impact = [fmt(bid), fmt(ask)] if bid is not None and ask is not None else None
    mid_s = fmt(mid) if mid is not None else None
    mark = fmt(ex.mark(coin))
    return {
        "funding": "0.0",
        "openInterest": "0.0",
        "prevDayPx": mid_s or mark,
        "dayNtlVlm": "0.0",
        "premium": "0.0",
        "oraclePx": mark,
        "markPx": mark,
        "midPx": mid_s,
        "impactPxs": impact,
        "dayBaseVlm": "0.0",
    }


def meta_and_asset_ctxs(ex: StandIn, req: Mapping[str, Any], _own: bool) -> list[Any]:
    dex = ex.dex(req.get("dex"))
    if dex:
        d = ex.dexes[dex]
        return [meta(ex, req), list(d.ctxs) if d.ctxs else [_synthetic_ctx(ex, m.coin) for m in d.markets]]
    raw = ex.snapshot.get("metaAndAssetCtxs")
    if raw:
        return [meta(ex), list(raw[1])]
    universe = ex.snapshot["meta"]["universe"]
    return [meta(ex), [_synthetic_ctx(ex, item["name"]) for item in universe]]


def spot_meta_and_asset_ctxs(ex: StandIn, _req: Mapping[str, Any], _own: bool) -> list[Any]:
    """``[spotMeta, ctxs]`` with ``ctxs[i]`` the context of the pair whose ``index`` is i, as on Hyperliquid
    (where the universe is dense too): pairs the snapshot leaves out get an empty placeholder context."""
    sm = spot_meta(ex)
    by_index = {int(pair["index"]): pair for pair in sm["universe"]}
    ctxs: list[dict[str, Any]] = []
    for i in range(max(by_index, default=-1) + 1):
        pair = by_index.get(i)
        if pair is None:
            ctxs.append(
                {"prevDayPx": "0.0", "dayNtlVlm": "0.0", "markPx": "0.0", "midPx": None, "circulatingSupply": "0.0",
                 "coin": f"@{i}", "totalSupply": "0.0", "dayBaseVlm": "0.0"}
            )  # fmt: skip
            continue
        ctx = _synthetic_ctx(ex, pair["name"])
        ctxs.append(
            {
                "prevDayPx": ctx["prevDayPx"],
                "dayNtlVlm": "0.0",
                "markPx": ctx["markPx"],
                "midPx": ctx["midPx"],
                "circulatingSupply": "0.0",
                "coin": pair["name"],
                "totalSupply": "0.0",
                "dayBaseVlm": "0.0",
            }
        )
    return [sm, ctxs]


def funding_history(ex: StandIn, req: Mapping[str, Any], _own: bool) -> list[dict[str, Any]]:
    start, end = int(req["startTime"]), req.get("endTime")
    history = (ex.snapshot.get("fundingHistory") or {}).get(str(req["coin"]), [])
    picked = [dict(f) for f in history if int(f["time"]) >= start and (end is None or int(f["time"]) <= int(end))]
    return picked[:MAX_FUNDING]


def user_rate_limit(ex: StandIn, _req: Mapping[str, Any], own: bool) -> dict[str, Any]:
    vlm = ex.account.cum_volume if own else ZERO
    used = ex.account.n_requests if own else 0
    return {"cumVlm": fmt(vlm, 6), "nRequestsUsed": used, "nRequestsCap": 10_000 + int(vlm)}


def perp_dexs(ex: StandIn, _req: Mapping[str, Any], _own: bool) -> list[Any]:
    """``null`` (the main dex) first, then each builder dex."""
    return list(ex.snapshot.get("perpDexs") or [None])


def twap_history(ex: StandIn, _req: Mapping[str, Any], own: bool) -> list[dict[str, Any]]:
    """Each TWAP's latest record ``{time, state, status: {status}, twapId}`` (none unless one was placed)."""
    return [dict(t) for t in ex.account.twap_history] if own else []


def user_twap_slice_fills(ex: StandIn, _req: Mapping[str, Any], own: bool) -> list[dict[str, Any]]:
    """``[{"fill": <a userFills element>, "twapId": id}]``, newest first (recorded: ``[]``)."""
    return [dict(f) for f in reversed(ex.account.twap_slice_fills)][:MAX_FILLS] if own else []


def user_abstraction(ex: StandIn, _req: Mapping[str, Any], own: bool) -> str:
    """A bare JSON string; an address that never chose a mode answers "default"."""
    return ex.account.abstraction if own else "default"


_HANDLERS: dict[str, Any] = {
    "clearinghouseState": clearinghouse_state,
    "spotClearinghouseState": spot_clearinghouse_state,
    "meta": meta,
    "spotMeta": spot_meta,
    "metaAndAssetCtxs": meta_and_asset_ctxs,
    "spotMetaAndAssetCtxs": spot_meta_and_asset_ctxs,
    "allMids": all_mids,
    "l2Book": l2_book,
    "openOrders": open_orders,
    "frontendOpenOrders": frontend_open_orders,
    "orderStatus": order_status,
    "historicalOrders": historical_orders,
    "userFills": user_fills,
    "userFillsByTime": user_fills_by_time,
    "candleSnapshot": candles.candle_snapshot,
    "fundingHistory": funding_history,
    "userRateLimit": user_rate_limit,
    "portfolio": history.portfolio,
    "userFunding": history.user_funding,
    "userAbstraction": user_abstraction,
    "perpDexs": perp_dexs,
    "twapHistory": twap_history,
    "userTwapSliceFills": user_twap_slice_fills,
    "userRole": wallets.user_role,
    "extraAgents": wallets.extra_agents,
}
assert set(_HANDLERS) == set(REQUIRED)
