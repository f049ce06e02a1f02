"""The executor end to end: real SDK → stand-in over loopback, journal in SQLite."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from agent.adapters.paper import PaperExchange
from agent.adapters.store.journal import ABANDONED, DRY_RUN, FILLED, PENDING, SENT, UNKNOWN, Journal
from agent.core.domain import CASH
from agent.core.errors import TemporaryExchangeError
from agent.services.trading.executor import Executor
from agent.standin import DEMO_AGENT_SECRET_KEY
from agent.standin.state import Level

from .conftest import ROTATE, SEED_002, cloids_at_exchange, exchange_fills, exchange_orders, make_plan


def drift(exchange: Any, target: dict[str, float]) -> float:
    state = exchange.account_state()
    market = exchange.market()
    w = state.weights(market)
    keys = set(w) | set(target)
    return 0.5 * sum(abs(w.get(k, 0.0) - target.get(k, 0.0)) for k in keys)


def assert_no_duplicates(server, plan, journal: Journal) -> None:
    """No cloid twice at the exchange; no action filled beyond its size; every exchange order journaled."""
    cloids = cloids_at_exchange(server)
    assert all(n == 1 for n in Counter(cloids).values()), Counter(cloids)
    rows = {r.cloid: r for r in journal.rows(plan_id=plan.plan_id)}
    assert set(cloids) <= set(rows), "an order at the exchange has no journal row"
    filled = Counter()
    for f in exchange_fills(server):
        row = rows[f["cloid"]]
        filled[row.action_index] += float(f["sz"])
    for i, a in enumerate(plan.actions):
        assert filled[i] <= a.size + 1e-9, (a.coin, filled[i], a.size)
    assert not journal.open_rows(), [r.state for r in journal.open_rows()]


def test_seed_002_plan_executes_and_the_account_ends_near_target(adapter, server, store):
    plan = make_plan(adapter, SEED_002)
    assert len(plan.actions) >= 3 and drift(adapter, SEED_002) > 0.05
    report = Executor(adapter, store, mode="live").execute(plan)
    assert report.status == "ok", report.errors
    assert [a.state for a in report.actions] == ["filled"] * len(plan.actions)
    assert report.orders_sent == len(exchange_orders(server)) == len(plan.actions)
    assert drift(adapter, SEED_002) < 0.01
    journal = store.journal
    assert {r.state for r in journal.rows(plan_id=plan.plan_id)} == {FILLED}
    assert report.fees_usd > 0 and report.realised_cost_usd >= report.fees_usd
    assert report.realised_cost_usd == pytest.approx(plan.estimated_cost.total_usd, rel=0.2)
    fills = store.journal.fills()
    assert len(fills) == len(exchange_fills(server))
    assert_no_duplicates(server, plan, journal)
    events = [e["state"] for e in journal.events(report.actions[0].cloids[0])]
    assert events == [PENDING, SENT, FILLED]


def test_capital_freeing_orders_go_first_then_buys_resized_to_the_cash(adapter, server, store):
    plan = make_plan(adapter, ROTATE)
    kinds = [a.kind for a in plan.actions]
    assert "increase" in kinds or "open" in kinds
    report = Executor(adapter, store, mode="live").execute(plan)
    assert report.status == "ok", report.errors
    order_coins = [o.coin for o in sorted(exchange_orders(server), key=lambda o: o.oid)]
    buy_wire = next(a.wire_name for a in plan.actions if a.side == "buy")
    assert order_coins[-1] == buy_wire  # the buy went last, after every sell
    assert drift(adapter, ROTATE) < 0.01
    spot_usdc = adapter.account_state().usdc_spot_total
    assert spot_usdc >= 0


def test_buys_are_resized_down_to_the_spot_cash_really_there(adapter, server, store):
    plan = make_plan(adapter, ROTATE)
    buy = next(a for a in plan.actions if a.side == "buy")

    class Draining:  # someone spends spot USDC while the sells run: only half the buy is paid for
        def __getattr__(self, name):
            return getattr(adapter, name)

        def account_state(self):
            server.exchange.account.balances[0].total = Decimal(str(round(buy.notional_usd / 2, 2)))
            return adapter.account_state()

    report = Executor(Draining(), store, mode="live").execute(plan)
    i = plan.actions.index(buy)
    assert report.actions[i].target_sz == pytest.approx(buy.size / 2, rel=0.01)
    assert report.actions[i].state == "filled" and report.status == "ok"
    assert report.actions[i].target_sz < buy.size
    assert "resized" in (report.actions[i].note or "")
    assert adapter.account_state().usdc_spot_total >= 0
    assert_no_duplicates(server, plan, store.journal)


def test_buy_under_10_dollars_after_resizing_is_skipped_and_reported(adapter, server, store):
    plan = make_plan(adapter, ROTATE)
    buy_i = next(i for i, a in enumerate(plan.actions) if a.side == "buy")
    only_buy = plan.model_copy(update={"actions": [plan.actions[buy_i]]})
    server.exchange.account.balances[0].total = Decimal("5")
    report = Executor(adapter, store, mode="live").execute(only_buy)
    assert report.actions[0].state == "skipped" and "under the $10 minimum" in report.actions[0].note
    assert report.status == "failed" and exchange_orders(server) == []


def test_the_approved_agent_key_executes_for_the_account(make_adapter, server, store):
    agent = make_adapter(secret_key=DEMO_AGENT_SECRET_KEY)
    plan = make_plan(agent, SEED_002)
    report = Executor(agent, store, mode="live").execute(plan)
    assert report.status == "ok" and drift(agent, SEED_002) < 0.01


@pytest.mark.parametrize(
    "knob, applied",
    [
        ("http_429_next", False),
        ("http_5xx_next", False),
        ("timeout_next", False),
        ("malformed_next", True),
        ("lose_response_next", True),
    ],
)
def test_each_exchange_fault_is_resolved_without_a_duplicate_order(adapter, server, store, knob, applied):
    plan = make_plan(adapter, SEED_002)
    server.faults.path, server.faults.hang_s = "/exchange", 1.5
    setattr(server.faults, knob, 1)  # the first order meets the fault (no dead-man switch is armed before it)
    report = Executor(adapter, store, mode="live").execute(plan)
    assert report.status == "ok", report.errors
    first = report.actions[0]
    journal = store.journal
    states = [e["state"] for e in journal.events(first.cloids[0])]
    assert states[:3] == [PENDING, SENT, UNKNOWN]
    if applied:  # the order reached the exchange: found by cloid, not resent
        assert first.attempts == 1 and states[-1] == FILLED
    else:  # never reached it: abandoned, then sent again under a new cloid
        assert first.attempts == 2 and states[-1] == ABANDONED
        assert first.cloids[0] not in cloids_at_exchange(server)
    assert len(exchange_orders(server)) == len(plan.actions)
    assert_no_duplicates(server, plan, journal)
    assert drift(adapter, SEED_002) < 0.01


def test_lookup_failure_leaves_the_order_unknown_and_stops(adapter, server, store):
    plan = make_plan(adapter, SEED_002)
    adapter.market()
    server.faults.lose_response_next = 2  # the dead-man switch and the first order's answers are lost...
    server.faults.path = "/exchange"
    real_status = adapter.order_status

    def down(cloid):
        raise TemporaryExchangeError("down")

    adapter.order_status = down
    ex = Executor(adapter, store, mode="live", sleep=lambda s: None)
    report = ex.execute(plan)
    assert report.status == "failed" and report.actions[0].state == "unknown"
    assert len(exchange_orders(server)) == 1  # nothing else was sent
    journal = store.journal
    assert [r.state for r in journal.open_rows()] == [UNKNOWN]
    # ...later the exchange answers again: reconcile resolves it, and the plan finishes without a duplicate.
    adapter.order_status = real_status
    report = ex.execute(plan)
    assert report.status == "ok", report.errors
    assert report.reconciled == {report.actions[0].cloids[0]: FILLED}
    assert_no_duplicates(server, plan, journal)


def test_kill_switch_stops_before_the_next_order(adapter, server, store):
    plan = make_plan(adapter, SEED_002)
    calls = {"n": 0}

    def paused() -> bool:
        calls["n"] += 1
        return calls["n"] > 2  # the start check and the first order pass; the second order is refused

    report = Executor(adapter, store, mode="live", is_paused=paused).execute(plan)
    assert report.status == "paused"
    assert len(exchange_orders(server)) == 1
    assert [a.state for a in report.actions][1:] == ["paused"] * (len(plan.actions) - 1)


def test_kill_switch_on_sends_nothing(adapter, server, store):
    plan = make_plan(adapter, SEED_002)
    store.records.set_paused(True, "test")
    report = Executor(adapter, store, mode="live").execute(plan)
    assert report.status == "paused" and exchange_orders(server) == []
    assert store.journal.rows() == []


def test_dry_run_sends_nothing_and_journals_intents(adapter, server, store):
    plan = make_plan(adapter, SEED_002)
    before = server.exchange.account.n_requests
    report = Executor(adapter, store, mode="dry-run").execute(plan)
    assert report.status == "dry-run"
    assert exchange_orders(server) == [] and server.exchange.account.n_requests == before
    rows = store.journal.rows(plan_id=plan.plan_id)
    assert [r.state for r in rows] == [DRY_RUN] * len(plan.actions) and {r.mode for r in rows} == {"dry-run"}


def test_paper_mode_fills_from_real_books_and_leaves_the_exchange_alone(adapter, server, store):
    plan = make_plan(adapter, ROTATE)
    ex = Executor(PaperExchange(adapter), store, mode="paper")
    report = ex.execute(plan)
    assert report.status == "ok", report.errors
    assert exchange_orders(server) == []
    paper = ex.exchange
    assert drift(paper, ROTATE) < 0.01
    market = adapter.market(books=[a.coin for a in plan.actions])
    for a, r in zip(plan.actions, report.actions, strict=True):
        book = market.get(a.coin).book
        best = (book.asks if a.side == "buy" else book.bids)[0].px
        assert r.avg_px == pytest.approx(best, rel=1e-3)  # walked the real book, not the mid
    assert {r.mode for r in store.journal.rows()} == {"paper"}
    assert report.fees_usd == pytest.approx(
        sum(r.notional_usd * (0.00045 if r.market == "perp" else 0.0007) for r in report.actions), rel=1e-6
    )


class _Refilling:
    """An exchange wrapper that puts liquidity back into the stand-in's book after each order."""

    def __init__(self, inner, server, wire: str, px: Decimal) -> None:
        self.inner, self.server, self.wire, self.px = inner, server, wire, px

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def place_orders(self, orders):
        out = self.inner.place_orders(orders)
        if all(o.wire_name != self.wire for o in orders):
            return out
        with self.server.exchange.lock:
            self.server.exchange.books[self.wire].asks.insert(0, Level(px=self.px, sz=Decimal("1000")))
        return out


