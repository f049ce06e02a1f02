"""Issue 9, defect 8: every error shape the exchange can answer is read, with or without a ``code``.

The SDK's own handler raised ``KeyError: 'code'`` on a JSON 4xx without that field, which stopped a plan
after its first order and made a read-side 429 with a JSON body unretryable. Through the real SDK against
the stand-in's JSON-4xx knob, aimed at one request type.
"""

from __future__ import annotations

import pytest

from agent.core.errors import ExchangeError, TemporaryExchangeError
from agent.services.trading.executor import Executor

from .conftest import ROTATE, exchange_orders, make_plan

BODIES = [
    pytest.param({"error": "bad request"}, id="no-code"),
    pytest.param({"code": 7}, id="code-no-msg"),
    pytest.param(["not", "an", "object"], id="list"),
    pytest.param("just a string", id="string"),
    pytest.param(None, id="null"),
]


@pytest.mark.parametrize("body", BODIES)
def test_a_json_4xx_on_one_order_rejects_that_order_and_the_plan_goes_on(adapter, server, store, body):
    plan = make_plan(adapter, ROTATE)
    assert len(plan.actions) >= 3
    server.faults.kind = "order"
    server.faults.http_4xx_json_next = 1
    server.faults.body_4xx = body
    report = Executor(adapter, store, mode="live").execute(plan)
    first = report.actions[0]
    assert first.state == "rejected" and "HTTP 400" in (first.error or "")
    # the rest of the plan was sent: every other action reached the exchange
    assert len(exchange_orders(server)) == len(plan.actions) - 1
    assert [a.state for a in report.actions[1:]] == ["filled"] * (len(plan.actions) - 1)


@pytest.mark.parametrize("status", [429, 500, 502])
def test_a_read_answered_429_or_5xx_with_a_json_body_is_retried(adapter, server, status):
    server.faults.kind = "clearinghouseState"
    if status == 429:
        server.faults.status_4xx, server.faults.http_4xx_json_next = 429, 2
        server.faults.body_4xx = {"error": "rate limited"}
    else:
        server.faults.status_5xx, server.faults.http_5xx_next = status, 2
    state = adapter.account_state()  # two faulty answers, then the third try reads
    assert state.positions
    assert server.faults.http_4xx_json_next == server.faults.http_5xx_next == 0


def test_reads_give_up_after_the_bounded_retries_with_a_temporary_error(make_adapter, server):
    adapter = make_adapter(info_retries=1)
    adapter.market()
    server.faults.kind = "clearinghouseState"
    server.faults.status_4xx, server.faults.http_4xx_json_next = 429, 5
    server.faults.body_4xx = {"error": "rate limited"}
    with pytest.raises(TemporaryExchangeError, match="clearinghouseState"):
        adapter.account_state()


def test_a_json_4xx_on_a_read_is_a_clear_exchange_error(adapter, server):
    server.faults.kind = "frontendOpenOrders"
    server.faults.http_4xx_json_next = 1
    server.faults.body_4xx = {"msg": "no such user"}
    with pytest.raises(ExchangeError, match="HTTP 400: no such user"):
        adapter.open_orders()
