"""Hyperliquid ``/info`` response shapes → domain models.

Tolerant of older and newer shapes (2023 positions carry ``maxTradeSzs`` and lack ``cumFunding``,
``maxLeverage``, ``time``; current ones have them). Anything we cannot read raises ``SnapshotError``
naming the field, never a bare ``KeyError``.

Snapshot file (design.md): ``{"user", "meta", "spotMeta", "clearinghouseState",
"spotClearinghouseState", "allMids", "l2Books": {coin: l2Book}, "metaAndAssetCtxs"?}``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.core.domain import CASH, BookLevel, L2Book, Market, MarketInfo, PortfolioState, Position
from agent.core.errors import SnapshotError

SPOT_ASSET_OFFSET = 10_000


def number(value: Any, where: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise SnapshotError(f"{where}: {value!r} is not a number") from None
    if not math.isfinite(x):
        raise SnapshotError(f"{where}: {value!r} is not finite")
    return x


def _get(obj: Any, key: str, where: str) -> Any:
    if not isinstance(obj, Mapping) or key not in obj:
        raise SnapshotError(f"{where}: missing {key!r}")
    return obj[key]


def parse_book(raw: Any, where: str = "l2Book") -> L2Book:
    levels = _get(raw, "levels", where)
    if not isinstance(levels, list) or len(levels) != 2:
        raise SnapshotError(f"{where}.levels: expected [bids, asks]")

    def side(rows: Any, name: str) -> tuple[BookLevel, ...]:
        if not isinstance(rows, list):
            raise SnapshotError(f"{where}.{name}: expected a list")
        return tuple(
            BookLevel(
                px=number(_get(r, "px", where), f"{where}.{name}.px"),
                sz=number(_get(r, "sz", where), f"{where}.sz"),
            )
            for r in rows
        )

    return L2Book(bids=side(levels[0], "bids"), asks=side(levels[1], "asks"))


def spot_pair_names(spot_meta: Any) -> dict[str, tuple[str, str, int, int]]:
    """Human pair name ('UBTC/USDC') → (wire name '@142', base token name, pair index, base szDecimals)."""
    tokens = {int(_get(t, "index", "spotMeta.tokens")): t for t in _get(spot_meta, "tokens", "spotMeta")}
    out: dict[str, tuple[str, str, int, int]] = {}
    for pair in _get(spot_meta, "universe", "spotMeta"):
        base_i, quote_i = _get(pair, "tokens", "spotMeta.universe")
        base, quote = tokens.get(int(base_i)), tokens.get(int(quote_i))
        if base is None or quote is None:
            raise SnapshotError(f"spotMeta.universe: pair {pair.get('name')!r} names an unknown token")
        human = f"{base['name']}/{quote['name']}"
        out[human] = (str(pair["name"]), str(base["name"]), int(pair["index"]), int(base["szDecimals"]))
    return out


def parse_market(
    meta: Any,
    spot_meta: Any | None,
    all_mids: Mapping[str, Any],
    books: Mapping[str, Any] | None = None,
    asset_ctxs: list[Any] | None = None,
) -> Market:
    """Build the tradable universe. Books are keyed by wire name (perp coin or '@index')."""
    books = books or {}
    assets: dict[str, MarketInfo] = {}
    universe = _get(meta, "universe", "meta")
    for i, u in enumerate(universe):
        name = str(_get(u, "name", "meta.universe"))
        if u.get("isDelisted"):
            continue
        ctx = asset_ctxs[i] if asset_ctxs is not None and i < len(asset_ctxs) else None
        mid_raw = all_mids.get(name)
        if mid_raw is None and ctx is not None:
            mid_raw = ctx.get("midPx") or ctx.get("markPx")
        if mid_raw is None:
            continue  # no price: not tradable now
        funding = number(ctx["funding"], f"ctx[{name}].funding") if ctx and ctx.get("funding") is not None else None
        assets[name] = MarketInfo(
            coin=name,
            market="perp",
            asset=i,
            wire_name=name,
            sz_decimals=int(_get(u, "szDecimals", f"meta.universe[{name}]")),
            max_leverage=int(u["maxLeverage"]) if u.get("maxLeverage") is not None else None,
            mid=number(mid_raw, f"allMids.{name}"),
            book=parse_book(books[name], f"l2Books.{name}") if name in books else None,
            funding=funding,
        )
    if spot_meta is not None:
        for human, (wire, base, index, szd) in spot_pair_names(spot_meta).items():
            if not human.endswith("/" + CASH):
                continue  # we value and trade spot against USDC only
            mid_raw = all_mids.get(wire, all_mids.get(human))
            if mid_raw is None:
                continue
            book = books.get(wire, books.get(human))
            assets[human] = MarketInfo(
                coin=human,
                market="spot",
                asset=SPOT_ASSET_OFFSET + index,
                wire_name=wire,
                sz_decimals=szd,
                max_leverage=None,
                mid=number(mid_raw, f"allMids.{wire}"),
                book=parse_book(book, f"l2Books.{wire}") if book is not None else None,
                base_token=base,
            )
    return Market(assets=assets)


def parse_state(clearinghouse: Any, spot_state: Any | None, market: Market, user: str | None = None) -> PortfolioState:
    """Perp positions, margin summary and spot balances → ``PortfolioState``."""
    positions: dict[str, Position] = {}
    for row in _get(clearinghouse, "assetPositions", "clearinghouseState"):
        p = _get(row, "position", "clearinghouseState.assetPositions")
        coin = str(_get(p, "coin", "position"))
        where = f"clearinghouseState.position[{coin}]"
        lev = p.get("leverage")
        lev_value = number(lev["value"], where + ".leverage") if isinstance(lev, Mapping) else None
        liq = p.get("liquidationPx")
        size = number(_get(p, "szi", where), where + ".szi")
        if size == 0:
            continue
        positions[coin] = Position(
            coin=coin,
            market="perp",
            size=size,
            entry_px=number(p["entryPx"], where + ".entryPx") if p.get("entryPx") is not None else None,
            leverage=lev_value,
            margin_used=number(p.get("marginUsed", 0), where + ".marginUsed"),
            unrealized_pnl=number(p.get("unrealizedPnl", 0), where + ".unrealizedPnl"),
            liquidation_px=number(liq, where + ".liquidationPx") if liq is not None else None,
        )
    summary = clearinghouse.get("marginSummary") or clearinghouse.get("crossMarginSummary")
    account_value = number(_get(summary, "accountValue", "marginSummary"), "marginSummary.accountValue")
    withdrawable = number(clearinghouse.get("withdrawable", account_value), "withdrawable")

    usdc_total = usdc_hold = 0.0
    if spot_state is not None:
        by_token = {info.base_token: info for info in market.assets.values() if info.market == "spot"}
        for b in _get(spot_state, "balances", "spotClearinghouseState"):
            token = str(_get(b, "coin", "spotClearinghouseState.balances"))
            total = number(_get(b, "total", f"balance[{token}]"), f"balance[{token}].total")
            hold = number(b.get("hold", 0), f"balance[{token}].hold")
            if token == CASH:
                usdc_total, usdc_hold = total, hold
                continue
            info = by_token.get(token)
            if info is None or total == 0:
                continue  # a token with no USDC market cannot be valued or traded here
            positions[info.coin] = Position(
                coin=info.coin,
                market="spot",
                size=total,
                hold=hold,
                entry_px=number(b["entryNtl"], "entryNtl") / total if b.get("entryNtl") and total else None,
            )
    ts = clearinghouse.get("time")
    return PortfolioState(
        user=user,
        perp_account_value=account_value,
        perp_withdrawable=withdrawable,
        usdc_spot_total=usdc_total,
        usdc_spot_hold=usdc_hold,
        positions=positions,
        timestamp=datetime.fromtimestamp(ts / 1000, UTC) if isinstance(ts, int | float) else datetime.now(UTC),
    )


def parse_snapshot(snapshot: Mapping[str, Any]) -> tuple[PortfolioState, Market]:
    """A snapshot dict → (state, market)."""
    if not isinstance(snapshot, Mapping):
        raise SnapshotError("snapshot: expected a JSON object")
    meta = snapshot.get("meta")
    ctxs = None
    mac = snapshot.get("metaAndAssetCtxs")
    if mac is not None:
        if not (isinstance(mac, list) and len(mac) == 2):
            raise SnapshotError("metaAndAssetCtxs: expected [meta, assetCtxs]")
        meta = meta or mac[0]
        ctxs = mac[1]
    if meta is None:
        raise SnapshotError("snapshot: missing 'meta' (or 'metaAndAssetCtxs')")
    market = parse_market(
        meta,
        snapshot.get("spotMeta"),
        snapshot.get("allMids") or {},
        snapshot.get("l2Books") or {},
        ctxs,
    )
    state = parse_state(
        _get(snapshot, "clearinghouseState", "snapshot"),
        snapshot.get("spotClearinghouseState"),
        market,
        user=snapshot.get("user"),
    )
    missing = [c for c in state.positions if c not in market.assets]
    if missing:
        raise SnapshotError(f"snapshot: held assets without a mid price: {', '.join(sorted(missing))}")
    return state, market


def load_snapshot(source: str | Path | Mapping[str, Any]) -> tuple[PortfolioState, Market]:
    """Read a snapshot file (or an already-loaded dict)."""
    if isinstance(source, Mapping):
        return parse_snapshot(source)
    path = Path(source)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise SnapshotError(f"{path}: no such file") from None
    except json.JSONDecodeError as e:
        raise SnapshotError(f"{path}: not valid JSON ({e.msg} at line {e.lineno})") from None
    return parse_snapshot(data)
