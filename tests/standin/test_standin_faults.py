"""Each fault knob is observable through the real SDK, and lost answers still apply the action."""

from __future__ import annotations

import pytest
import requests
from hyperliquid.utils.error import ClientError, ServerError
from hyperliquid.utils.types import Cloid

IOC = {"limit": {"tif": "Ioc"}}


def test_http_429_raises_client_error_then_recovers(server, info, user):
    server.faults.http_429_next = 1
    with pytest.raises(ClientError) as caught:
        info.user_state(user.address)
    assert caught.value.status_code == 429
    assert info.user_state(user.address)["marginSummary"]["accountValue"] == "10000.0"


def test_http_5xx_raises_server_error(server, info, user):
    server.faults.http_5xx_next = 1
    with pytest.raises(ServerError) as caught:
        info.spot_user_state(user.address)
    assert caught.value.status_code == 500


def test_timeout_raises_a_requests_timeout_and_applies_nothing(server, new_exchange, info, user):
    server.faults.timeout_next = 1
    slow = new_exchange(timeout=0.3)
    with pytest.raises(requests.exceptions.Timeout):
        slow.order("SOL", True, 1.0, 101.0, IOC)
    assert info.user_fills(user.address) == []


def test_malformed_json_comes_back_as_an_sdk_error_dict(server, info):
    server.faults.malformed_next = 1
    answer = info.all_mids()
    assert set(answer) == {"error"}
    assert answer["error"].startswith("Could not parse JSON:")


def test_malformed_exchange_answer_still_applies_the_order(server, exchange, info, user):
    server.faults.malformed_next = 1
    cloid = Cloid.from_int(5)
    answer = exchange.order("SOL", True, 1.0, 101.0, IOC, cloid=cloid)
    assert "error" in answer
    assert info.query_order_by_cloid(user.address, cloid)["order"]["status"] == "filled"


@pytest.mark.parametrize(
    "mode, error", [("close", requests.exceptions.ConnectionError), ("502", ServerError)], ids=["close", "502"]
)
def test_lost_response_applies_the_action_and_order_status_shows_it(server, exchange, info, user, mode, error):
    server.faults.lose_response_next = 1
    server.faults.lose_mode = mode
    cloid = Cloid.from_int(11)
    with pytest.raises(error):
        exchange.order("SOL", True, 1.0, 101.0, IOC, cloid=cloid)
    status = info.query_order_by_cloid(user.address, cloid)
    assert status["status"] == "order" and status["order"]["status"] == "filled"
    assert info.user_state(user.address)["assetPositions"][0]["position"]["szi"] == "1.0"


def test_path_filter_limits_faults_to_one_endpoint(server, exchange, info, user):
    server.faults.path = "/exchange"
    server.faults.http_429_next = 1
    assert info.user_state(user.address)["withdrawable"] == "10000.0"  # /info unaffected
    with pytest.raises(ClientError):
        exchange.order("SOL", True, 1.0, 101.0, IOC)
    assert server.faults.http_429_next == 0


def test_latency_delays_but_answers(server, info):
    server.faults.latency_s = 0.05
    assert info.all_mids()["BTC"] == "100000.0"
