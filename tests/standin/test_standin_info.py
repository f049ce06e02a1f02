"""Every /info type the stand-in serves answers in Hyperliquid's current shape, through the real SDK."""

from __future__ import annotations

from typing import Any

import pytest
from hyperliquid.utils.error import ClientError

from agent.standin import StandInServer

MARGIN_KEYS = {"accountValue", "totalNtlPos", "totalRawUsd", "totalMarginUsed"}
POSITION_KEYS = {
    "coin",
    "szi",
    "leverage",
    "entryPx",
    "positionValue",
    "unrealizedPnl",
    "returnOnEquity",
    "liquidationPx",
    "marginUsed",
    "maxLeverage",
    "cumFunding",
}
FILL_KEYS = {
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
    "tid",
    "feeToken",
}
FRONTEND_KEYS = {
    "coin",
    "side",
    "limitPx",
    "sz",
    "oid",
    "timestamp",
    "triggerCondition",
    "isTrigger",
    "triggerPx",
    "children",
    "isPositionTpsl",
    "reduceOnly",
    "orderType",
    "origSz",
    "tif",
    "cloid",
}


def test_clearinghouse_state_has_the_current_shape(info, exchange, user):
    exchange.market_open("SOL", True, 1.0)
    state = info.user_state(user.address)
    assert set(state) == {
        "marginSummary",
        "crossMarginSummary",
        "crossMaintenanceMarginUsed",
        "withdrawable",
        "assetPositions",
        "time",
    }
    assert set(state["marginSummary"]) == MARGIN_KEYS
    [entry] = state["assetPositions"]
    assert entry["type"] == "oneWay"
    assert set(entry["position"]) == POSITION_KEYS
    assert entry["position"]["leverage"] == {"type": "cross", "value": 20}
    assert set(entry["position"]["cumFunding"]) == {"allTime", "sinceOpen", "sinceChange"}


def test_spot_clearinghouse_state_lists_balances(info, user):
    balances = info.spot_user_state(user.address)["balances"]
    assert [b["coin"] for b in balances] == ["USDC", "UBTC"]
    assert set(balances[1]) == {"coin", "token", "total", "hold", "entryNtl"}
    assert balances[1]["total"] == "0.1"


def test_queries_for_another_address_answer_like_an_empty_account(info, agent):
    state = info.user_state(agent.address)
    assert state["marginSummary"]["accountValue"] == "0.0"
    assert state["assetPositions"] == []
    assert info.spot_user_state(agent.address) == {"balances": []}
    assert info.open_orders(agent.address) == []
    assert info.user_fills(agent.address) == []


def test_meta_and_spot_meta_round_trip_the_snapshot(info, snapshot):
    meta = info.meta()
    assert meta["universe"] == snapshot["meta"]["universe"]
    assert meta["marginTables"] == [] and meta["collateralToken"] == 0
    spot_meta = info.spot_meta()
    assert spot_meta["universe"] == snapshot["spotMeta"]["universe"]
    for token in snapshot["spotMeta"]["tokens"]:  # at their index in a dense list (placeholders between)
        assert spot_meta["tokens"][token["index"]] == token


def test_meta_and_asset_ctxs_are_synthesized_when_the_snapshot_has_none(info):
    meta, ctxs = info.meta_and_asset_ctxs()
    assert len(ctxs) == len(meta["universe"]) == 3
    assert ctxs[0]["midPx"] == "100000.0"
    assert ctxs[0]["impactPxs"] == ["99999.0", "100001.0"]
    spot_meta, spot_ctxs = info.spot_meta_and_asset_ctxs()
    assert spot_ctxs[142]["coin"] == "@142"  # a pair's context sits at its index
    assert len(spot_ctxs) == max(p["index"] for p in spot_meta["universe"]) + 1


def test_all_mids_includes_spot_pairs(info):
    mids = info.all_mids()
    assert mids["BTC"] == "100000.0" and mids["@142"] == "100000.0"


@pytest.mark.parametrize("name, coin", [("BTC", "BTC"), ("UBTC/USDC", "@142")], ids=["perp", "spot-by-name"])
def test_l2_book_answers_for_perps_and_spot_pairs(info, name, coin):
    book = info.l2_snapshot(name)
    assert book["coin"] == coin
    bids, asks = book["levels"]
    assert set(bids[0]) == {"px", "sz", "n"}
    assert float(bids[0]["px"]) < float(asks[0]["px"])


def test_l2_book_for_an_unknown_coin_is_null(info):
    assert info.post("/info", {"type": "l2Book", "coin": "NOPE"}) is None


def test_order_views_show_a_resting_order(info, exchange, user, statuses):
    from hyperliquid.utils.types import Cloid

    cloid = Cloid.from_int(42)
    [status] = statuses(exchange.order("ETH", True, 0.01, 1500.0, {"limit": {"tif": "Gtc"}}, cloid=cloid))
    oid = status["resting"]["oid"]
    [plain] = info.open_orders(user.address)
    assert plain == {
        "coin": "ETH",
        "side": "B",
        "limitPx": "1500.0",
        "sz": "0.01",
        "oid": oid,
        "timestamp": plain["timestamp"],
        "origSz": "0.01",
        "cloid": cloid.to_raw(),
    }
    [front] = info.frontend_open_orders(user.address)
    assert set(front) == FRONTEND_KEYS
    assert front["tif"] == "Gtc" and front["orderType"] == "Limit"
    [hist] = info.historical_orders(user.address)
    assert hist["status"] == "open"


def test_order_status_for_an_unknown_order(info, user):
    assert info.query_order_by_oid(user.address, 123) == {"status": "unknownOid"}


def test_user_fills_have_the_current_shape(info, exchange, user):
    exchange.market_open("SOL", True, 1.0)
    [fill] = info.user_fills(user.address)
    assert set(fill) == FILL_KEYS
    by_time = info.user_fills_by_time(user.address, fill["time"], fill["time"])
    assert by_time == [fill]
    assert info.user_fills_by_time(user.address, fill["time"] + 1) == []


def test_candles_and_funding_are_served_from_the_snapshot(info):
    candles = info.candles_snapshot("SOL", "1d", 1770940800000, 1771027199999)
    assert [c["c"] for c in candles] == ["79.874"]
    assert info.candles_snapshot("SOL", "1d", 0, 1) == []
    funding = info.funding_history("SOL", 1770976800000)
    assert funding[0]["fundingRate"] == "-0.0000148456"
    assert info.funding_history("SOL", 0, 1) == []


def test_user_rate_limit_counts_requests_and_volume(info, exchange, user):
    exchange.market_open("SOL", True, 1.0)
    limits = info.user_rate_limit(user.address)
    assert set(limits) == {"cumVlm", "nRequestsUsed", "nRequestsCap"}
    assert float(limits["cumVlm"]) > 0
    assert limits["nRequestsUsed"] >= 1


def test_unknown_info_type_is_http_422(info):
    with pytest.raises(ClientError) as caught:
        info.post("/info", {"type": "noSuchThing"})
    assert caught.value.status_code == 422
    assert "unknown variant `noSuchThing`" in caught.value.error_message


def test_missing_user_is_http_422(info):
    with pytest.raises(ClientError) as caught:
        info.post("/info", {"type": "clearinghouseState"})
    assert caught.value.status_code == 422
    assert "missing field `user`" in caught.value.error_message


def test_extra_keys_like_dex_are_ignored(server: StandInServer, info, user):
    answer: Any = info.post("/info", {"type": "openOrders", "user": user.address, "dex": "", "extra": 1})
    assert answer == []
