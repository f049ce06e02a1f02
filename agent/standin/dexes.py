"""HIP-3 dexes in the stand-in: each builder dex from the snapshot's ``perpDexs`` and ``dexes`` answers.

A dex has its own ``meta`` (coins named ``dex:COIN``), asset ids 100000 + (its index in ``perpDexs``) ×
10000 + (the coin's index in its meta), its own perp USDC ledger on a standard account (each perp dex
"maintains its own balance"), assets that may be isolated-only, and a fee scale (``deployerFeeScale``,
docs "Fees": s < 1 ? s + 1 : 2s; growth mode ×0.1). On a unified account its margin comes from the one
spot USDC balance (only USDC-collateral dexes are modelled).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from agent.standin.rules import dec
from agent.standin.snapshot import PerpState, parse_clearinghouse_state
from agent.standin.state import Market

HIP3_ASSET_OFFSET = 100_000
DEX_STRIDE = 10_000


def fee_scale(scale: Any, growth_mode: Any = None) -> Decimal:
    s = dec(scale) if scale is not None else Decimal(1)
    factor = s + 1 if s < 1 else 2 * s
    return factor * (Decimal("0.1") if growth_mode == "enabled" else Decimal(1))


@dataclass
class Dex:
    name: str
    index: int
    meta: dict[str, Any]
    ctxs: list[Any] | None
    markets: list[Market] = field(default_factory=list)
    state: PerpState | None = None


def parse_dexes(snapshot: Mapping[str, Any]) -> dict[str, Dex]:
    """The HIP-3 dexes the snapshot describes; each must be listed by its ``perpDexs``."""
    answers = snapshot.get("dexes") or {}
    if not answers:
        return {}
    listed = snapshot.get("perpDexs")
    if not isinstance(listed, list) or not listed or listed[0] is not None:
        raise ValueError("perpDexs: expected a list starting with null (the main dex)")
    index = {e["name"]: i for i, e in enumerate(listed) if isinstance(e, Mapping) and "name" in e}
    out: dict[str, Dex] = {}
    for name, ans in answers.items():
        if name not in index:
            raise ValueError(f"dexes: {name!r} is not listed by perpDexs")
        mac = ans.get("metaAndAssetCtxs")
        meta = ans.get("meta") or (mac[0] if mac else None)
        if not isinstance(meta, Mapping) or not isinstance(meta.get("universe"), list):
            raise ValueError(f"dexes.{name}: missing meta")
        dex = Dex(name, index[name], dict(meta), list(mac[1]) if mac else None)
        dex_scale = listed[index[name]].get("deployerFeeScale")
        for i, item in enumerate(meta["universe"]):
            coin = str(item["name"])
            if not coin.startswith(name + ":"):
                raise ValueError(f"dexes.{name}.meta: {coin!r} is not named {name}:COIN")
            dex.markets.append(
                Market(
                    asset=HIP3_ASSET_OFFSET + dex.index * DEX_STRIDE + i,
                    coin=coin,
                    sz_decimals=int(item["szDecimals"]),
                    spot=False,
                    max_leverage=int(item.get("maxLeverage", 50)),
                    delisted=bool(item.get("isDelisted", False)),
                    dex=name,
                    only_isolated=bool(item.get("onlyIsolated", False)),
                    fee_scale=fee_scale(item.get("deployerFeeScale", dex_scale), item.get("growthMode")),
                )
            )
        if ans.get("clearinghouseState"):
            dex.state = parse_clearinghouse_state(
                ans["clearinghouseState"], {m.coin: m.max_leverage for m in dex.markets}
            )
        out[name] = dex
    return out
