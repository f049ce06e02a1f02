"""Build agent/data/demo_snapshot.json from the real data in ../shared (run once; the JSON is committed).

    python -m agent.standin.build_demo [--source /work/shared] [--out agent/data/demo_snapshot.json]

Nothing here runs at import or serve time. Every derivation is described in agent/data/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from agent.standin import views
from agent.standin.demo import DEMO_ACCOUNT_ADDRESS, DEMO_AGENT_ADDRESS
from agent.standin.engine import StandIn
from agent.standin.modes import with_mode
from agent.standin.rules import ZERO, dec, fmt, round_price, round_size

SNAPSHOT_TIME_MS = 1_771_027_200_000  # 2026-02-14 00:00 UTC, the day after the last SOL candle
DAY_MS = 86_400_000
#: Hyperliquid docs, "Margin tiers" (mainnet, lowest tier). Coins not on that page: see README.
MAX_LEVERAGE = {"BTC": 40, "ETH": 25, "SOL": 20, "XRP": 20}
MAX_LEVERAGE.update(
    dict.fromkeys(
        ["DOGE", "kPEPE", "SUI", "LTC", "LINK", "CRV", "AVAX", "APT", "BCH", "OP", "ARB", "LDO", "INJ", "BNB"], 10
    )
)
UNLISTED_MAX_LEVERAGE = 5
#: Real Hyperliquid spot tokens and pairs (token index, pair index, szDecimals, weiDecimals, underlying).
SPOT = [
    ("UBTC", 197, 142, 5, 10, "BTC", "Unit Bitcoin"),
    ("UETH", 221, 151, 4, 9, "ETH", "Unit Ethereum"),
    ("USOL", 254, 156, 3, 9, "SOL", "Unit Solana"),
]
USDC_TOKEN = {
    "name": "USDC",
    "szDecimals": 8,
    "weiDecimals": 8,
    "index": 0,
    "tokenId": "0x6d1e7cde53ba9467b783cb7c530ce054",
    "isCanonical": True,
    "evmContract": None,
    "fullName": None,
    "deployerTradingFeeShare": "0.0",
}
SPOT_DEPTH_FACTOR = Decimal("0.25")
MIN_DEPTH_FACTOR = Decimal("0.01")
# The demo account's holdings (their source: agent/data/README.md): spot balances and the AVAX perp.
SPOT_HOLDINGS = {"UBTC": Decimal("0.03482"), "UETH": Decimal("1.54158"), "USOL": Decimal("25.111")}
UETH_HOLD = Decimal("0.143")
SPOT_USDC = Decimal("77.71")
PERP_ACCOUNT_VALUE_AT_ENTRY = Decimal("599.29")
AVAX_SIZE = Decimal("55.66")  # seed's 55.662 rounded down to AVAX's szDecimals (2)
AVAX_LEVERAGE = 2


def _load_universe(source: Path) -> list[dict[str, Any]]:
    import yaml  # build-time only (PyYAML is in the dev environment)

    cassette = yaml.safe_load((source / "hl-recorded" / "test_get_info.yaml").read_text())
    body = json.loads(cassette["interactions"][0]["response"]["body"]["string"])
    return list(body["universe"])


def _scaled_book(
    btc: dict[str, Any],
    coin: str,
    mid: Decimal,
    half_spread: Decimal,
    factor: Decimal,
    sz_decimals: int,
    *,
    spot: bool,
) -> dict[str, Any]:
    """BTC's real book shape moved to ``mid``: same distance-from-touch (relative), scaled notional."""
    bids, asks = ([(dec(lv["px"]), dec(lv["sz"])) for lv in side] for side in btc["levels"])
    btc_mid = (bids[0][0] + asks[0][0]) / 2
    out: list[list[dict[str, Any]]] = []
    for levels, sign in ((bids, -1), (asks, 1)):
        touch = levels[0][0]
        merged: dict[Decimal, Decimal] = {}
        for px, sz in levels:
            rel = abs(px - touch) / btc_mid + half_spread
            raw_px = mid * (1 + sign * rel)
            new_px = round_price(raw_px, sz_decimals, spot=spot, up=sign > 0)
            new_sz = round_size(px * sz * factor / new_px, sz_decimals)
            if new_sz > ZERO:
                merged[new_px] = merged.get(new_px, ZERO) + new_sz
        ordered = sorted(merged.items(), reverse=sign < 0)
        out.append([{"px": fmt(p), "sz": fmt(s), "n": 1} for p, s in ordered])
    if out[0] and out[1] and dec(out[0][0]["px"]) >= dec(out[1][0]["px"]):
        raise ValueError(f"crossed book for {coin}")
    return {"coin": coin, "time": SNAPSHOT_TIME_MS, "levels": out}


