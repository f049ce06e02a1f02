"""User-signed actions and signing chains through the real SDK: ``approve_agent`` (then ``extraAgents`` and
``userRole`` answer for the new API wallet, which may trade), ``usd_class_transfer``, ``usd_transfer`` and
``withdraw_from_bridge`` applied or refused as Hyperliquid does; L1 signatures checked for the stand-in's
chain only; a dense ``spotMeta.tokens``."""

from __future__ import annotations

import copy
from typing import Any

import eth_account
import pytest
from conftest import SNAPSHOT, USER
from hyperliquid.exchange import Exchange
from hyperliquid.utils.signing import get_timestamp_ms, sign_l1_action

from agent.standin import DEMO_ACCOUNT_ADDRESS, DEMO_SECRET_KEY, StandIn, load_demo_snapshot, serve

IOC = {"limit": {"tif": "Ioc"}}
DESTINATION = "0x000000000000000000000000000000000000dEaD"


def ask(info: Any, body: dict[str, Any]) -> Any:
    return info.post("/info", body)


def perp_withdrawable(info: Any) -> float:
    return float(info.user_state(USER.address)["withdrawable"])


def spot_usdc(info: Any) -> float:
    balances = info.spot_user_state(USER.address)["balances"]
    return next(float(b["total"]) for b in balances if b["coin"] == "USDC")


def ledger(info: Any) -> list[dict[str, Any]]:
    return ask(info, {"type": "userNonFundingLedgerUpdates", "user": USER.address, "startTime": 0})


def test_approve_agent_lets_the_new_api_wallet_trade_and_is_listed(exchange, new_exchange, info, user, statuses):
    answer, key = exchange.approve_agent("bot")
    assert answer == {"status": "ok", "response": {"type": "default"}}
    bot = eth_account.Account.from_key(key)
    listed = {a["address"].lower(): a["name"] for a in ask(info, {"type": "extraAgents", "user": user.address})}
    assert listed[bot.address.lower()] == "bot"
    assert ask(info, {"type": "userRole", "user": bot.address}) == {
        "role": "agent",
        "data": {"user": user.address.lower()},
    }
    [status] = statuses(new_exchange(bot).order("SOL", True, 1.0, 101.0, IOC))
    assert "filled" in status  # the approved wallet trades for the account


def test_a_new_unnamed_api_wallet_replaces_the_previous_unnamed_one(exchange, info, user):
    _, first = exchange.approve_agent()
    _, second = exchange.approve_agent()
    listed = {a["address"].lower() for a in ask(info, {"type": "extraAgents", "user": user.address})}
    assert eth_account.Account.from_key(second).address.lower() in listed
    assert eth_account.Account.from_key(first).address.lower() not in listed
    role = ask(info, {"type": "userRole", "user": eth_account.Account.from_key(first).address})
    assert role == {"role": "missing"}


def test_an_api_wallet_cannot_sign_user_actions(new_exchange, agent, info):
    as_agent = new_exchange(agent)
    want = {"status": "err", "response": f"Must deposit before performing actions. User: {agent.address.lower()}"}
    assert as_agent.approve_agent("sneaky")[0] == want
    assert as_agent.usd_class_transfer(10, to_perp=True) == want
    assert as_agent.usd_transfer(10, DESTINATION) == want
    assert as_agent.withdraw_from_bridge(10, DESTINATION) == want
    assert perp_withdrawable(info) == pytest.approx(10_000) and spot_usdc(info) == pytest.approx(1_000)


def test_usd_class_transfer_moves_usdc_between_spot_and_perp(exchange, info):
    assert exchange.usd_class_transfer(100, to_perp=True) == {"status": "ok", "response": {"type": "default"}}
    assert spot_usdc(info) == pytest.approx(900) and perp_withdrawable(info) == pytest.approx(10_100)
    assert exchange.usd_class_transfer(250.5, to_perp=False)["status"] == "ok"
    assert spot_usdc(info) == pytest.approx(1_150.5) and perp_withdrawable(info) == pytest.approx(9_849.5)
    refused = exchange.usd_class_transfer(5_000, to_perp=True)
    assert refused == {"status": "err", "response": "Insufficient balance for transfer."}
    assert spot_usdc(info) == pytest.approx(1_150.5)
    kinds = [(e["delta"]["type"], e["delta"]["toPerp"]) for e in ledger(info)]
    assert kinds == [("accountClassTransfer", True), ("accountClassTransfer", False)]


