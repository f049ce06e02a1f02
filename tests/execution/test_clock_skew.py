"""Issue 9, defect 6: expiry and resend decisions follow the exchange's clock, not ours.

With the local clock ten minutes off the exchange's and the first order delivered late (after the client
gave up), the original and its resend both filled: the order was signed to live ten minutes, and the
resend rule waited on the local clock. Now ``expiresAfter`` is set on the exchange's clock and a resend
waits until the exchange's own time is past it. Skew is injected on both sides: the client's clock
(adapter and executor) and the stand-in's.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

from agent.adapters.hyperliquid.client import HyperliquidExchange
from agent.services.trading.executor import Executor
from agent.standin import DEMO_ACCOUNT_ADDRESS, DEMO_SECRET_KEY, Faults, StandIn, load_demo_snapshot, serve

from .conftest import make_plan

SKEWS = [
    pytest.param(600.0, 0.0, id="local-clock-10-min-ahead"),
    pytest.param(0.0, 600.0, id="exchange-clock-10-min-ahead"),
    pytest.param(-300.0, 300.0, id="both-skewed"),
]


def skewed(offset_s: float):
    return lambda: time.time() + offset_s


@pytest.mark.parametrize("local_skew, exchange_skew", SKEWS)
def test_a_late_first_order_and_its_resend_never_both_fill(tmp_path, store, local_skew, exchange_skew):
    standin = StandIn.from_snapshot(load_demo_snapshot(), clock=skewed(exchange_skew))
    with serve(standin, faults=Faults()) as server:
        preexisting = set(standin.account.orders)
        adapter = HyperliquidExchange(
            server.url,
            account_address=DEMO_ACCOUNT_ADDRESS,
            secret_key=DEMO_SECRET_KEY,
            timeout=1.0,
            order_ttl_s=0.5,
            backoff_s=0.01,
            clock=skewed(local_skew),
        )
        # sell part of the UETH: the account could sell it twice, so a duplicate would fill
        weights = adapter.account_state().weights(adapter.market())
        target = {c: w for c, w in weights.items() if w > 0}
        target["UETH/USDC"] -= 0.08
        target["USDC"] += 0.08
        plan = make_plan(adapter, target)
        assert [(a.coin, a.side) for a in plan.actions] == [("UETH/USDC", "sell")]
        # the first order arrives 2 s late: after the client's 1 s timeout, and after its 0.5 s life
        server.faults.kind = "order"
        server.faults.late_next, server.faults.late_s = 1, 2.0
        report = Executor(adapter, store, mode="live", clock=skewed(local_skew)).execute(plan)
        deadline = time.monotonic() + 30
        while server.faults.late_landed < 1:  # let the late delivery land (or be refused as expired)
            assert time.monotonic() < deadline, "the late delivery never landed"
            time.sleep(0.01)
        with standin.lock:
            orders = [o for oid, o in standin.account.orders.items() if oid not in preexisting]
            fills = list(standin.account.fills)
    per_action: Counter[int] = Counter()
    rows = {r.cloid: r for r in store.journal.rows(plan_id=plan.plan_id)}
    for f in fills:
        per_action[rows[f["cloid"]].action_index] += float(f["sz"])
    over = {
        plan.actions[i].coin: (sz, plan.actions[i].size)
        for i, sz in per_action.items()
        if sz > plan.actions[i].size + 1e-9
    }
    assert not over, f"an action filled beyond its size (original and resend both filled): {over}"
    first = report.actions[0]
    assert first.attempts == 2 and first.state == "filled", first  # the late one expired; the resend filled
    assert len({o.cloid for o in orders}) == len(orders)
    assert abs(adapter.clock_offset_s - (exchange_skew - local_skew)) < 1.0


def test_the_adapter_signs_orders_to_expire_on_the_exchanges_clock(server):
    adapter = HyperliquidExchange(
        server.url,
        account_address=DEMO_ACCOUNT_ADDRESS,
        secret_key=DEMO_SECRET_KEY,
        order_ttl_s=30,
        clock=skewed(-3600.0),  # an hour behind: orders signed on it would be void on arrival
    )
    assert abs(adapter.server_time_ms(fresh=True) / 1000 - time.time()) < 1.0
    assert abs(adapter.clock_offset_s - 3600.0) < 1.0
    assert adapter.cancel_by_cloid("BTC", "0x" + "0" * 32) is False  # signed, accepted as not expired