def build(source: Path) -> dict[str, Any]:
    market_dir = source / "data" / "crypto-market" / "hyperliquid"
    universe_2023 = _load_universe(source)
    ctx_msg = json.loads((market_dir / "ws_all_dexs_asset_ctxs.json").read_text())
    main_dex = next(ctxs for dex, ctxs in ctx_msg["data"]["ctxs"] if dex == "")
    ctxs = main_dex[: len(universe_2023)]
    btc_book = json.loads((market_dir / "http_l2_book_btc.json").read_text())

    universe = []
    for item, ctx in zip(universe_2023, ctxs, strict=True):
        lev = MAX_LEVERAGE.get(item["name"], UNLISTED_MAX_LEVERAGE)
        entry = {"szDecimals": item["szDecimals"], "name": item["name"], "maxLeverage": lev, "marginTableId": lev}
        if ctx["midPx"] is None:
            entry["isDelisted"] = True
        universe.append(entry)
    tables = sorted({u["marginTableId"] for u in universe})
    meta = {
        "universe": universe,
        "marginTables": [
            [t, {"description": "", "marginTiers": [{"lowerBound": "0.0", "maxLeverage": t}]}] for t in tables
        ],
        "collateralToken": 0,
    }

    mids: dict[str, str] = {}
    books: dict[str, Any] = {}
    btc_vlm = dec(ctxs[0]["dayNtlVlm"])
    btc_half = (dec(btc_book["levels"][1][0]["px"]) - dec(btc_book["levels"][0][0]["px"])) / 2
    btc_half /= (dec(btc_book["levels"][1][0]["px"]) + dec(btc_book["levels"][0][0]["px"])) / 2
    factors: dict[str, Decimal] = {}
    for item, ctx in zip(universe, ctxs, strict=True):
        if ctx["midPx"] is None:
            continue
        coin, mid = item["name"], dec(ctx["midPx"])
        mids[coin] = ctx["midPx"]
        impact_bid, impact_ask = (dec(p) for p in ctx["impactPxs"])
        half = max(btc_half, (impact_ask - impact_bid) / 2 / mid)
        factors[coin] = min(Decimal(1), max(MIN_DEPTH_FACTOR, dec(ctx["dayNtlVlm"]) / btc_vlm))
        books[coin] = _scaled_book(btc_book, coin, mid, half, factors[coin], item["szDecimals"], spot=False)

    tokens = [USDC_TOKEN]
    spot_universe = []
    for name, token, pair, sz_dec, wei_dec, underlying, full in SPOT:
        token_id = "0x" + hashlib.sha256(f"illustrative:{name}".encode()).hexdigest()[:32]
        tokens.append(
            {
                "name": name,
                "szDecimals": sz_dec,
                "weiDecimals": wei_dec,
                "index": token,
                "tokenId": token_id,
                "isCanonical": False,
                "evmContract": None,
                "fullName": full,
                "deployerTradingFeeShare": "0.0",
            }
        )
        spot_universe.append({"tokens": [token, 0], "name": f"@{pair}", "index": pair, "isCanonical": False})
        mid = dec(mids[underlying])
        mids[f"@{pair}"] = mids[underlying]
        factor = max(MIN_DEPTH_FACTOR, factors[underlying] * SPOT_DEPTH_FACTOR)
        books[f"@{pair}"] = _scaled_book(btc_book, f"@{pair}", mid, btc_half, factor, sz_dec, spot=True)
    spot_meta = {"universe": spot_universe, "tokens": tokens}

    by_name = {name: (token, pair, underlying) for name, token, pair, _s, _w, underlying, _f in SPOT}
    balances = [{"coin": "USDC", "token": 0, "total": fmt(SPOT_USDC), "hold": "0.0", "entryNtl": "0.0"}]
    for name, total in SPOT_HOLDINGS.items():
        token, _pair, underlying = by_name[name]
        hold = UETH_HOLD if name == "UETH" else ZERO
        balances.append(
            {
                "coin": name,
                "token": token,
                "total": fmt(total),
                "hold": fmt(hold),
                "entryNtl": fmt(total * dec(mids[underlying]), 6),
            }
        )
    ueth_pair = by_name["UETH"][1]
    ueth_limit = round_price(dec(mids["ETH"]) * Decimal("1.10"), 4, spot=True, up=True)
    open_orders = [
        {
            "coin": f"@{ueth_pair}",
            "side": "A",
            "limitPx": fmt(ueth_limit),
            "sz": fmt(UETH_HOLD),
            "oid": 42_000_000_001,
            "timestamp": SNAPSHOT_TIME_MS - DAY_MS,
            "origSz": fmt(UETH_HOLD),
        }
    ]

    avax_ctx = ctxs[next(i for i, u in enumerate(universe) if u["name"] == "AVAX")]
    entry_px = dec(avax_ctx["prevDayPx"])
    seed_state = {
        "marginSummary": {
            "accountValue": "0",
            "totalRawUsd": fmt(PERP_ACCOUNT_VALUE_AT_ENTRY - AVAX_SIZE * entry_px, 6),
        },
        "assetPositions": [
            {
                "type": "oneWay",
                "position": {
                    "coin": "AVAX",
                    "szi": fmt(AVAX_SIZE),
                    "entryPx": fmt(entry_px),
                    "leverage": {"type": "cross", "value": AVAX_LEVERAGE},
                },
            }
        ],
    }
    snapshot: dict[str, Any] = {
        "user": DEMO_ACCOUNT_ADDRESS,
        "time": SNAPSHOT_TIME_MS,
        "meta": meta,
        "spotMeta": spot_meta,
        "clearinghouseState": seed_state,
        "spotClearinghouseState": {"balances": balances},
        "allMids": mids,
        "l2Books": books,
        "metaAndAssetCtxs": [meta, ctxs],
        "openOrders": open_orders,
        "approvedAgents": [DEMO_AGENT_ADDRESS],
    }
    # Render clearinghouseState in the current shape with the stand-in's own arithmetic, at the snapshot time.
    standin = StandIn.from_snapshot(snapshot, clock=lambda: SNAPSHOT_TIME_MS / 1000)
    snapshot["clearinghouseState"] = views.clearinghouse_state(standin, {}, True)

    funding = json.loads((market_dir / "sol_funding_history.json").read_text())
    snapshot["fundingHistory"] = {"SOL": [f for f in funding if f["time"] >= funding[-1]["time"] - 30 * DAY_MS]}
    candles = json.loads((market_dir / "sol_daily_candles.json").read_text())
    snapshot["candles"] = {"SOL": {"1d": candles[-120:]}}
    # The app's default for new users is the unified account (Hyperliquid docs, "Account abstraction modes"):
    # the demo account is one, its perp cash held as spot USDC (same positions, same equity).
    return with_mode(snapshot, "unifiedAccount")


def main() -> None:
    repo = Path(__file__).resolve().parents[2]
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", type=Path, default=repo.parent / "shared")
    parser.add_argument("--out", type=Path, default=repo / "agent" / "data" / "demo_snapshot.json")
    args = parser.parse_args()
    snapshot = build(args.source)
    args.out.write_text(json.dumps(snapshot, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
