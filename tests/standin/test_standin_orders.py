"""Orders through the real SDK: fills, partial fills, the exchange's rejections and their real texts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hyperliquid.utils.signing import get_timestamp_ms, sign_l1_action
from hyperliquid.utils.types import Cloid

IOC = {"limit": {"tif": "Ioc"}}
GTC = {"limit": {"tif": "Gtc"}}
ALO = {"limit": {"tif": "Alo"}}


def perp(info, address):
    state = info.user_state(address)
    positions = {p["position"]["coin"]: p["position"] for p in state["assetPositions"]}
    return state, positions


def test_ioc_buy_fills_and_moves_position_margin_and_fees(info, exchange, user, statuses):
    [status] = statuses(exchange.order("SOL", True, 10.0, 101.0, IOC))
    assert status["filled"]["totalSz"] == "10.0"
    assert status["filled"]["avgPx"] == "100.01"
    state, positions = perp(info, user.address)
    sol = positions["SOL"]
    assert sol["szi"] == "10.0" and sol["entryPx"] == "100.01"
    assert Decimal(sol["marginUsed"]) == Decimal("10") * 100 / 20  # marked at the mid, 20x default
    fee = Decimal("10") * Decimal("100.01") * Decimal("0.00045")
    expected_value = Decimal(10000) - fee + 10 * (Decimal(100) - Decimal("100.01"))
    assert Decimal(state["marginSummary"]["accountValue"]) == expected_value
    [fill] = info.user_fills(user.address)
    assert fill["dir"] == "Open Long" and fill["side"] == "B" and fill["crossed"] is True
    assert Decimal(fill["fee"]) == fee.quantize(Decimal("0.000001"))
    assert fill["feeToken"] == "USDC"


def test_walking_the_book_averages_levels_and_consumes_liquidity(info, exchange, statuses):
    [status] = statuses(exchange.order("SOL", True, 75.0, 101.0, IOC))
    expected = (50 * Decimal("100.01") + 25 * Decimal("100.05")) / 75
    assert abs(Decimal(status["filled"]["avgPx"]) - expected) < Decimal("1e-7")
    asks = info.l2_snapshot("SOL")["levels"][1]
    assert asks == [{"px": "100.05", "sz": "25.0", "n": 1}]


def test_ioc_partial_fill_reports_filled_with_smaller_total(info, exchange, user, statuses):
    cloid = Cloid.from_int(1)
    [status] = statuses(exchange.order("SOL", True, 150.0, 101.0, IOC, cloid=cloid))
    assert status["filled"]["totalSz"] == "100.0"
    order = info.query_order_by_cloid(user.address, cloid)["order"]
    assert order["status"] == "canceled" and order["order"]["origSz"] == "150.0"


def test_ioc_that_cannot_match_is_rejected(exchange, statuses):
    [status] = statuses(exchange.order("SOL", True, 1.0, 99.0, IOC))
    assert status == {"error": "Order could not immediately match against any resting orders. asset=2"}


def test_reduce_only_that_would_increase_is_rejected(exchange, statuses):
    [status] = statuses(exchange.order("SOL", True, 1.0, 101.0, IOC, reduce_only=True))
    assert status == {"error": "Reduce only order would increase position. asset=2"}


def test_market_close_is_reduce_only_and_closes(info, exchange, user, statuses):
    statuses(exchange.market_open("SOL", True, 5.0))
    [status] = statuses(exchange.market_close("SOL"))
    assert status["filled"]["totalSz"] == "5.0"
    _, positions = perp(info, user.address)
    assert positions == {}
    assert info.user_fills(user.address)[0]["dir"] == "Close Long"


def test_order_under_ten_dollars_is_rejected(exchange, statuses):
    [status] = statuses(exchange.order("SOL", True, 0.09, 101.0, IOC))
    assert status == {"error": "Order must have minimum value of $10. asset=2"}


def test_spot_order_under_ten_quote_units_is_rejected(exchange, statuses):
    [status] = statuses(exchange.order("UBTC/USDC", False, 0.00009, 99990.0, IOC))
    assert status == {"error": "Order must have minimum value of 10 USDC. asset=10142"}


@pytest.mark.parametrize(
    "coin, sz, px, error",
    [
        ("BTC", 0.001, 100000.5, "Price must be divisible by tick size. asset=0"),
        ("ETH", 0.01, 2000.123, "Order has invalid price."),
        ("BTC", 0.000001, 100001.0, "Order has invalid size."),
        ("SOL", 0.111, 100.01, "Order has invalid size."),
    ],
    ids=["too-many-sig-figs", "too-many-decimals", "size-below-lot", "size-off-lot"],
)
def test_prices_and_sizes_off_the_grid_are_rejected(exchange, statuses, coin, sz, px, error):
    [status] = statuses(exchange.order(coin, True, sz, px, GTC))
    assert status == {"error": error}


def test_integer_prices_are_always_allowed(exchange, statuses):
    [status] = statuses(exchange.order("BTC", True, 0.001, 100001.0, IOC))
    assert "filled" in status


def test_insufficient_margin_is_rejected(exchange, statuses):
    [status] = statuses(exchange.order("BTC", True, 0.5, 100001.0, IOC))  # $50k at 20x needs $2.5k: ok
    assert "filled" in status
    exchange.update_leverage(10, "BTC")
    [status] = statuses(exchange.order("BTC", True, 1.0, 100010.0, IOC))  # +$100k at 10x: too much
    assert status == {"error": "Insufficient margin to place order. asset=0"}


def test_update_leverage_changes_margin(info, exchange, user, statuses):
    assert exchange.update_leverage(5, "SOL") == {"status": "ok", "response": {"type": "default"}}
    statuses(exchange.order("SOL", True, 10.0, 101.0, IOC))
    _, positions = perp(info, user.address)
    assert positions["SOL"]["leverage"] == {"type": "cross", "value": 5}
    assert Decimal(positions["SOL"]["marginUsed"]) == Decimal(200)
    assert exchange.update_leverage(21, "SOL")["status"] == "err"


def test_spot_buy_pays_fee_in_base_and_sell_in_usdc(info, exchange, user, statuses):
    statuses(exchange.order("UBTC/USDC", True, 0.001, 100010.0, IOC))
    balances = {b["coin"]: b for b in info.spot_user_state(user.address)["balances"]}
    assert Decimal(balances["UBTC"]["total"]) == Decimal("0.1") + Decimal("0.001") * (1 - Decimal("0.0007"))
    assert Decimal(balances["USDC"]["total"]) == Decimal(1000) - Decimal("100.01")
    statuses(exchange.order("UBTC/USDC", False, 0.001, 99990.0, IOC))
    fill = info.user_fills(user.address)[0]
    assert fill["dir"] == "Sell" and fill["feeToken"] == "USDC" and fill["coin"] == "@142"


def test_spot_needs_free_balance(exchange, statuses):
    [status] = statuses(exchange.order("UBTC/USDC", True, 0.02, 100010.0, IOC))  # $2000 > $1000 USDC
    assert status == {"error": "Insufficient spot balance asset=10142"}
    [status] = statuses(exchange.order("UBTC/USDC", False, 0.2, 99990.0, IOC))
    assert status == {"error": "Insufficient spot balance asset=10142"}


def test_resting_spot_sell_holds_balance_until_cancelled(info, exchange, user, statuses):
    [status] = statuses(exchange.order("UBTC/USDC", False, 0.05, 120000.0, GTC))
    oid = status["resting"]["oid"]
    ubtc = info.spot_user_state(user.address)["balances"][1]
    assert ubtc["hold"] == "0.05"
    [status] = statuses(exchange.order("UBTC/USDC", False, 0.06, 99990.0, IOC))
    assert status == {"error": "Insufficient spot balance asset=10142"}
    assert statuses(exchange.cancel("UBTC/USDC", oid)) == ["success"]
    assert info.spot_user_state(user.address)["balances"][1]["hold"] == "0.0"
    assert info.query_order_by_oid(user.address, oid)["order"]["status"] == "canceled"


def test_cancel_of_an_unknown_order_reports_the_real_error(exchange, statuses):
    assert statuses(exchange.cancel("ETH", 5)) == [
        {"error": "Order was never placed, already canceled, or filled. asset=1"}
    ]


def test_cancel_by_cloid(info, exchange, user, statuses):
    cloid = Cloid.from_int(9)
    statuses(exchange.order("ETH", True, 0.01, 1500.0, GTC, cloid=cloid))
    assert statuses(exchange.cancel_by_cloid("ETH", cloid)) == ["success"]
    assert info.open_orders(user.address) == []


def test_post_only_that_would_cross_is_rejected(exchange, statuses):
    [status] = statuses(exchange.order("ETH", True, 0.01, 2000.1, ALO))
    assert status["error"].startswith("Post only order would have immediately matched, bbo was 1999.9@2000.1.")
    [status] = statuses(exchange.order("ETH", True, 0.01, 1999.0, ALO))
    assert "resting" in status


def test_batch_orders_get_one_status_each(exchange, statuses):
    result = exchange.bulk_orders(
        [
            {"coin": "SOL", "is_buy": True, "sz": 1.0, "limit_px": 101.0, "order_type": IOC, "reduce_only": False},
            {"coin": "SOL", "is_buy": True, "sz": 0.01, "limit_px": 101.0, "order_type": IOC, "reduce_only": False},
            {"coin": "ETH", "is_buy": True, "sz": 0.01, "limit_px": 1500.0, "order_type": GTC, "reduce_only": False},
        ]
    )
    first, second, third = statuses(result)
    assert "filled" in first and "error" in second and "resting" in third


def test_cloid_order_status_round_trip(info, exchange, user, statuses):
    cloid = Cloid.from_str("0x" + "ab" * 16)
    [status] = statuses(exchange.order("SOL", True, 1.0, 101.0, IOC, cloid=cloid))
    assert status["filled"]["cloid"] == cloid.to_raw()
    answer = info.query_order_by_cloid(user.address, cloid)
    assert answer["status"] == "order"
    assert answer["order"]["status"] == "filled"
    assert answer["order"]["order"]["cloid"] == cloid.to_raw()
    assert info.query_order_by_oid(user.address, status["filled"]["oid"]) == answer


def test_rejected_orders_are_findable_by_cloid(info, exchange, user, statuses):
    cloid = Cloid.from_int(77)
    statuses(exchange.order("SOL", True, 1.0, 99.0, IOC, cloid=cloid))
    assert info.query_order_by_cloid(user.address, cloid)["order"]["status"] == "iocCancelRejected"


def test_wrong_signer_is_rejected_with_the_real_text(new_exchange, stranger, info, user):
    result = new_exchange(stranger).order("SOL", True, 1.0, 101.0, IOC)
    assert result == {"status": "err", "response": f"User or API Wallet {stranger.address.lower()} does not exist."}
    assert info.user_fills(user.address) == []


def test_approved_agent_trades_for_the_account(new_exchange, agent, info, user, statuses):
    [status] = statuses(new_exchange(agent).order("SOL", True, 1.0, 101.0, IOC))
    assert "filled" in status
    _, positions = perp(info, user.address)
    assert positions["SOL"]["szi"] == "1.0"


def test_duplicate_nonce_is_rejected(exchange, user, server, statuses):
    action = {
        "type": "order",
        "grouping": "na",
        "orders": [{"a": 2, "b": True, "p": "101", "s": "1", "r": False, "t": IOC}],
    }
    nonce = get_timestamp_ms()
    signature = sign_l1_action(user, action, None, nonce, None, False)
    body = {"action": action, "nonce": nonce, "signature": signature, "vaultAddress": None, "expiresAfter": None}
    assert "filled" in statuses(exchange.post("/exchange", body))[0]
    assert exchange.post("/exchange", body) == {"status": "err", "response": f"Invalid nonce: duplicate nonce {nonce}"}


def test_vault_address_equal_to_the_user_is_accepted(server, snapshot, user, statuses):
    from hyperliquid.exchange import Exchange

    vault_exchange = Exchange(
        user, server.url, meta=snapshot["meta"], spot_meta=snapshot["spotMeta"], vault_address=user.address
    )
    assert "filled" in statuses(vault_exchange.order("SOL", True, 1.0, 101.0, IOC))[0]


def test_vault_address_of_someone_else_is_rejected(server, snapshot, user, stranger):
    from hyperliquid.exchange import Exchange

    vault_exchange = Exchange(
        user, server.url, meta=snapshot["meta"], spot_meta=snapshot["spotMeta"], vault_address=stranger.address
    )
    assert vault_exchange.order("SOL", True, 1.0, 101.0, IOC)["status"] == "err"


def test_a_malformed_exchange_body_is_http_422(exchange):
    from hyperliquid.utils.error import ClientError

    with pytest.raises(ClientError) as caught:
        exchange.post("/exchange", {"action": {"type": "order"}, "nonce": "soon"})
    assert caught.value.status_code == 422
