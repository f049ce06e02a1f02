"""The HIP-3 dex reads of :class:`~agent.adapters.hyperliquid.client.HyperliquidExchange`: ``perpDexs`` and
each used dex's ``meta``, mids, contexts and books (only the dexes in use: every read costs rate weight)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from agent.adapters.hyperliquid.dexes import DEX_ASSET_STRIDE, HIP3_ASSET_OFFSET, check_dexes, dex_of
from agent.adapters.hyperliquid.parsing import add_dex_markets
from agent.core.domain import Market
from agent.core.errors import SnapshotError

if TYPE_CHECKING:
    from agent.adapters.hyperliquid.client import HyperliquidExchange


def ensure_dexes(ex: HyperliquidExchange) -> None:
    """``perpDexs`` and the ``meta`` of each dex in use (only those: every dex read costs weight)."""
    if not ex.dexes:
        return
    if ex._perp_dexs is None:
        ex._perp_dexs = ex._info({"type": "perpDexs"})
    index = check_dexes(ex.dexes, ex._perp_dexs)
    for dex in ex.dexes:
        if dex not in ex._dex_meta:
            meta = ex._info({"type": "meta", "dex": dex})
            if not isinstance(meta, Mapping) or "universe" not in meta:
                raise SnapshotError(f"meta (dex {dex}): missing 'universe'")
            ex._dex_meta[dex] = meta
            if ex._sdk is not None:
                ex._sdk.info.set_perp_meta(meta, HIP3_ASSET_OFFSET + index[dex] * DEX_ASSET_STRIDE)


def use_dexes(ex: HyperliquidExchange, dexes: Collection[str]) -> None:
    """Also read these HIP-3 dexes (a target names them); one not listed by ``perpDexs`` is refused."""
    with ex._lock:
        new = tuple(d for d in dexes if d and d not in ex.dexes)
        if not new:
            return
        if ex._perp_dexs is None:
            ex._perp_dexs = ex._info({"type": "perpDexs"})
        check_dexes(new, ex._perp_dexs)
        ex.dexes = (*ex.dexes, *new)
        ex._ensure_dexes()


def dex_market(ex: HyperliquidExchange, market: Market, books: Collection[str] | None, with_ctxs: bool) -> Market:
    if not ex.dexes:
        return market
    dexes: dict[str, Any] = {}
    mids: dict[str, Any] = {}
    for dex in ex.dexes:
        answers: dict[str, Any] = {"meta": ex._dex_meta[dex]}
        if with_ctxs:
            answers["metaAndAssetCtxs"] = ex._info({"type": "metaAndAssetCtxs", "dex": dex})
        mids.update(ex._info({"type": "allMids", "dex": dex}) or {})
        dexes[dex] = answers
    raw_books = {c: ex._info({"type": "l2Book", "coin": c}) for c in books or () if dex_of(c) in ex.dexes and c in mids}
    books_read = {k: v for k, v in raw_books.items() if v}
    return add_dex_markets(market, ex._perp_dexs, dexes, ex._spot_meta, mids, books_read)
