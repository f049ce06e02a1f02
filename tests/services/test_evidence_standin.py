"""performance, risk and sensitivity on the local stand-in with moving prices, funding and fills: through the
services, the official MCP client path (fastmcp in-process) and the command line.

The stand-in runs on loopback with a clock the test moves; the real SDK adapter talks to it. Day 0 a plan is
executed (real fills and fees); then for ten days prices move and the AVAX perp is charged hourly-style funding
(appended to ``Account.funding_events`` exactly as Hyperliquid's ``userFunding`` elements, and taken from the
account's USDC as the exchange would).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import anyio
import pytest
from clirun import invoke_json, made_db, run_json
from fastmcp import Client
from fastmcp.exceptions import ToolError

from agent.core.domain import TargetAllocation
from agent.services.config import Settings
from agent.services.evidence.performance import performance
from agent.services.evidence.risk import risk_report
from agent.services.evidence.sensitivity import sensitivity
from agent.services.runtime import open_runtime
from agent.services.trading.heartbeat import Heartbeat
from agent.standin import StandIn, load_demo_snapshot, serve
from agent.standin.history import move_price, values
from tools.server import build_server

TARGET = {"UBTC/USDC": 0.25, "UETH/USDC": 0.30, "USOL/USDC": 0.25, "AVAX": 0.0, "USDC": 0.20}
MOVES = {
    "BTC": [1.01, 0.98, 1.03, 0.97, 1.02, 1.0, 0.99, 1.04, 0.96, 1.01],
    "ETH": [1.02, 0.97, 1.04, 0.95, 1.03, 1.01, 0.98, 1.05, 0.95, 1.02],
    "SOL": [1.03, 0.96, 1.05, 0.94, 1.02, 1.02, 0.97, 1.06, 0.93, 1.03],
    "AVAX": [1.02, 0.97, 1.03, 0.96, 1.02, 1.01, 0.98, 1.04, 0.95, 1.02],
}


class SharedClock:
    """One time for the services (datetime) and the stand-in (seconds)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def seconds(self) -> float:
        return self.now.timestamp()


