"""Build snapshots in Hyperliquid's own /info shapes for tests (numbers as strings, as the API sends them)."""

from __future__ import annotations

from typing import Any

PERPS = [("BTC", 5, 40), ("ETH", 4, 25), ("SOL", 2, 20), ("AVAX", 2, 10), ("DOGE", 0, 10)]
MIDS = {"BTC": 104000.0, "ETH": 2500.0, "SOL": 150.0, "AVAX": 20.0, "DOGE": 0.2, "@1": 50000.0}


def snapshot(
    *,
    perp_positions: dict[str, float] | None = None,
    account_value: float = 0.0,
    spot: dict[str, tuple[float, float]] | None = None,
    usdc_spot: float = 0.0,
    mids: dict[str, float] | None = None,
) -> dict[str, Any]:
    """A snapshot with perps BTC/ETH/SOL/AVAX/DOGE and one spot pair UBTC/USDC (wire name '@1')."""
    mids = {**MIDS, **(mids or {})}
    positions = []
    for coin, szi in (perp_positions or {}).items():
        px = mids[coin]
        positions.append(
            {
                "type": "oneWay",
                "position": {
                    "coin": coin,
                    "szi": str(szi),
                    "leverage": {"type": "cross", "value": 5},
                    "entryPx": str(px),
                    "positionValue": str(abs(szi) * px),
                    "unrealizedPnl": "0.0",
                    "returnOnEquity": "0.0",
                    "liquidationPx": None,
                    "marginUsed": str(abs(szi) * px / 5),
                    "maxLeverage": 40,
                    "cumFunding": {"allTime": "0.0", "sinceOpen": "0.0", "sinceChange": "0.0"},
                },
            }
        )
    summary = {"accountValue": str(account_value), "totalNtlPos": "0.0", "totalRawUsd": "0.0", "totalMarginUsed": "0.0"}
    balances = [{"coin": "USDC", "token": 0, "hold": "0.0", "total": str(usdc_spot), "entryNtl": "0.0"}]
    for token, (total, hold) in (spot or {}).items():
        balances.append({"coin": token, "token": 1, "hold": str(hold), "total": str(total), "entryNtl": "0.0"})
    return {
        "user": "0x0000000000000000000000000000000000000001",
        "meta": {"universe": [{"name": n, "szDecimals": d, "maxLeverage": lev} for n, d, lev in PERPS]},
        "spotMeta": {
            "tokens": [
                {"name": "USDC", "szDecimals": 8, "weiDecimals": 8, "index": 0, "tokenId": "0x0", "isCanonical": True},
                {
                    "name": "UBTC",
                    "szDecimals": 5,
                    "weiDecimals": 10,
                    "index": 1,
                    "tokenId": "0x1",
                    "isCanonical": False,
                },
            ],
            "universe": [{"name": "@1", "tokens": [1, 0], "index": 1, "isCanonical": False}],
        },
        "clearinghouseState": {
            "assetPositions": positions,
            "marginSummary": summary,
            "crossMarginSummary": summary,
            "crossMaintenanceMarginUsed": "0.0",
            "withdrawable": str(account_value),
            "time": 1763776000000,
        },
        "spotClearinghouseState": {"balances": balances},
        "allMids": {k: str(v) for k, v in mids.items()},
        "l2Books": {},
    }
