"""Hyperliquid ``/info`` response shapes → domain models.

Tolerant of older and newer shapes (2023 positions carry ``maxTradeSzs`` and lack ``cumFunding``,
``maxLeverage``, ``time``; current ones have them). Anything we cannot read raises ``SnapshotError``
naming the field, never a bare ``KeyError``; what the exchange itself answered is read inside
:func:`exchange_answer`, which turns any such problem into an ``ExchangeAnswerError`` naming the request.
A price must be positive and finite, a balance and a hold not negative: an answer that says otherwise is
refused rather than planned on.

Snapshot file (design.md): ``{"user", "meta", "spotMeta", "clearinghouseState",
"spotClearinghouseState", "allMids", "l2Books": {coin: l2Book}, "metaAndAssetCtxs"?}``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from agent.adapters.hyperliquid.dexes import check_dexes, parse_dex_markets, token_names
from agent.core.accounts import parse_abstraction
from agent.core.domain import CASH, BookLevel, L2Book, Market, MarketInfo, PortfolioState, Position
from agent.core.errors import ExchangeAnswerError, SnapshotError

SPOT_ASSET_OFFSET = 10_000
T = TypeVar("T")


def number(value: Any, where: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise SnapshotError(f"{where}: {value!r} is not a number") from None
    if not math.isfinite(x):
        raise SnapshotError(f"{where}: {value!r} is not finite")
    return x


def price(value: Any, where: str) -> float:
    """A price: a finite number above 0."""
    x = number(value, where)
    if x <= 0:
        raise SnapshotError(f"{where}: {value!r} is not a positive price")
    return x


def amount(value: Any, where: str) -> float:
    """A balance or a hold: a finite number, not negative."""
    x = number(value, where)
    if x < 0:
        raise SnapshotError(f"{where}: {value!r} is negative")
    return x


@contextmanager
def exchange_answer(request: str) -> Iterator[None]:
    """Read an exchange answer: a shape we cannot read, or a value no exchange should give, becomes an
    ``ExchangeAnswerError`` naming ``request`` (``/info allMids``) and the field."""
    from pydantic import ValidationError as PydanticError

    try:
        yield
    except SnapshotError as e:
        raise ExchangeAnswerError(f"{request}: {e}") from None
    except PydanticError as e:
        from agent.core.problems import problems

        first = problems(e, root=e.title)[0]
        raise ExchangeAnswerError(f"{request}: {e.title}.{first}") from None


def answers_checked(cls: type[T]) -> type[T]:
    """An exchange client whose ``market`` and ``account_state`` read their answers inside
    :func:`exchange_answer`."""
    setattr(cls, "market", exchange_answer("/info allMids, l2Book")(cls.market))  # type: ignore[attr-defined]  # noqa: B010
    read = cls.account_state  # type: ignore[attr-defined]
    setattr(cls, "account_state", exchange_answer("/info clearinghouseState, spotClearinghouseState")(read))  # noqa: B010
    return cls


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
                px=price(_get(r, "px", where), f"{where}.{name}.px"),
                sz=amount(_get(r, "sz", where), f"{where}.{name}.sz"),
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
            mid=price(mid_raw, f"allMids.{name}"),
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
                mid=price(mid_raw, f"allMids.{wire}"),
                book=parse_book(book, f"l2Books.{wire}") if book is not None else None,
                base_token=base,
            )
    return Market(assets=assets)


def _perp_positions(clearinghouse: Any, where_state: str) -> dict[str, Position]:
    positions: dict[str, Position] = {}
    for row in _get(clearinghouse, "assetPositions", where_state):
        p = _get(row, "position", f"{where_state}.assetPositions")
        coin = str(_get(p, "coin", "position"))
        where = f"{where_state}.position[{coin}]"
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
            margin_used=amount(p.get("marginUsed", 0), where + ".marginUsed"),
            unrealized_pnl=number(p.get("unrealizedPnl", 0), where + ".unrealizedPnl"),
            liquidation_px=number(liq, where + ".liquidationPx") if liq is not None else None,
        )
    return positions


def _margin(clearinghouse: Any, where: str) -> tuple[float, float]:
    """(account value, withdrawable) of one perp dex's clearinghouseState."""
    if not isinstance(clearinghouse, Mapping):
        raise SnapshotError(f"{where}: expected an object")
    summary = clearinghouse.get("marginSummary") or clearinghouse.get("crossMarginSummary")
    if summary is None:
        raise SnapshotError(f"{where}: missing 'marginSummary'")
    account_value = number(_get(summary, "accountValue", f"{where}.marginSummary"), f"{where}.accountValue")
    return account_value, number(clearinghouse.get("withdrawable", account_value), f"{where}.withdrawable")


