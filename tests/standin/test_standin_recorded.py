"""Real recorded Hyperliquid responses (2023-2025 shapes) load into the stand-in's parsers, and a
stand-in built from them answers in the current shapes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hyperliquid.info import Info

from agent.standin import StandIn, serve, views
from agent.standin.snapshot import (
    parse_all_mids,
    parse_candles,
    parse_clearinghouse_state,
    parse_fills,
    parse_funding,
    parse_meta,
    parse_open_orders,
)

CASSETTES = Path(__file__).parent / "fixtures" / "hl-recorded"

# The older clearinghouseState shape the 2023 docs showed (positions with maxTradeSzs; no cumFunding,
# maxLeverage, crossMaintenanceMarginUsed or time). Written out here because no cassette records it.
OLD_CLEARINGHOUSE_STATE: dict[str, Any] = {
    "assetPositions": [
        {
            "position": {
                "coin": "ETH",
                "entryPx": "2986.3",
                "leverage": {"rawUsd": "-95.059824", "type": "isolated", "value": 20},
                "liquidationPx": "2866.26936529",
                "marginUsed": "4.967826",
                "maxTradeSzs": ["0.0", "0.0"],
                "positionValue": "100.02765",
                "returnOnEquity": "-0.0026789",
                "szi": "0.0335",
                "unrealizedPnl": "-0.0134",
            },
            "type": "oneWay",
        }
    ],
    "crossMarginSummary": {
        "accountValue": "13104.514502",
        "totalMarginUsed": "0.0",
        "totalNtlPos": "0.0",
        "totalRawUsd": "13104.514502",
    },
    "marginSummary": {
        "accountValue": "13109.482328",
        "totalMarginUsed": "4.967826",
        "totalNtlPos": "100.02765",
        "totalRawUsd": "13009.454678",
    },
    "withdrawable": "13104.514502",
}


#: the cassettes these tests were written against (the folder holds the whole shared set)
STANDIN_CASSETTES = (
    "test_get_all_mids.yaml",
    "test_get_candles_snapshot.yaml",
    "test_get_frontend_open_orders.yaml",
    "test_get_funding_history[1684811870000].yaml",
    "test_get_info.yaml",
    "test_get_open_orders.yaml",
    "test_get_user_fills.yaml",
    "test_historical_orders.yaml",
    "test_user_rate_limit.yaml",
)


def recorded() -> dict[str, tuple[dict[str, Any], Any]]:
    """type -> (request body, parsed response) for every interaction in the copied cassettes."""
    out: dict[str, tuple[dict[str, Any], Any]] = {}
    for path in (CASSETTES / name for name in STANDIN_CASSETTES):
        for interaction in yaml.safe_load(path.read_text())["interactions"]:
            request = json.loads(interaction["request"]["body"])
            out[request["type"]] = (request, json.loads(interaction["response"]["body"]["string"]))
    return out


RECORDED = recorded()

PARSERS = {
    "meta": parse_meta,
    "allMids": parse_all_mids,
    "openOrders": parse_open_orders,
    "frontendOpenOrders": parse_open_orders,
    "userFills": parse_fills,
    "candleSnapshot": parse_candles,
    "fundingHistory": parse_funding,
    "historicalOrders": lambda rows: parse_open_orders([row["order"] for row in rows]),
}


def test_the_copied_cassettes_cover_the_parsed_types():
    assert set(PARSERS) | {"userRateLimit"} == set(RECORDED)


@pytest.mark.parametrize("kind", sorted(PARSERS))
def test_recorded_response_parses(kind):
    _request, response = RECORDED[kind]
    parsed = PARSERS[kind](response)
    rows = response["universe"] if kind == "meta" else response
    assert len(parsed) == len(rows) > 0


def test_old_clearinghouse_state_parses_with_ledger_identity():
    max_lev = {m.coin: m.max_leverage for m in parse_meta(RECORDED["meta"][1])}
    state = parse_clearinghouse_state(OLD_CLEARINGHOUSE_STATE, max_lev)
    [pos] = state.positions
    assert (pos.coin, pos.leverage_type, pos.leverage) == ("ETH", "isolated", 20)
    assert str(state.raw_usd) == "13009.454678"


#: the mark at which OLD_CLEARINGHOUSE_STATE was recorded: positionValue / szi = 100.02765 / 0.0335
RECORDED_ETH_MARK = "2985.9"


def test_an_isolated_position_is_margined_on_its_own_as_recorded():
    """The recorded isolated ETH long (20x, rawUsd −95.06): its own margin, its liquidation price and the
    cross summary without it, as Hyperliquid answered them."""
    snapshot = {
        "user": RECORDED["userFills"][0]["user"],
        "meta": RECORDED["meta"][1],
        "allMids": {**RECORDED["allMids"][1], "ETH": RECORDED_ETH_MARK},
        "clearinghouseState": OLD_CLEARINGHOUSE_STATE,
    }
    state = views.clearinghouse_state(StandIn.from_snapshot(snapshot), {}, True)
    [entry] = state["assetPositions"]
    recorded = OLD_CLEARINGHOUSE_STATE["assetPositions"][0]["position"]
    assert entry["position"]["leverage"] == recorded["leverage"]
    for key in ("marginUsed", "liquidationPx", "positionValue"):
        assert float(entry["position"][key]) == pytest.approx(float(recorded[key]), rel=1e-4), key
    for key in ("accountValue", "totalRawUsd", "totalMarginUsed"):
        want = OLD_CLEARINGHOUSE_STATE["crossMarginSummary"][key]
        assert float(state["crossMarginSummary"][key]) == pytest.approx(float(want), abs=0.01), key
    assert float(state["withdrawable"]) == pytest.approx(float(OLD_CLEARINGHOUSE_STATE["withdrawable"]), abs=0.01)


def test_a_stand_in_built_from_old_shapes_answers_in_current_shapes():
    fills_request, fills = RECORDED["userFills"]
    user = fills_request["user"]
    snapshot = {
        "user": user,
        "meta": RECORDED["meta"][1],
        # the mids were recorded on another day (ETH 1903.95): at that price the isolated ETH long is past
        # its liquidation price; here ETH is at the mark the position was recorded at
        "allMids": {**RECORDED["allMids"][1], "ETH": RECORDED_ETH_MARK},
        "clearinghouseState": OLD_CLEARINGHOUSE_STATE,
        "openOrders": RECORDED["openOrders"][1],
        "userFills": fills,
        "candles": {"kPEPE": {"1h": RECORDED["candleSnapshot"][1]}},
        "fundingHistory": {"BTC": RECORDED["fundingHistory"][1]},
    }
    with serve(StandIn.from_snapshot(snapshot)) as server:
        info = Info(server.url, skip_ws=True, meta=snapshot["meta"], spot_meta={"tokens": [], "universe": []})
        state = info.user_state(user)
        position = state["assetPositions"][0]["position"]
        assert {"cumFunding", "maxLeverage"} <= set(position) and "maxTradeSzs" not in position
        assert {"crossMaintenanceMarginUsed", "time"} <= set(state)
        served_fills = info.user_fills(user)
        assert len(served_fills) == len(fills)
        assert served_fills[0]["hash"] == fills[0]["hash"]  # newest first, as recorded
        assert {"tid", "feeToken"} <= set(served_fills[0])
        orders = info.open_orders(user)
        assert len(orders) == len(RECORDED["openOrders"][1])
        assert all("origSz" in o for o in orders)
        candle_req = RECORDED["candleSnapshot"][0]["req"]
        candles = info.candles_snapshot("kPEPE", "1h", candle_req["startTime"], candle_req["endTime"])
        assert candles and candles[0]["s"] == "kPEPE"
        funding = info.funding_history("BTC", 0)
        assert [f["time"] for f in funding] == [f["time"] for f in RECORDED["fundingHistory"][1]]
