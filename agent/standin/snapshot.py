"""Parsers from Hyperliquid /info responses (current and older shapes) into stand-in records.

Every parser accepts the response exactly as Hyperliquid returned it, including the 2023 shapes
recorded by the SDK's cassettes (positions with ``maxTradeSzs`` and without ``cumFunding``,
``maxLeverage``; fills without ``tid``/``feeToken``; open orders without ``origSz``/``cloid``), and
raises ``ValueError`` on anything it cannot read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from agent.standin.rules import ZERO, dec
from agent.standin.state import SPOT_ASSET_OFFSET, Balance, Book, Level, Market, OrderRecord, Position, Token

DEFAULT_LEVERAGE = 20
#: what the stand-in serves as ``spotMeta`` when a snapshot has none: USDC only.
EMPTY_SPOT_META: dict[str, Any] = {
    "tokens": [
        {
            "name": "USDC",
            "szDecimals": 8,
            "weiDecimals": 8,
            "index": 0,
            "tokenId": "0x6d1e7cde53ba9467b783cb7c530ce054",
            "isCanonical": True,
            "evmContract": None,
            "fullName": None,
        }
    ],
    "universe": [],
}


def _req(obj: Mapping[str, Any], key: str, what: str) -> Any:
    if not isinstance(obj, Mapping) or key not in obj:
        raise ValueError(f"{what}: missing field {key!r}")
    return obj[key]


def parse_meta(meta: Mapping[str, Any]) -> list[Market]:
    """Perp markets from a ``meta`` response, asset id = position in ``universe``."""
    universe = _req(meta, "universe", "meta")
    markets = []
    for index, item in enumerate(universe):
        markets.append(
            Market(
                asset=index,
                coin=str(_req(item, "name", "meta.universe")),
                sz_decimals=int(_req(item, "szDecimals", "meta.universe")),
                spot=False,
                max_leverage=int(item.get("maxLeverage", 50)),
                delisted=bool(item.get("isDelisted", False)),
            )
        )
    return markets


def parse_spot_meta(spot_meta: Mapping[str, Any]) -> tuple[dict[int, Token], list[Market]]:
    """Tokens and spot pair markets from a ``spotMeta`` response; asset id = 10000 + pair index."""
    tokens: dict[int, Token] = {}
    for item in _req(spot_meta, "tokens", "spotMeta"):
        index = int(_req(item, "index", "spotMeta.tokens"))
        tokens[index] = Token(
            index=index,
            name=str(_req(item, "name", "spotMeta.tokens")),
            sz_decimals=int(_req(item, "szDecimals", "spotMeta.tokens")),
            wei_decimals=int(item.get("weiDecimals", 8)),
        )
    markets = []
    for item in _req(spot_meta, "universe", "spotMeta"):
        base, quote = (int(t) for t in _req(item, "tokens", "spotMeta.universe"))
        if base not in tokens or quote not in tokens:
            raise ValueError(f"spotMeta: pair {item.get('name')} refers to an unknown token")
        index = int(_req(item, "index", "spotMeta.universe"))
        markets.append(
            Market(
                asset=SPOT_ASSET_OFFSET + index,
                coin=str(_req(item, "name", "spotMeta.universe")),
                sz_decimals=tokens[base].sz_decimals,
                spot=True,
                base_token=base,
                quote_token=quote,
                display=f"{tokens[base].name}/{tokens[quote].name}",
            )
        )
    return tokens, markets


@dataclass
class PerpState:
    raw_usd: Decimal
    positions: list[Position]
    account_value: Decimal


def parse_clearinghouse_state(state: Mapping[str, Any], max_leverage: Mapping[str, int]) -> PerpState:
    """Perp account from ``clearinghouseState`` (any vintage).

    ``raw_usd`` (the USDC ledger) is ``totalRawUsd`` when present, else account value minus the signed
    position values, so that account value = raw_usd + sum(szi * mark) holds at the snapshot marks.
    """
    summary = _req(state, "marginSummary", "clearinghouseState")
    account_value = dec(_req(summary, "accountValue", "marginSummary"))
    positions = []
    signed_value = ZERO
    for entry in state.get("assetPositions", []):
        pos = _req(entry, "position", "assetPositions")
        coin = str(_req(pos, "coin", "position"))
        szi = dec(_req(pos, "szi", "position"))
        if szi == ZERO:
            continue
        entry_px = dec(pos.get("entryPx") or 0)
        lev = pos.get("leverage") or {}
        lev_value = int(lev.get("value", min(DEFAULT_LEVERAGE, max_leverage.get(coin, DEFAULT_LEVERAGE))))
        cum = pos.get("cumFunding") or {}
        position_value = dec(pos.get("positionValue", abs(szi) * entry_px))
        signed_value += position_value if szi > 0 else -position_value
        kind = str(lev.get("type", "cross"))
        iso_margin = ZERO
        if kind == "isolated":  # rawUsd = margin − szi·entryPx; without it, the margin at entry
            raw_iso = lev.get("rawUsd")
            iso_margin = dec(raw_iso) + szi * entry_px if raw_iso is not None else abs(szi) * entry_px / lev_value
        positions.append(
            Position(
                coin=coin,
                szi=szi,
                entry_px=entry_px,
                leverage=lev_value,
                leverage_type=kind,
                isolated_margin=iso_margin,
                cum_funding_all_time=dec(cum.get("allTime", 0)),
                cum_funding_since_open=dec(cum.get("sinceOpen", 0)),
                cum_funding_since_change=dec(cum.get("sinceChange", 0)),
            )
        )
    raw = summary.get("totalRawUsd")
    raw_usd = dec(raw) if raw is not None else account_value - signed_value
    return PerpState(raw_usd=raw_usd, positions=positions, account_value=account_value)


def parse_spot_clearinghouse_state(state: Mapping[str, Any]) -> list[Balance]:
    balances = []
    for item in _req(state, "balances", "spotClearinghouseState"):
        balances.append(
            Balance(
                token=int(_req(item, "token", "balances")),
                coin=str(_req(item, "coin", "balances")),
                total=dec(_req(item, "total", "balances")),
                hold=dec(item.get("hold", 0)),
                entry_ntl=dec(item.get("entryNtl", 0)),
            )
        )
    return balances


def parse_l2_book(book: Mapping[str, Any]) -> Book:
    levels = _req(book, "levels", "l2Book")
    if not isinstance(levels, Sequence) or len(levels) != 2:
        raise ValueError("l2Book: levels must be [bids, asks]")

    def side(raw: Sequence[Mapping[str, Any]]) -> list[Level]:
        return [Level(px=dec(lv["px"]), sz=dec(lv["sz"]), n=int(lv.get("n", 1))) for lv in raw]

    bids, asks = side(levels[0]), side(levels[1])
    bids.sort(key=lambda lv: lv.px, reverse=True)
    asks.sort(key=lambda lv: lv.px)
    return Book(coin=str(_req(book, "coin", "l2Book")), bids=bids, asks=asks, time=int(book.get("time", 0)))


def parse_open_orders(orders: Sequence[Mapping[str, Any]]) -> list[OrderRecord]:
    """Resting orders from ``openOrders`` or ``frontendOpenOrders`` (2023 or current shape)."""
    out = []
    for item in orders:
        sz = dec(_req(item, "sz", "openOrders"))
        ts = int(_req(item, "timestamp", "openOrders"))
        side = str(_req(item, "side", "openOrders"))
        if side not in ("A", "B"):
            raise ValueError(f"openOrders: bad side {side!r}")
        out.append(
            OrderRecord(
                oid=int(_req(item, "oid", "openOrders")),
                coin=str(_req(item, "coin", "openOrders")),
                side=side,
                limit_px=dec(_req(item, "limitPx", "openOrders")),
                orig_sz=dec(item.get("origSz", sz)),
                sz=sz,
                timestamp=ts,
                tif=item.get("tif", "Gtc"),
                reduce_only=bool(item.get("reduceOnly", False)),
                cloid=item.get("cloid"),
                status="open",
                status_timestamp=ts,
                order_type=str(item.get("orderType", "Limit")),
            )
        )
    return out


_FILL_DEFAULTS: dict[str, Any] = {"tid": 0, "feeToken": "USDC", "builderFee": None}
_FILL_REQUIRED = (
    "coin",
    "px",
    "sz",
    "side",
    "time",
    "startPosition",
    "dir",
    "closedPnl",
    "hash",
    "oid",
    "crossed",
    "fee",
)


def parse_fills(fills: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``userFills``/``userFillsByTime`` entries, normalized to the current shape."""
    out = []
    for item in fills:
        for key in _FILL_REQUIRED:
            _req(item, key, "userFills")
        for key in ("px", "sz", "startPosition", "closedPnl", "fee"):
            dec(item[key])
        fill = dict(item)
        for key, default in _FILL_DEFAULTS.items():
            fill.setdefault(key, default)
        if fill["builderFee"] is None:
            del fill["builderFee"]
        out.append(fill)
    return out


def parse_candles(candles: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for item in candles:
        for key in ("t", "T", "s", "i", "o", "c", "h", "l", "v", "n"):
            _req(item, key, "candleSnapshot")
        for key in ("o", "c", "h", "l", "v"):
            dec(item[key])
        out.append(dict(item))
    return sorted(out, key=lambda c: int(c["t"]))


def parse_funding(history: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for item in history:
        for key in ("coin", "fundingRate", "premium", "time"):
            _req(item, key, "fundingHistory")
        dec(item["fundingRate"])
        out.append(dict(item))
    return sorted(out, key=lambda f: int(f["time"]))


def parse_all_mids(mids: Mapping[str, Any]) -> dict[str, Decimal]:
    if not isinstance(mids, Mapping):
        raise ValueError("allMids must be an object")
    return {str(k): dec(v) for k, v in mids.items()}