def _thin_book(server, plan):
    buy = next(a for a in plan.actions if a.side == "buy")
    book = server.exchange.books[buy.wire_name]
    top = book.asks[0].px
    book.asks[:] = [Level(px=top, sz=Decimal(str(round(buy.size / 3, 3))))]  # one third at the top, nothing more
    return buy, top


def test_partial_fill_is_completed_with_a_new_attempt(adapter, server, store):
    plan = make_plan(adapter, ROTATE)
    buy, top = _thin_book(server, plan)
    report = Executor(_Refilling(adapter, server, buy.wire_name, top), store, mode="live").execute(plan)
    r = report.actions[plan.actions.index(buy)]
    assert r.state == "filled" and r.attempts == 2 and len(set(r.cloids)) == 2
    assert r.filled_sz == pytest.approx(r.target_sz)
    assert_no_duplicates(server, plan, store.journal)


def test_partial_fill_without_liquidity_is_reported_partial(adapter, server, store):
    plan = make_plan(adapter, ROTATE)
    buy, _ = _thin_book(server, plan)
    report = Executor(adapter, store, mode="live", max_attempts=3).execute(plan)
    r = report.actions[plan.actions.index(buy)]
    assert r.state == "partial" and 0 < r.filled_sz < r.target_sz
    assert r.attempts == 2  # the second IOC found nothing within the limit and was not retried
    assert report.status == "partial"
    assert_no_duplicates(server, plan, store.journal)