def parse_state(
    clearinghouse: Any,
    spot_state: Any | None,
    market: Market,
    user: str | None = None,
    *,
    abstraction: Any = None,
    dex_states: Mapping[str, Any] | None = None,
) -> PortfolioState:
    """Perp positions (main dex and each HIP-3 dex in ``dex_states``), margin and spot balances → state.

    ``abstraction`` is the ``userAbstraction`` answer (None: standard). On a unified or portfolio-margin
    account the perp dex states' account values are kept but not counted (see ``PortfolioState.equity``).
    """
    mode = parse_abstraction(abstraction)
    positions = _perp_positions(clearinghouse, "clearinghouseState")
    account_value, withdrawable = _margin(clearinghouse, "clearinghouseState")
    dex_values: dict[str, float] = {}
    dex_free: dict[str, float] = {}
    for dex, ch in (dex_states or {}).items():
        where = f"dexes.{dex}.clearinghouseState"
        for coin, pos in _perp_positions(ch, where).items():
            if coin in positions:
                raise SnapshotError(f"{where}: position {coin} also held on another dex")
            positions[coin] = pos
        dex_values[dex], dex_free[dex] = _margin(ch, where)

    usdc_total = usdc_hold = 0.0
    if spot_state is not None:
        by_token = {info.base_token: info for info in market.assets.values() if info.market == "spot"}
        for b in _get(spot_state, "balances", "spotClearinghouseState"):
            token = str(_get(b, "coin", "spotClearinghouseState.balances"))
            where = f"spotClearinghouseState.balances[{token}]"
            total = amount(_get(b, "total", where), f"{where}.total")
            hold = amount(b.get("hold", 0), f"{where}.hold")
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
                hold=min(hold, total),
                entry_px=number(b["entryNtl"], "entryNtl") / total if b.get("entryNtl") and total else None,
            )
    ts = clearinghouse.get("time")
    return PortfolioState(
        user=user,
        abstraction=mode,
        perp_account_value=account_value,
        perp_withdrawable=withdrawable,
        dex_account_values=dex_values,
        dex_withdrawable=dex_free,
        usdc_spot_total=usdc_total,
        usdc_spot_hold=min(usdc_hold, usdc_total),
        positions=positions,
        timestamp=datetime.fromtimestamp(ts / 1000, UTC) if isinstance(ts, int | float) else datetime.now(UTC),
    )


def add_dex_markets(
    market: Market,
    perp_dexs: Any,
    dexes: Mapping[str, Any],
    spot_meta: Any | None,
    mids: Mapping[str, Any],
    books: Mapping[str, Any],
) -> Market:
    """``market`` plus the assets of each HIP-3 dex in ``dexes`` (each must be listed by ``perpDexs``)."""
    if not dexes:
        return market
    index = check_dexes(dexes, perp_dexs)
    tokens = token_names(spot_meta)
    assets = dict(market.assets)
    for dex, answers in dexes.items():
        if not isinstance(answers, Mapping):
            raise SnapshotError(f"dexes.{dex}: expected an object")
        meta, ctxs = answers.get("meta"), None
        mac = answers.get("metaAndAssetCtxs")
        if mac is not None:
            if not (isinstance(mac, list) and len(mac) == 2):
                raise SnapshotError(f"dexes.{dex}.metaAndAssetCtxs: expected [meta, assetCtxs]")
            meta, ctxs = meta or mac[0], mac[1]
        if meta is None:
            raise SnapshotError(f"dexes.{dex}: missing 'meta' (or 'metaAndAssetCtxs')")
        assets.update(
            parse_dex_markets(
                dex,
                index[dex],
                meta,
                ctxs,
                perp_dex_entry=perp_dexs[index[dex]],
                tokens=tokens,
                mids=mids,
                books=books,
                parse_book=parse_book,
                number=number,
            )
        )
    return Market(assets=assets, timestamp=market.timestamp)


def parse_snapshot(snapshot: Mapping[str, Any]) -> tuple[PortfolioState, Market]:
    """A snapshot dict → (state, market). Without ``userAbstraction``/``perpDexs``/``dexes`` it is a
    standard account on the main dex only."""
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
    books = snapshot.get("l2Books") or {}
    mids = snapshot.get("allMids") or {}
    market = parse_market(meta, snapshot.get("spotMeta"), mids, books, ctxs)
    dexes = snapshot.get("dexes") or {}
    if not isinstance(dexes, Mapping):
        raise SnapshotError("dexes: expected an object of dex name → answers")
    if dexes and snapshot.get("perpDexs") is None:
        raise SnapshotError("snapshot: 'dexes' needs 'perpDexs' (the dex indexes give the asset ids)")
    market = add_dex_markets(market, snapshot.get("perpDexs"), dexes, snapshot.get("spotMeta"), mids, books)
    dex_states = {}
    for dex, answers in dexes.items():
        if answers.get("clearinghouseState") is not None:
            dex_states[dex] = answers["clearinghouseState"]
    state = parse_state(
        _get(snapshot, "clearinghouseState", "snapshot"),
        snapshot.get("spotClearinghouseState"),
        market,
        user=snapshot.get("user"),
        abstraction=snapshot.get("userAbstraction"),
        dex_states=dex_states,
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