def funding(ex: StandIn, coin: str, rate: str) -> dict[str, Any]:
    """One hour's funding of ``coin``, as Hyperliquid's userFunding element, and its USDC taken or paid."""
    pos = ex.account.positions[coin]
    usdc = -(pos.szi * ex.marks[coin] * Decimal(rate)).quantize(Decimal("0.000001"))
    ex.account.raw_usd += usdc
    event = {
        "time": ex.now_ms(),
        "hash": "0x" + f"{ex.now_ms():064x}",
        "delta": {
            "type": "funding",
            "coin": coin,
            "usdc": str(usdc),
            "szi": str(pos.szi),
            "fundingRate": rate,
            "nSamples": 1,
        },
    }
    ex.account.funding_events.append(event)
    return event


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Built once per module (per worker): the tests read it, and the one that changes the services' settings and
    records puts them back."""
    tmp_path = tmp_path_factory.mktemp("world")
    clock = SharedClock()
    ex = StandIn.from_snapshot(load_demo_snapshot(), clock=clock.seconds)
    with serve(ex) as server:
        settings = Settings(
            network=server.url,
            db=str(tmp_path / "h.db"),
            targets={"UBTC/USDC": 0.3, "UETH/USDC": 0.3, "USOL/USDC": 0.2, "AVAX": 0.05, "USDC": 0.15},
        )
        with open_runtime(settings, clock=clock) as svc:
            svc.observe()
            day0 = values(ex)[0]
            plan = svc.preview(TargetAllocation.from_json({**TARGET, "AVAX": 0.05, "USDC": 0.15}), source="test")
            report = svc.execute(plan.plan_id, plan.confirm_token or "", source="test")
            assert report.status in ("filled", "completed", "ok", "partial") or report.orders, report
            samples, events = [(clock.seconds(), values(ex)[0])], []
            for day in range(10):
                clock.now += timedelta(days=1)
                for coin, moves in MOVES.items():
                    move_price(ex, coin, ex.mids[coin] * Decimal(str(moves[day])))
                events.append(funding(ex, "AVAX", "0.0000125" if day % 3 else "-0.00002"))
                svc.observe()
                samples.append((clock.seconds(), values(ex)[0]))
            yield {
                "svc": svc,
                "ex": ex,
                "clock": clock,
                "samples": samples,
                "events": events,
                "url": server.url,
                "day0": day0,
                "tmp": tmp_path,
            }


def test_performance_reads_value_history_fills_and_funding(world):
    svc, ex, samples = world["svc"], world["ex"], world["samples"]
    out = performance(svc, 30)
    v_now, v_7, v_1 = float(samples[-1][1]), float(samples[-8][1]), float(samples[-2][1])
    assert out["returns"]["7d"] == pytest.approx(v_now / v_7 - 1, abs=1e-6)  # the answer has 6 decimals
    assert out["returns"]["1d"] == pytest.approx(v_now / v_1 - 1, abs=1e-6)
    assert out["returns"]["all_time"] is not None
    fills = ex.account.fills
    assert len(fills) >= 1
    assert out["fees_paid"] == pytest.approx(sum(float(f["fee"]) for f in fills), abs=1e-9) and out["fees_paid"] > 0
    assert out["realised_pnl"] == pytest.approx(sum(float(f["closedPnl"]) for f in fills), abs=1e-9)
    expected_funding = sum(float(e["delta"]["usdc"]) for e in world["events"])
    assert out["funding"] == pytest.approx(expected_funding, abs=1e-9) and expected_funding != 0
    assert out["per_asset"]["AVAX"]["funding"] == pytest.approx(expected_funding, abs=1e-9)
    assert out["vol_pa"] > 0 and out["max_drawdown"] > 0 and out["sharpe"] is not None
    assert out["turnover"] > 0
    # Seed 000: the executed cycle's realised 7-day return, from the account's value history.
    assert out["cycles_filled"] >= 1
    cycle = next(c for c in svc.history(30) if c["return_7d"] is not None)
    start = datetime.fromisoformat(cycle["started_at"]).timestamp()
    after = [v for t, v in samples if t <= start + 7 * 86400][-1]
    # From the value just before the rebalance (its cost included) to the value 7 days later.
    assert cycle["return_7d"] == pytest.approx(float(after) / float(world["day0"]) - 1, abs=1e-5)


def test_risk_correlation_trigger_alert_with_cooldown_and_the_drawdown_clamp(world):
    svc = world["svc"]
    report = risk_report(svc)
    corr = report["correlation"]
    assert set(corr["coins"]) >= {"UBTC/USDC", "UETH/USDC", "USOL/USDC"}
    n = len(corr["coins"])
    assert len(corr["matrix"]) == n and all(row[i] == 1.0 for i, row in enumerate(corr["matrix"]))
    assert report["correlation_breach"] == (corr["weighted_average"] > 0.8)
    hb = Heartbeat(svc, autonomy="advise")
    state, market = svc.observe()
    first = hb.triggers(state, market, state.equity(market), None)
    second = hb.triggers(state, market, state.equity(market), None)
    alerts = svc.store.records.alerts("correlation")
    if report["correlation_breach"]:
        assert any("correlation" in t for t in first) and any("correlation" in t for t in second)
        assert len(alerts) == 2 and "suppressed" in alerts[0]["delivered"]  # the cooldown held the second
    else:
        assert alerts == []
    # Drawdown protection: a clamp on the target, not only an alert.
    equity = state.equity(market)
    peak, limit = svc.store.records.get("peak_equity"), svc.settings.risk.max_drawdown
    svc.store.records.set("peak_equity", equity / 0.7)  # 30 % below the peak
    svc.settings.risk.max_drawdown = 0.2
    try:
        plan = svc.plan(None)
        assert any(c.startswith("drawdown protection") for c in plan.clamps)
        assert plan.target["UETH/USDC"] == pytest.approx(0.15) and plan.target["USDC"] == pytest.approx(0.575)
        assert risk_report(svc)["drawdown_protection_active"] is True
    finally:  # the module's other tests share these services
        svc.store.records.set("peak_equity", peak if peak is not None else equity)
        svc.settings.risk.max_drawdown = limit


def test_sensitivity_compares_staying_put_with_rebalancing(world):
    out = sensitivity(world["svc"], None, 30)
    assert out["days"] >= 20 and "not a forecast" in out["summary"] and out["note"] == "past data, not a forecast"
    assert out["paths"]["rebalanced"][0] == pytest.approx(1 - out["cost_fraction"])
    assert out["paths"]["current"][0] == pytest.approx(1.0)
    for key in ("total_return", "vol_pa", "max_drawdown", "sharpe"):
        assert out["difference"][key] == pytest.approx(out["rebalanced"][key] - out["current"][key])


def test_the_mcp_tools_answer_from_the_same_services(world):
    server = build_server(world["svc"])

    async def calls() -> tuple[dict[str, Any], ...]:
        async with Client(server) as c:
            perf = (await c.call_tool("get_performance", {"days": 30})).structured_content
            risk = (await c.call_tool("get_risk", {})).structured_content
            sens = (await c.call_tool("get_sensitivity", {"days": 30})).structured_content
            with pytest.raises(ToolError):
                await c.call_tool("get_performance", {"days": 0})
            with pytest.raises(ToolError):
                await c.call_tool("get_sensitivity", {"days": "30"})
            return perf, risk, sens

    perf, risk, sens = anyio.run(calls)
    assert perf["funding"] == pytest.approx(sum(float(e["delta"]["usdc"]) for e in world["events"]))
    assert risk["max_correlation"] == 0.8 and risk["correlation"]["matrix"]
    assert "not a forecast" in sens["summary"] and "paths" not in sens
    json.dumps([perf, risk, sens], allow_nan=False)


def test_the_command_line_reads_the_same_stand_in(world):
    env = {"REBALANCER_NETWORK": world["url"], "REBALANCER_DB": str(made_db(world["tmp"] / "cli.db"))}
    code, perf = run_json("performance", "--days", "30", env=env, cwd=world["tmp"])  # the console script once
    assert code == 0, perf
    assert perf["funding"] == pytest.approx(sum(float(e["delta"]["usdc"]) for e in world["events"]))
    target = world["tmp"] / "t.json"
    target.write_text(json.dumps(TARGET))
    png = world["tmp"] / "corr.png"
    code, risk = invoke_json("risk", "--plot", str(png), env=env, cwd=world["tmp"])
    assert code == 0 and risk["correlation"]["matrix"] and png.read_bytes()[:4] == b"\x89PNG"
    code, sens = invoke_json("sensitivity", "--target", str(target), "--days", "30", env=env, cwd=world["tmp"])
    assert code == 0 and sens["days"] >= 20
    code, bad = invoke_json("sensitivity", "--days", "3", env=env, cwd=world["tmp"])
    assert code == 2 and "days" in bad["error"]
