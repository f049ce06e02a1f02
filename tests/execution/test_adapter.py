"""The Hyperliquid adapter through the real SDK against the stand-in over loopback."""

from __future__ import annotations

import pickle
from decimal import Decimal

import pytest

from agent.adapters.hyperliquid.client import HyperliquidExchange, RateBudget, SecretKey
from agent.adapters.hyperliquid.constants import resolve_base_url
from agent.core.errors import ConfigError, ExchangeError, OrderOutcomeUnknown, TemporaryExchangeError
from agent.core.orders import OrderIntent, make_cloid
from agent.standin import DEMO_ACCOUNT_ADDRESS, DEMO_AGENT_ADDRESS, DEMO_AGENT_SECRET_KEY, DEMO_SECRET_KEY

from .conftest import cloids_at_exchange, exchange_fills, exchange_orders


def avax_sell(n: int = 1, size: float = 5.0, px: float = 9.3, **kw) -> OrderIntent:
    args = dict(
        cloid=make_cloid("t", 0, n),
        asset=6,
        wire_name="AVAX",
        coin="AVAX",
        is_buy=False,
        size=size,
        limit_px=px,
        reduce_only=True,
        sz_decimals=2,
    )
    args.update(kw)
    return OrderIntent(**args)


def test_cloid_is_deterministic_and_well_formed():
    c = make_cloid("p_1", 2, 3)
    assert c == make_cloid("p_1", 2, 3) != make_cloid("p_1", 2, 4)
    assert c.startswith("0x") and len(c) == 34 and int(c, 16) >= 0


def test_no_network_at_construction():
    ex = HyperliquidExchange(
        "http://127.0.0.1:9",
        account_address=DEMO_ACCOUNT_ADDRESS,
        secret_key=DEMO_SECRET_KEY,
        timeout=0.2,
        backoff_s=0.0,
    )
    with pytest.raises(TemporaryExchangeError):
        ex.market()


