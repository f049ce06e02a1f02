"""A HIP-3 dex for the demo account: ``xyz`` with two real asset contexts, and a TSLA position on it.

Data: the two contexts are the first two of dex ``xyz`` in a real ``allDexsAssetCtxs`` websocket message
(``../shared/data/crypto-market/hyperliquid/ws_all_dexs_asset_ctxs.json``, from nautilus_trader's test
data, see agent/data/README.md), copied unchanged. That message carries no coin names: index 1 (mid
433.6) is named ``xyz:TSLA`` and index 0 (mid 29,854) ``xyz:XYZ100`` from their price levels, an
inference that is not confirmed. The ``perpDexs`` entry and the meta entries (szDecimals, maxLeverage,
``onlyIsolated``, ``deployerFeeScale``) are illustrative, in the documented shapes; here ``xyz`` sits at
index 1 of ``perpDexs`` (asset ids 110000 + i), which on mainnet it does not.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from agent.standin import views
from agent.standin.build_demo import _scaled_book
from agent.standin.engine import StandIn
from agent.standin.modes import with_mode
from agent.standin.rules import dec, fmt

XYZ_CTXS: list[dict[str, Any]] = [
    {
        "funding": "0.00000625", "openInterest": "11588.365", "prevDayPx": "29760.0",
        "dayNtlVlm": "153201237.9617999196", "premium": "-0.0001172215", "oraclePx": "29858.0",
        "markPx": "29855.0", "midPx": "29854.5", "impactPxs": ["29854.0", "29855.0"], "dayBaseVlm": "5135.2458",
    },
    {
        "funding": "-0.0000068725", "openInterest": "87563.654", "prevDayPx": "431.33",
        "dayNtlVlm": "5038245.83519", "premium": "-0.0007304989", "oraclePx": "433.95",
        "markPx": "433.64", "midPx": "433.635", "impactPxs": ["433.577", "433.689"], "dayBaseVlm": "11640.042",
    },
]  # fmt: skip
XYZ_META: dict[str, Any] = {
    "universe": [
        {"name": "xyz:XYZ100", "szDecimals": 4, "maxLeverage": 20, "onlyIsolated": True, "deployerFeeScale": "1.0"},
        {"name": "xyz:TSLA", "szDecimals": 3, "maxLeverage": 10, "onlyIsolated": True, "deployerFeeScale": "1.0"},
    ],
    "marginTables": [],
    "collateralToken": 0,
}
PERP_DEXS: list[Any] = [
    None,
    {
        "name": "xyz",
        "fullName": "XYZ (illustrative entry)",
        "deployer": "0x88806a71d74ad0a510b350545c9ae490912f0888",
        "oracleUpdater": None,
        "feeRecipient": None,
        "assetToStreamingOiCap": [],
        "deployerFeeScale": "1.0",
    },
]


def with_xyz(
    snapshot: Mapping[str, Any],
    *,
    tsla: Decimal = Decimal("2"),
    dex_usdc: Decimal = Decimal("300"),
    mode: str = "disabled",
    perp_usdc: Decimal = Decimal("599.29"),
) -> dict[str, Any]:
    """The (unified) demo account with an ``xyz`` dex holding ``tsla`` xyz:TSLA (isolated 5x, entry at
    the previous day's price) and ``dex_usdc`` of its own margin, then held in ``mode``."""
    out = with_mode(snapshot, "disabled", perp_usdc=perp_usdc)
    out["perpDexs"] = copy.deepcopy(PERP_DEXS)
    entry = dec(XYZ_CTXS[1]["prevDayPx"])
    seed = {
        "marginSummary": {"accountValue": "0", "totalRawUsd": fmt(dex_usdc - tsla * entry, 6)},
        "assetPositions": [
            {
                "type": "oneWay",
                "position": {
                    "coin": "xyz:TSLA",
                    "szi": fmt(tsla),
                    "entryPx": fmt(entry),
                    "leverage": {"type": "isolated", "value": 5},
                },
            }
        ]
        if tsla
        else [],
    }
    out["dexes"] = {
        "xyz": {
            "meta": copy.deepcopy(XYZ_META),
            "metaAndAssetCtxs": [copy.deepcopy(XYZ_META), copy.deepcopy(XYZ_CTXS)],
            "clearinghouseState": seed,
        }
    }
    btc_book = out["l2Books"]["BTC"]
    for item, ctx in zip(XYZ_META["universe"], XYZ_CTXS, strict=True):
        mid = dec(ctx["midPx"])
        half = (dec(ctx["impactPxs"][1]) - dec(ctx["impactPxs"][0])) / 2 / mid
        out["l2Books"][item["name"]] = _scaled_book(
            btc_book, item["name"], mid, half, Decimal("0.05"), item["szDecimals"], spot=False
        )
    time_ms = out.get("time")
    kwargs: dict[str, Any] = {"clock": (lambda: time_ms / 1000)} if isinstance(time_ms, int) else {}
    ex = StandIn.from_snapshot(out, **kwargs)
    out["dexes"]["xyz"]["clearinghouseState"] = views.clearinghouse_state(ex, {"dex": "xyz"}, True)
    return with_mode(out, mode) if mode not in ("disabled", "default") else out
