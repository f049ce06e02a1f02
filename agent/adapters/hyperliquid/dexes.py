"""HIP-3 builder-deployed perp dexes: ``perpDexs`` and each dex's ``meta`` / ``metaAndAssetCtxs``.

Hyperliquid facts used here (sources in agent/standin/README.md):

- ``perpDexs`` answers a list whose first entry is ``null`` (the main dex), then one object per
  builder dex with at least ``name`` (≤ 6 characters), ``fullName``, ``deployer``; current answers also
  carry ``deployerFeeScale``.
- ``meta`` / ``metaAndAssetCtxs`` / ``clearinghouseState`` take ``"dex": name``; the dex's coins are
  named ``dex:COIN`` (``xyz:TSLA``) in its own ``meta``; its ``collateralToken`` is a spot token index.
- Asset id = 100000 + (index of the dex in ``perpDexs``) × 10000 + (index of the coin in that dex's meta).
- Asset entries may say ``onlyIsolated: true``; ``deployerFeeScale`` / ``growthMode`` scale the fees
  (docs, "Fees": scaleIfHip3 = s < 1 ? s + 1 : 2s; growth mode ×0.1), so at the usual s = 1 a HIP-3
  taker pays 2× the main dex's rate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from agent.core.domain import CASH, MarketInfo
from agent.core.errors import SnapshotError

HIP3_ASSET_OFFSET = 100_000
DEX_ASSET_STRIDE = 10_000


def dex_of(coin: str) -> str:
    """'xyz:TSLA' → 'xyz'; a main-dex or spot name → ''."""
    return coin.split(":", 1)[0] if ":" in coin and "/" not in coin else ""


def dex_index(perp_dexs: Any) -> dict[str, int]:
    """Dex name → its index in ``perpDexs`` (the main dex, ``null``, is 0 and left out)."""
    if not isinstance(perp_dexs, list) or not perp_dexs:
        raise SnapshotError("perpDexs: expected a list starting with null (the main dex)")
    out: dict[str, int] = {}
    for i, entry in enumerate(perp_dexs):
        if entry is None:
            continue
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            raise SnapshotError(f"perpDexs[{i}]: expected an object with a 'name'")
        out[entry["name"]] = i
    return out


def fee_scale(scale: Any, growth_mode: Any = None) -> float:
    """The HIP-3 fee multiplier (Hyperliquid docs, "Fees", fee formula for developers)."""
    try:
        s = float(scale) if scale is not None else 1.0
    except (TypeError, ValueError):
        raise SnapshotError(f"deployerFeeScale: {scale!r} is not a number") from None
    factor = s + 1 if s < 1 else 2 * s
    return factor * (0.1 if growth_mode == "enabled" else 1.0)


def token_names(spot_meta: Any | None) -> dict[int, str]:
    if not isinstance(spot_meta, Mapping):
        return {0: CASH}
    return {int(t["index"]): str(t["name"]) for t in spot_meta.get("tokens") or [] if "index" in t and "name" in t}


def check_dexes(names: Iterable[str], perp_dexs: Any) -> dict[str, int]:
    """Every named dex must be listed by ``perpDexs``; returns name → index."""
    index = dex_index(perp_dexs)
    unknown = sorted(set(names) - set(index))
    if unknown:
        raise SnapshotError(f"dex {', '.join(unknown)} is not listed by perpDexs ({', '.join(index) or 'none'})")
    return index


def parse_dex_markets(
    dex: str,
    index: int,
    meta: Any,
    asset_ctxs: list[Any] | None,
    *,
    perp_dex_entry: Mapping[str, Any] | None,
    tokens: Mapping[int, str],
    mids: Mapping[str, Any],
    books: Mapping[str, Any],
    parse_book: Any,
    number: Any,
) -> dict[str, MarketInfo]:
    """The tradable assets of one HIP-3 dex, keyed by their Hyperliquid names ('xyz:TSLA')."""
    universe = meta.get("universe") if isinstance(meta, Mapping) else None
    if not isinstance(universe, list):
        raise SnapshotError(f"dexes.{dex}.meta: missing 'universe'")
    collateral = tokens.get(int(meta.get("collateralToken", 0)), CASH)
    dex_scale = (perp_dex_entry or {}).get("deployerFeeScale")
    out: dict[str, MarketInfo] = {}
    for i, u in enumerate(universe):
        name = str(u.get("name", ""))
        if not name.startswith(dex + ":"):
            raise SnapshotError(f"dexes.{dex}.meta.universe[{i}]: {name!r} is not named {dex}:COIN")
        if u.get("isDelisted"):
            continue
        ctx = asset_ctxs[i] if asset_ctxs is not None and i < len(asset_ctxs) else None
        mid_raw = mids.get(name)
        if mid_raw is None and ctx is not None:
            mid_raw = ctx.get("midPx") or ctx.get("markPx")
        if mid_raw is None:
            continue
        funding = number(ctx["funding"], f"{name}.funding") if ctx and ctx.get("funding") is not None else None
        out[name] = MarketInfo(
            coin=name,
            market="perp",
            asset=HIP3_ASSET_OFFSET + index * DEX_ASSET_STRIDE + i,
            wire_name=name,
            sz_decimals=int(u["szDecimals"]),
            max_leverage=int(u["maxLeverage"]) if u.get("maxLeverage") is not None else None,
            mid=number(mid_raw, f"dexes.{dex}.{name}.mid"),
            book=parse_book(books[name], f"l2Books.{name}") if name in books else None,
            funding=funding,
            dex=dex,
            collateral=collateral,
            only_isolated=bool(u.get("onlyIsolated", False)),
            fee_scale=fee_scale(u.get("deployerFeeScale", dex_scale), u.get("growthMode")),
        )
    return out
