"""Seed 002's account on the local Binance through ccxt: the demo end to end, and the port's guarantees
(locked coins never sold, the user's own orders never cancelled, lookups by client order id, refusals)."""

from __future__ import annotations

import json
import os
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from agent.adapters.binance.client import BinanceExchange
from agent.core.orders import OrderIntent, make_cloid
from agent.standin.binance.seed import DEMO_KEY, DEMO_SECRET


def cli(*args: str):
    from agent.interfaces.cli import app

    env = {k: None for k in os.environ if k.startswith(("REBALANCER_", "OPENAI_", "ANTHROPIC_"))}
    r = CliRunner().invoke(app, list(args), env=env)
    return r.exit_code, r.stdout, r.stderr


def test_demo_on_binance_runs_seed_002s_account_through_ccxt():
    code, out, err = cli("demo", "--venue", "binance", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["execution"]["status"] == "ok"
    rows = {r["coin"]: r for r in d["plan"]["rows"]}
    assert rows["BTC/USD"]["value_usd"] == pytest.approx(3175, abs=1)  # seed 002: BTC $3,175
    assert rows["ETH/USD"]["value_usd"] == pytest.approx(4607, abs=1)  # ETH $4,607
    assert rows["SOL/USD"]["value_usd"] == pytest.approx(3462, abs=1)  # SOL $3,462
    assert rows["AVAX/USD"]["value_usd"] == pytest.approx(760, abs=1)  # AVAX $760
    # the account's own rules decide: ETH over the 30 % maximum comes down, the weakest signal raises cash to 20 %
    assert d["plan"]["target_source"] == "signals" and d["plan"]["strategy_id"] == "signal-rules"
    sells = {a["coin"]: a for a in d["plan"]["actions"]}
    assert sells["ETH/USD"]["side"] == "sell" and all(a["side"] == "sell" for a in d["plan"]["actions"])
    assert d["after"]["weights"]["ETH/USD"] == pytest.approx(0.30, abs=0.005)
    assert d["after"]["weights"]["USDC"] == pytest.approx(0.20, abs=0.005)
    assert d["cost"]["realised_usd"] == pytest.approx(d["cost"]["estimated_usd"], rel=0.2)


def test_the_demo_never_sells_locked_eth_nor_cancels_the_users_orders(binance):
    ex = BinanceExchange(binance.url, api_key=DEMO_KEY, secret=DEMO_SECRET, paced=False)
    state = ex.account_state()
    assert (state.positions["ETH/USD"].size, state.positions["ETH/USD"].hold) == (1.54158, 0.143)
    too_much = OrderIntent(
        cloid=make_cloid("p", 0, 1),
        asset=10001,
        wire_name="ETHUSD",
        coin="ETH/USD",
        is_buy=False,
        size=1.5,
        limit_px=2900.0,
        sz_decimals=4,
    )
    [r] = ex.place_orders([too_much])  # more than the free 1.39858: Binance refuses, nothing sells
    assert r.status == "rejected" and "-2010" in (r.error or "")
    assert ex.account_state().positions["ETH/USD"].size == 1.54158
    assert {o.cloid for o in ex.open_orders()} == {"user-eth-sell", "user-btc-bid"}


def test_an_order_lost_in_flight_is_found_by_its_client_id_and_never_resent(binance):
    ex = BinanceExchange(binance.url, api_key=DEMO_KEY, secret=DEMO_SECRET, paced=False)
    cloid = make_cloid("p-lost", 0, 1)
    intent = OrderIntent(
        cloid=cloid,
        asset=10002,
        wire_name="SOLUSD",
        coin="SOL/USD",
        is_buy=False,
        size=2.0,
        limit_px=137.0,
        sz_decimals=3,
        expires_after_ms=ex.server_time_ms(fresh=True) + 5000,
    )
    binance.faults.lose_response_next = 1
    from agent.core.errors import OrderOutcomeUnknown

    with pytest.raises(OrderOutcomeUnknown):
        ex.place_orders([intent])
    fresh = BinanceExchange(binance.url, api_key=DEMO_KEY, secret=DEMO_SECRET, paced=False)  # a restarted process
    found = fresh.order_status(cloid)
    assert found is not None and (found.status, found.filled_sz) == ("filled", 2.0)
    assert fresh.order_status(make_cloid("p-lost", 0, 2)) is None
    assert binance.exchange.balances["SOL"].free == Decimal("23.111")


def test_a_late_request_past_its_expiry_is_refused_by_binances_clock(binance):
    ex = BinanceExchange(binance.url, api_key=DEMO_KEY, secret=DEMO_SECRET, paced=False)
    expired = ex.server_time_ms(fresh=True) - 1  # its recvWindow ended on the exchange's clock
    intent = OrderIntent(
        cloid=make_cloid("p-late", 0, 1),
        asset=10002,
        wire_name="SOLUSD",
        coin="SOL/USD",
        is_buy=False,
        size=1.0,
        limit_px=137.0,
        sz_decimals=3,
        expires_after_ms=expired,
    )
    [r] = ex.place_orders([intent])
    assert r.status == "rejected" and "-1021" in (r.error or "")
    assert ex.order_status(intent.cloid) is None


def test_config_show_never_prints_the_binance_secret(tmp_path):
    cfg = tmp_path / "b.toml"
    cfg.write_text('[exchange]\nvenue = "binanceus"\n')
    from agent.interfaces.cli import app

    r = CliRunner().invoke(
        app,
        ["config", "show", "--config", str(cfg), "--json"],
        env={"REBALANCER_BINANCE_API_KEY": "k-visible-nowhere", "REBALANCER_BINANCE_SECRET": "s3cr3t-x"},
    )
    assert r.exit_code == 0, r.stderr
    assert "s3cr3t-x" not in r.stdout and "k-visible-nowhere" not in r.stdout
    shown = json.loads(r.stdout)
    assert shown["binance_secret"] == "set (hidden)" and shown["exchange"]["venue"] == "binanceus"