def test_usd_class_transfer_does_nothing_on_a_unified_account():
    with serve(load_demo_snapshot()) as srv:  # the demo account is unified
        ex = Exchange(eth_account.Account.from_key(DEMO_SECRET_KEY), srv.url, account_address=DEMO_ACCOUNT_ADDRESS)
        before = ex.info.spot_user_state(DEMO_ACCOUNT_ADDRESS)
        answer = ex.usd_class_transfer(10, to_perp=True)
        assert answer["status"] == "err" and "unified" in answer["response"]
        assert ex.info.spot_user_state(DEMO_ACCOUNT_ADDRESS) == before


def test_usd_send_and_withdraw_take_perp_usdc_and_are_in_the_ledger(exchange, info):
    assert exchange.usd_transfer(100, DESTINATION) == {"status": "ok", "response": {"type": "default"}}
    assert perp_withdrawable(info) == pytest.approx(9_900)
    assert exchange.withdraw_from_bridge(50, DESTINATION)["status"] == "ok"
    assert perp_withdrawable(info) == pytest.approx(9_850)
    [send, withdraw] = [e["delta"] for e in ledger(info)]
    assert send["type"] == "send" and send["destination"] == DESTINATION.lower() and send["usdc"] == "100.0"
    assert withdraw["type"] == "withdraw" and withdraw["usdc"] == "49.0" and withdraw["fee"] == "1.0"
    assert exchange.withdraw_from_bridge(20_000, DESTINATION) == {
        "status": "err",
        "response": "Insufficient balance for withdrawal",
    }
    assert exchange.usd_transfer(20_000, DESTINATION)["status"] == "err"
    assert perp_withdrawable(info) == pytest.approx(9_850)


def mainnet_signed_order(ex: Exchange) -> dict[str, Any]:
    """The SDK's order action for 1 SOL, signed as mainnet (source "a") and posted to the stand-in."""
    action = {
        "type": "order",
        "orders": [{"a": 2, "b": True, "p": "101", "s": "1", "r": False, "t": IOC}],
        "grouping": "na",
    }
    nonce = get_timestamp_ms()
    signature = sign_l1_action(ex.wallet, action, None, nonce, None, True)
    return ex._post_action(action, signature, nonce)


def test_l1_signatures_are_accepted_for_the_stand_ins_chain_only():
    snapshot = copy.deepcopy(SNAPSHOT)
    with serve(StandIn.from_snapshot(snapshot)) as testnet:  # the default: testnet-style, like the SDK here
        ex = Exchange(USER, testnet.url, meta=snapshot["meta"], spot_meta=snapshot["spotMeta"])
        assert mainnet_signed_order(ex)["status"] == "err"
        assert "filled" in ex.order("SOL", True, 1.0, 101.0, IOC)["response"]["data"]["statuses"][0]
    with serve(StandIn.from_snapshot(snapshot), mainnet=True) as mainnet:
        ex = Exchange(USER, mainnet.url, meta=snapshot["meta"], spot_meta=snapshot["spotMeta"])
        refused = ex.order("SOL", True, 1.0, 101.0, IOC)  # the SDK signs as testnet for any URL but mainnet's
        assert refused["status"] == "err" and refused["response"].startswith("User or API Wallet 0x")
        assert refused["response"].endswith(" does not exist.")
        assert "filled" in mainnet_signed_order(ex)["response"]["data"]["statuses"][0]
        transfer = ex.usd_class_transfer(10, to_perp=True)  # hyperliquidChain "Testnet" on a mainnet node
        assert transfer["status"] == "err" and "hyperliquidChain" in transfer["response"]


def test_spot_meta_tokens_are_dense(info):
    tokens = ask(info, {"type": "spotMeta"})["tokens"]
    assert [t["index"] for t in tokens] == list(range(len(tokens))) and len(tokens) == 198
    assert tokens[197]["name"] == "UBTC" and tokens[0]["name"] == "USDC"
    meta, ctxs = ask(info, {"type": "spotMetaAndAssetCtxs"})
    [pair] = meta["universe"]
    assert ctxs[pair["index"]]["coin"] == pair["name"]  # a pair's context sits at its index
