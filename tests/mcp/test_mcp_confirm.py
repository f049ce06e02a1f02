"""Preview, then confirm: the token is single-use, expires, and execution re-checks the account and the switch."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from doubles import ExchangeClock, FakeClock
from mcp_support import Mcp, make_settings

from agent.core.orders import OrderIntent, make_cloid
from agent.core.rules import round_price, round_size_down
from agent.services.app import Services
from agent.services.config import McpConfig
from agent.services.runtime import open_runtime
from agent.standin import StandIn, load_demo_snapshot
from tools.registry import llm_tools
from tools.server import build_server

PLAN_KEYS = {"plan_id", "confirm_token", "expires_at", "rebalance_needed", "reason", "actions", "summary"}
ACTION_KEYS = {"coin", "market", "side", "kind", "size", "notional_usd", "from_weight", "to_weight", "reduce_only"}
SUMMARY_KEYS = {"total_sells_usd", "total_buys_usd", "turnover_usd", "num_trades", "drift_before", "drift_after"}


def plan_status(services: Services, plan_id: str) -> str:
    return services.store.plans.get(plan_id).status


def execute(mcp: Mcp, plan: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    return mcp.call("execute_rebalance", {"plan_id": plan["plan_id"], "confirm_token": token or plan["confirm_token"]})


def refusal(mcp: Mcp, plan: dict[str, Any], token: str | None = None) -> str:
    """The one-line reason an execution was refused."""
    return mcp.error("execute_rebalance", {"plan_id": plan["plan_id"], "confirm_token": token or plan["confirm_token"]})


def orders_sent(services: Services) -> int:
    return services.store.journal.count()


def place(services: Services, coin: str, *, is_buy: bool, size: float, px_factor: float, tif: str = "Ioc") -> Any:
    """An order straight through the SDK adapter: another trader (or the owner's phone) moving the account."""
    info = services.exchange.market().assets[coin]
    px = round_price(info.mid * px_factor, info.market, info.sz_decimals, up=is_buy)
    intent = OrderIntent(
        cloid=make_cloid(f"test-{coin}-{tif}", 0, 0),
        asset=info.asset,
        wire_name=info.wire_name,
        coin=coin,
        is_buy=is_buy,
        size=round_size_down(size, info.sz_decimals),
        limit_px=px,
        tif=tif,  # type: ignore[arg-type]
        sz_decimals=info.sz_decimals,
    )
    (result,) = services.exchange.place_orders([intent])
    return result


def test_preview_returns_the_plan_json_with_a_token(mcp: Mcp, services: Services, clock: FakeClock):
    plan = mcp.call("preview_rebalance")
    assert set(plan) >= PLAN_KEYS
    assert plan["rebalance_needed"] is True and plan["actions"]
    assert all(set(a) >= ACTION_KEYS for a in plan["actions"])
    assert set(plan["summary"]) >= SUMMARY_KEYS
    assert set(plan["estimated_cost"]) >= {"fees_usd", "slippage_usd", "total_usd"}
    assert plan["expires_at"] > clock().isoformat()
    assert plan_status(services, plan["plan_id"]) == "previewed"
    stored = services.store.plans.get(plan["plan_id"])
    assert plan["confirm_token"] not in stored.plan.model_dump_json() + (stored.token_hash or "")  # only a hash
    assert stored.plan.confirm_token is None


def test_preview_toward_given_weights(mcp: Mcp):
    plan = mcp.call("preview_rebalance", {"weights": {"UBTC/USDC": 0.1, "USDC": 0.9}, "reasoning": "risk off"})
    sells = {a["coin"] for a in plan["actions"] if a["side"] == "sell"}
    assert {"UBTC/USDC", "UETH/USDC", "USOL/USDC", "AVAX"} <= sells
    assert plan["target"]["USDC"] == pytest.approx(0.9)


def test_a_confirmed_plan_executes_and_moves_the_account(mcp: Mcp, services: Services):
    plan = mcp.call("preview_rebalance")
    out = execute(mcp, plan)
    assert out["plan_id"] == plan["plan_id"] and out["status"] == "ok"
    assert plan_status(services, plan["plan_id"]) == "executed:ok"
    assert mcp.call("get_drift")["portfolio_drift"] < plan["summary"]["drift_before"]


def test_a_token_is_single_use(mcp: Mcp, services: Services):
    plan = mcp.call("preview_rebalance")
    execute(mcp, plan)
    orders = orders_sent(services)
    assert "already used" in refusal(mcp, plan)
    assert orders_sent(services) == orders  # nothing sent again


def test_a_wrong_token_is_refused_and_does_not_burn_the_plan(mcp: Mcp, services: Services):
    plan = mcp.call("preview_rebalance")
    other = mcp.call("preview_rebalance", {"weights": {"UBTC/USDC": 0.5, "USDC": 0.5}})
    for token in ("not-the-token", other["confirm_token"]):
        assert "wrong confirm token" in refusal(mcp, plan, token)
    assert plan_status(services, plan["plan_id"]) == "previewed"
    assert orders_sent(services) == 0
    assert execute(mcp, plan)["status"] == "ok"


def _on_a_moving_exchange(tmp_path: Any, ttl: str) -> tuple[Any, ExchangeClock]:
    """A runtime on the local stand-in whose clock the test moves on (tokens live on the exchange's clock)."""
    exchange = ExchangeClock()
    standin = StandIn.from_snapshot(load_demo_snapshot(), clock=exchange)
    settings = make_settings(tmp_path, mcp=McpConfig(confirm_ttl=ttl))
    return open_runtime(settings, model_tools=llm_tools, standin_snapshot=standin), exchange  # type: ignore[arg-type]


def test_an_expired_token_is_refused(tmp_path):
    # Tokens live on the exchange's clock: a short life, and the exchange's time passing.
    runtime, exchange = _on_a_moving_exchange(tmp_path, "1s")
    with runtime as services:
        mcp = Mcp(build_server(services))
        plan = mcp.call("preview_rebalance")
        exchange.advance(1.2)
        assert "expired" in refusal(mcp, plan)
        assert plan_status(services, plan["plan_id"]) == "expired"
        assert orders_sent(services) == 0


def test_a_token_inside_its_lifetime_still_works(tmp_path):
    runtime, exchange = _on_a_moving_exchange(tmp_path, "3s")
    with runtime as services:
        mcp = Mcp(build_server(services))
        plan = mcp.call("preview_rebalance")
        exchange.advance(1.0)
        assert execute(mcp, plan)["status"] == "ok"


def test_execution_is_refused_when_the_account_moved_since_the_preview(mcp: Mcp, services: Services):
    plan = mcp.call("preview_rebalance")
    held = services.exchange.account_state().positions["UETH/USDC"].size
    filled = place(services, "UETH/USDC", is_buy=False, size=held * 0.6, px_factor=0.97)
    assert filled.status == "filled"
    message = refusal(mcp, plan)
    assert "moved since the preview" in message and "preview again" in message
    assert plan_status(services, plan["plan_id"]) == "refused"
    assert orders_sent(services) == 0
    fresh = mcp.call("preview_rebalance")
    assert execute(mcp, fresh)["status"] == "ok"


def test_paused_trading_refuses_execution_until_resumed(mcp: Mcp, services: Services):
    plan = mcp.call("preview_rebalance")
    assert mcp.call("pause_trading", {"reason": "maintenance"}) | {"note": None} == {
        "paused": True,
        "reason": "maintenance",
        "note": None,
    }
    assert mcp.call("get_portfolio")["paused"] is True
    assert "paused" in refusal(mcp, plan)
    assert orders_sent(services) == 0
    assert plan_status(services, plan["plan_id"]) == "previewed"  # the kill switch does not burn the token
    mcp.call("resume_trading", {"reason": "done"})
    assert execute(mcp, plan)["status"] == "ok"
    kinds = [a["kind"] for a in reversed(services.store.records.alerts())]
    assert kinds[:2] == ["pause", "resume"]


def test_cancel_open_orders_removes_resting_orders(mcp: Mcp, services: Services):
    before = {o.oid for o in services.exchange.open_orders()}  # the demo account rests an order already
    resting = place(services, "AVAX", is_buy=True, size=2.0, px_factor=0.8, tif="Gtc")
    assert resting.status in ("resting", "open")
    out = mcp.call("cancel_open_orders")
    assert {o["oid"] for o in out["cancelled"]} == before | {resting.oid}
    assert out["count"] == len(before) + 1
    assert services.exchange.open_orders() == []
    assert mcp.call("cancel_open_orders")["count"] == 0


def test_a_preview_through_read_only_mode_cannot_be_executed_there(mcp_read_only: Mcp, mcp: Mcp, services: Services):
    plan = mcp_read_only.call("preview_rebalance")
    assert "Unknown tool" in refusal(mcp_read_only, plan)
    assert plan_status(services, plan["plan_id"]) == "previewed"


def test_two_concurrent_executions_of_one_plan_trade_once(mcp: Mcp, services: Services):
    from fastmcp import Client

    plan = mcp.call("preview_rebalance")
    args = {"plan_id": plan["plan_id"], "confirm_token": plan["confirm_token"]}
    outcomes: list[bool] = []

    async def one() -> None:
        async with Client(mcp.server) as c:
            outcomes.append(not (await c.call_tool("execute_rebalance", args, raise_on_error=False)).is_error)

    async def both() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(one)
            tg.start_soon(one)

    anyio.run(both)
    assert sorted(outcomes) == [False, True]
    assert orders_sent(services) == len(plan["actions"])