@pytest.mark.parametrize(
    "network, url",
    [
        ("mainnet", "https://api.hyperliquid.xyz"),
        ("testnet", "https://api.hyperliquid-testnet.xyz"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
    ],
)
def test_network_names_and_urls(network, url):
    assert resolve_base_url(network) == url


def test_bad_network_and_bad_key_are_config_errors():
    with pytest.raises(ConfigError):
        resolve_base_url("moon")
    with pytest.raises(ConfigError) as caught:
        HyperliquidExchange("testnet", secret_key="0xnot-a-key")
    assert "0xnot-a-key" not in str(caught.value)
    with pytest.raises(ConfigError):
        HyperliquidExchange("testnet")  # neither account nor key


def test_the_secret_key_never_shows(adapter):
    key = DEMO_SECRET_KEY
    for text in (repr(adapter), str(adapter), repr(SecretKey(key)), str(SecretKey(key)), repr(vars(adapter))):
        assert key not in text and key[2:] not in text
    with pytest.raises(TypeError):
        pickle.dumps(SecretKey(key))


def test_reads_parse_into_domain_models_and_books_are_optional(adapter, server):
    state = adapter.account_state()
    assert state.user == DEMO_ACCOUNT_ADDRESS.lower()
    assert set(state.positions) == {"AVAX", "UBTC/USDC", "UETH/USDC", "USOL/USDC"}
    assert state.positions["UETH/USDC"].hold == pytest.approx(0.143)
    plain = adapter.market()
    assert all(info.book is None for info in plain.assets.values())
    spent = adapter.budget.spent
    market = adapter.market(books=["UBTC/USDC", "AVAX"])
    assert adapter.budget.spent - spent == 2 + 2 * 2  # allMids + two l2Books; meta is cached
    assert market.get("UBTC/USDC").book is not None and market.get("UBTC/USDC").wire_name == "@142"
    assert market.get("ETH").book is None


def test_rate_budget_waits_when_the_bucket_is_empty():
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    budget = RateBudget(600, clock=lambda: now[0], sleep=sleep)  # 10 weight per second
    budget.acquire(600)
    assert slept == []
    budget.acquire(20)
    assert slept == [pytest.approx(2.0)]
    with pytest.raises(ConfigError):
        RateBudget(1200)


def test_filled_order_and_lookup_by_cloid(adapter, server):
    [result] = adapter.place_orders([avax_sell()])
    assert (result.status, result.filled_sz, result.avg_px) == ("filled", 5.0, 9.427)
    looked = adapter.order_status(result.cloid)
    assert looked.status == "filled" and looked.oid == result.oid and looked.avg_px == pytest.approx(9.427)
    assert adapter.order_status(make_cloid("t", 0, 99)) is None
    [fill] = adapter.fills_since(0)
    assert fill.cloid == result.cloid and fill.fee_usd == pytest.approx(5 * 9.427 * 0.00045, abs=1e-6)


def test_per_order_rejection_and_partial_in_one_batch(adapter, server):
    small = avax_sell(1, size=1.0)  # $9.3 < $10 minimum, and not a whole close
    book = server.exchange.books["@156"]
    book.asks[0].sz = Decimal("0.2")  # a thin top of book; the next level is above the limit
    depth = 0.2
    partial = OrderIntent(
        cloid=make_cloid("t", 1, 1),
        asset=10156,
        wire_name="@156",
        coin="USOL/USDC",
        is_buy=True,
        size=0.3,
        limit_px=float(book.asks[0].px),
        sz_decimals=3,
    )
    rejected, part = adapter.place_orders([small, partial])
    assert rejected.status == "rejected" and "minimum value" in rejected.error
    assert part.status == "partial" and part.filled_sz == pytest.approx(depth)


def test_whole_request_error_rejects_every_order(make_adapter, server):
    stranger = make_adapter(secret_key="0x" + "11" * 32)  # signs for the demo account but is not approved
    results = stranger.place_orders([avax_sell(1), avax_sell(2)])
    assert [r.status for r in results] == ["rejected", "rejected"]
    assert "does not exist" in results[0].error
    assert exchange_orders(server) == []


def test_approved_agent_key_signs_for_the_account(make_adapter, server):
    agent = make_adapter(secret_key=DEMO_AGENT_SECRET_KEY)
    assert agent.signer_address == DEMO_AGENT_ADDRESS and agent.user == DEMO_ACCOUNT_ADDRESS.lower()
    [result] = agent.place_orders([avax_sell()])
    assert result.status == "filled"
    assert agent.account_state().positions["AVAX"].size == pytest.approx(55.66 - 5)


def test_vault_address_is_used_for_reads_and_signing(make_adapter, server):
    vault = make_adapter(vault_address=DEMO_ACCOUNT_ADDRESS)  # the stand-in's one account plays the vault
    assert vault.user == DEMO_ACCOUNT_ADDRESS.lower()
    [result] = vault.place_orders([avax_sell()])
    assert result.status == "filled"


def test_off_grid_prices_and_sizes_are_rounded_not_raised(adapter, server):
    # 9.300001 has too many figures for float_to_wire's grid; 5.0049 too many size decimals.
    [result] = adapter.place_orders([avax_sell(size=5.0049, px=9.300001)])
    assert result.status == "filled" and result.filled_sz == 5.0
    [order] = exchange_orders(server)
    assert float(order.limit_px) == 9.3001  # a sell rounds up, toward the mid


def test_read_only_adapter_refuses_to_sign(make_adapter):
    ro = make_adapter(secret_key=None)
    assert ro.account_state().user == DEMO_ACCOUNT_ADDRESS.lower()
    with pytest.raises(ExchangeError, match="read-only"):
        ro.place_orders([avax_sell()])


# -- faults ------------------------------------------------------------------------------------


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
def test_exchange_faults_are_unknown_outcomes_resolved_by_cloid(adapter, server, knob, applied):
    adapter.market()  # meta fetched before the fault is armed
    server.faults.hang_s = 1.5
    server.faults.path = "/exchange"
    setattr(server.faults, knob, 1)
    intent = avax_sell()
    with pytest.raises(OrderOutcomeUnknown):
        adapter.place_orders([intent])
    found = adapter.order_status(intent.cloid)
    assert (found is not None) == applied
    if applied:
        assert found.status == "filled" and found.filled_sz == 5.0
    assert cloids_at_exchange(server).count(intent.cloid) == int(applied)
    assert len(exchange_fills(server)) == int(applied)


def test_lost_response_as_502(adapter, server):
    adapter.market()
    server.faults.path, server.faults.lose_mode, server.faults.lose_response_next = "/exchange", "502", 1
    with pytest.raises(OrderOutcomeUnknown, match="502"):
        adapter.place_orders([avax_sell()])
    assert adapter.order_status(avax_sell().cloid).status == "filled"


@pytest.mark.parametrize("knob", ["http_429_next", "http_5xx_next", "malformed_next", "lose_response_next"])
def test_info_faults_are_retried_then_temporary(make_adapter, server, knob):
    adapter = make_adapter(info_retries=2)
    server.faults.path = "/info"
    setattr(server.faults, knob, 2)
    assert adapter.account_state().user  # two faults, three tries: recovered
    setattr(server.faults, knob, 3)
    with pytest.raises(TemporaryExchangeError):
        adapter.market()


def test_info_timeout_is_temporary(make_adapter, server):
    adapter = make_adapter(timeout=0.3, info_retries=0)
    server.faults.path, server.faults.hang_s, server.faults.timeout_next = "/info", 1.0, 1
    with pytest.raises(TemporaryExchangeError, match="Timeout"):
        adapter.market()


def test_cancel_and_schedule_cancel(adapter, server):
    gtc = avax_sell(px=12.0, tif="Gtc")  # far above the bid: rests
    [resting] = adapter.place_orders([gtc])
    assert resting.status == "resting"
    assert gtc.cloid in [o.cloid for o in adapter.open_orders()]
    assert adapter.order_status(gtc.cloid).status == "open"
    assert adapter.cancel_by_cloid("AVAX", gtc.cloid) is True
    assert adapter.cancel("AVAX", resting.oid) is False  # already canceled
    assert adapter.order_status(gtc.cloid).status == "canceled"
    assert adapter.schedule_cancel(int(server.exchange.now_ms()) + 60_000) is True
    assert adapter.schedule_cancel(None) is True
    assert adapter.schedule_cancel(int(server.exchange.now_ms())) is False  # too early
