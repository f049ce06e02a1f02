"""Recorded real Hyperliquid /info answers parse through the adapter's readers; the journal's rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from agent.adapters.hyperliquid.answers import (
    classify_order_answer,
    classify_order_lookup,
    parse_fill,
    parse_open_order,
)
from agent.adapters.hyperliquid.parsing import parse_market
from agent.adapters.paper import PaperExchange
from agent.adapters.store.journal import ABANDONED, FILLED, PENDING, SENT, UNKNOWN, JournalError
from agent.core.domain import Market, MarketInfo, PortfolioState
from agent.core.orders import Fill, OrderIntent, make_cloid

# Reuse the cassettes the stand-in's tests copied; the full shared set when it is present.
COPIED = Path(__file__).parents[1] / "standin" / "fixtures" / "hl-recorded"
SHARED = Path(__file__).parents[3] / "shared" / "hl-recorded"  # ../shared when present
CASSETTES = sorted({p.name: p for d in (SHARED, COPIED) if d.is_dir() for p in d.glob("*.yaml")}.values())

#: the /info types the adapter reads, and how; other recorded types (staking, vaults...) it never asks for.
READERS = {
    "meta": lambda r: parse_market(r, None, {u["name"]: "1.0" for u in r["universe"]}),
    "allMids": lambda r: [float(v) for v in r.values()],
    "userFills": lambda r: [parse_fill(f) for f in r],
    "userFillsByTime": lambda r: [parse_fill(f) for f in r],
    "openOrders": lambda r: [parse_open_order(o) for o in r],
    "frontendOpenOrders": lambda r: [parse_open_order(o) for o in r],
    "historicalOrders": lambda r: [
        classify_order_lookup({"status": "order", "order": row}, "0x" + "0" * 32) for row in r
    ],
}


def _interactions():
    for path in CASSETTES:
        for it in yaml.safe_load(path.read_text())["interactions"]:
            request = json.loads(it["request"]["body"])
            yield path.name, request["type"], json.loads(it["response"]["body"]["string"])


RECORDED = list(_interactions())


def test_cassettes_are_there():
    assert RECORDED and {"meta", "allMids", "userFills", "openOrders"} <= {k for _, k, _ in RECORDED}


@pytest.mark.parametrize("name, kind, response", RECORDED, ids=[f"{n}:{k}" for n, k, _ in RECORDED])
def test_every_recorded_response_the_adapter_reads_parses(name, kind, response):
    if kind not in READERS:
        pytest.skip(f"{kind}: not read by the adapter")
    parsed = READERS[kind](response)
    assert parsed is not None
    if kind == "historicalOrders":
        assert all(r is not None and r.status in {"filled", "open", "partial", "canceled", "rejected"} for r in parsed)


def intent(n: int = 1, **kw) -> OrderIntent:
    args = dict(
        cloid=make_cloid("p", 0, n),
        asset=0,
        wire_name="BTC",
        coin="BTC",
        is_buy=True,
        size=0.001,
        limit_px=100000.0,
        sz_decimals=5,
    )
    args.update(kw)
    return OrderIntent(**args)


def test_order_answers_classified():
    orders = [intent(1), intent(2, size=0.002), intent(3), intent(4)]
    answer = {
        "status": "ok",
        "response": {
            "type": "order",
            "data": {
                "statuses": [
                    {"filled": {"totalSz": "0.001", "avgPx": "99999.0", "oid": 1}},
                    {"filled": {"totalSz": "0.001", "avgPx": "99999.0", "oid": 2}},
                    {"resting": {"oid": 3}},
                    {"error": "Order must have minimum value of $10. asset=0"},
                ]
            },
        },
    }
    got = [r.status for r in classify_order_answer(answer, orders)]
    assert got == ["filled", "partial", "resting", "rejected"]
    err = classify_order_answer({"status": "err", "response": "User or API Wallet 0xabc does not exist."}, orders[:2])
    assert [r.status for r in err] == ["rejected", "rejected"]
    from agent.core.errors import OrderOutcomeUnknown

    for bad in (
        {"error": 'Could not parse JSON: {"sta'},
        {"status": "ok"},
        "x",
        {"status": "ok", "response": {"type": "order", "data": {"statuses": []}}},
    ):
        with pytest.raises(OrderOutcomeUnknown):
            classify_order_answer(bad, orders[:1])


def test_journal_states_move_forward_only(store):
    j = store.journal
    i = intent()
    cloid = j.intend("p", 0, 1, i)
    assert cloid == i.cloid and j.intend("p", 0, 1, i) == cloid  # idempotent
    with pytest.raises(JournalError):
        j.intend("p", 0, 1, i.model_copy(update={"size": 0.002}))
    with pytest.raises(JournalError):
        j.intend("p", 0, 2, i)  # not the deterministic cloid of attempt 2
    with pytest.raises(JournalError):
        j.mark(cloid, FILLED)  # PENDING → FILLED skips SENT
    j.mark(cloid, SENT)
    j.mark(cloid, UNKNOWN, error="timeout")
    j.mark(cloid, FILLED, oid=7, filled_sz=0.001, avg_px=99999.0)
    with pytest.raises(JournalError):
        j.mark(cloid, ABANDONED)  # final
    assert [e["state"] for e in j.events(cloid)] == [PENDING, SENT, UNKNOWN, FILLED]
    row = j.get(cloid)
    assert (row.state, row.oid, row.filled_sz) == (FILLED, 7, 0.001)


def test_record_fills_is_idempotent_on_tid(store):
    j = store.journal
    f = Fill(coin="BTC", px=1.0, sz=2.0, side="B", time=1, fee=0.1, tid="42")
    assert j.record_fills([f, f]) == 1 and j.record_fills([f]) == 0
    spot_buy = Fill(coin="@142", px=100.0, sz=1.0, side="B", time=1, fee=0.0007, fee_token="UBTC", tid="43")
    assert spot_buy.fee_usd == pytest.approx(0.07)


def test_paper_on_a_fixed_market_without_books_fills_at_the_limit():
    market = Market(
        assets={"BTC": MarketInfo(coin="BTC", market="perp", asset=0, wire_name="BTC", sz_decimals=5, mid=100000.0)}
    )
    paper = PaperExchange(market, PortfolioState(perp_account_value=1000.0, perp_withdrawable=1000.0))
    [r] = paper.place_orders([intent(size=0.005, limit_px=100100.0)])
    assert (r.status, r.avg_px, r.filled_sz) == ("filled", 100100.0, 0.005)
    [dup] = paper.place_orders([intent(size=0.005, limit_px=100100.0)])
    assert dup.status == "rejected"
    [far] = paper.place_orders([intent(2, size=0.005, limit_px=99000.0)])  # a buy below the mid: no match
    assert far.status == "rejected"
    [big] = paper.place_orders([intent(3, size=0.05, limit_px=100100.0)])  # $5000 on $1000 at 1x
    assert big.status == "rejected" and "margin" in big.error
    state = paper.account_state()
    assert state.positions["BTC"].size == pytest.approx(0.005)
    assert state.perp_account_value == pytest.approx(1000.0 - 0.005 * 100 - 0.005 * 100100 * 0.00045)
    assert paper.order_status(intent().cloid).status == "filled" and paper.order_status(make_cloid("x", 0, 1)) is None
