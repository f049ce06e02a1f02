"""The stand-in counts request weight as Hyperliquid does, and a test or a benchmark can read the count."""

from __future__ import annotations

import httpx

from agent.standin import load_demo_snapshot, serve
from agent.standin.weights import RequestLog, duplicates, exchange_weight, info_weight


def test_info_weights_follow_hyperliquids_table():
    for kind in ("l2Book", "allMids", "clearinghouseState", "spotClearinghouseState", "orderStatus", "exchangeStatus"):
        assert info_weight(kind) == 2
    assert info_weight("userRole") == 60
    assert info_weight("meta") == info_weight("frontendOpenOrders") == info_weight("userAbstraction") == 20
    # candleSnapshot: 1 more per 60 candles returned; fills and funding: 1 more per 20 items
    assert info_weight("candleSnapshot", [{}] * 59) == 20
    assert info_weight("candleSnapshot", [{}] * 120) == 22
    assert info_weight("userFillsByTime", [{}] * 45) == 22
    assert info_weight("userFunding", [{}] * 19) == 20
    assert info_weight("meta", [{}] * 500) == 20  # only the listed kinds pay per item


def test_exchange_weight_is_one_plus_batch_over_40():
    assert exchange_weight({"action": {"type": "scheduleCancel"}}) == 1
    assert exchange_weight({"action": {"type": "order", "orders": [{}] * 39}}) == 1
    assert exchange_weight({"action": {"type": "order", "orders": [{}] * 79}}) == 2
    assert exchange_weight({"action": {"type": "cancel", "cancels": [{}] * 80}}) == 3


def test_duplicates_are_identical_reads_with_no_action_between():
    log = RequestLog()
    log.record("/info", {"type": "allMids"}, {})
    log.record("/info", {"user": "0xa", "type": "clearinghouseState"}, {})
    log.record("/info", {"type": "clearinghouseState", "user": "0xa"}, {})  # the same body, keys reordered
    log.record("/exchange", {"action": {"type": "order", "orders": [{}]}})
    log.record("/info", {"type": "allMids"}, {})  # after an action: a new question of the exchange
    assert duplicates(log.since()) == ['{"type":"clearinghouseState","user":"0xa"}']
    assert log.weight() == 2 + 2 + 2 + 1 + 2


def test_the_server_logs_every_request_and_serves_the_log():
    with serve(load_demo_snapshot()) as server, httpx.Client(base_url=server.url) as c:
        c.post("/info", json={"type": "allMids"}).raise_for_status()
        c.post("/info", json={"type": "meta"}).raise_for_status()
        assert c.post("/info", json={"type": "noSuchKind"}).status_code == 422
        log = c.get("/standin/requests").json()
        assert log["count"] == 2 and log["weight"] == 22
        assert [r["kind"] for r in log["requests"]] == ["allMids", "meta"]
        since = c.get("/standin/requests", params={"since": 1}).json()
        assert since["weight"] == 20 and len(since["requests"]) == 1
        assert len(server.requests) == 2  # reading the log is not a request to the exchange
        assert c.get("/standin/requests", params={"since": "x"}).status_code == 400
        assert c.get("/elsewhere").status_code == 404