def test_running_the_same_plan_twice_trades_nothing_more(adapter, server, store):
    plan = make_plan(adapter, SEED_002)
    ex = Executor(adapter, store, mode="live")
    assert ex.execute(plan).status == "ok"
    n = len(exchange_orders(server))
    again = ex.execute(plan)
    assert again.orders_sent == 0 and len(exchange_orders(server)) == n
    assert again.status == "ok"


def test_reconcile_moves_every_open_row_to_its_real_state(adapter, server, store):
    plan = make_plan(adapter, SEED_002)
    journal = store.journal
    ex = Executor(adapter, store, mode="live")
    intents = [ex._intent(plan, i, a, 1, a.size, a.limit_px) for i, a in enumerate(plan.actions[:3])]
    for i, intent in enumerate(intents):
        journal.intend(plan.plan_id, i, 1, intent)
    journal.mark(intents[1].cloid, SENT)  # sent, and it reached the exchange (answer lost)
    adapter.place_orders([intents[1]])
    journal.mark(intents[2].cloid, SENT)  # marked sent, crashed before the request left
    rep = ex.reconcile()
    assert rep.unresolved == []
    assert rep.resolved == {intents[0].cloid: ABANDONED, intents[1].cloid: FILLED, intents[2].cloid: ABANDONED}
    assert not journal.open_rows()
    report = ex.execute(plan)  # resumes: action 1 is done, 0 and 2 go out as attempt 2
    assert report.status == "ok", report.errors
    assert [a.attempts for a in report.actions[:3]] == [1, 0, 1]
    assert_no_duplicates(server, plan, journal)
    assert {intents[0].cloid, intents[2].cloid}.isdisjoint(cloids_at_exchange(server))


def test_empty_plan_is_ok_and_cash_only_target(adapter, server, store):
    plan = make_plan(adapter, {CASH: 1.0, "AVAX": 0.0, "UBTC/USDC": 0.0, "UETH/USDC": 0.0, "USOL/USDC": 0.0})
    report = Executor(adapter, store, mode="live").execute(plan)
    assert report.status in ("ok", "partial")
    assert_no_duplicates(server, plan, store.journal)
    nothing = plan.model_copy(update={"actions": []})
    assert Executor(adapter, store, mode="live").execute(nothing).status == "ok"
