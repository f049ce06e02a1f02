"""Every tool through fastmcp's in-process client: shapes, annotations, bad arguments, read-only mode."""

from __future__ import annotations

import json

import pytest
from mcp_support import TARGETS, Mcp, make_settings
from pydantic import SecretStr

from agent.core.errors import ExchangeError
from agent.strategist.library import load_strategies
from tools.registry import FOR_PEOPLE, IN_THE_PROMPT, NOT_FOR_DECIDING, TOOLS, UNTRUSTED_NOTE, by_name, llm_tools
from tools.server import build_server

READ_ONLY = {
    "get_portfolio",
    "get_drift",
    "get_market",
    "list_strategies",
    "compute_target",
    "get_history",
    "get_performance",
    "get_risk",
    "get_sensitivity",
    "get_tax_lots",
    "get_tax_report",
    "get_plan",
}
DESTRUCTIVE = {"execute_rebalance", "cancel_open_orders", "pause_trading", "resume_trading"}
ALL = READ_ONLY | DESTRUCTIVE | {"preview_rebalance", "set_target_allocation", "reject_plan"}


# --------------------------------------------------------------------------- listing and annotations


def test_the_server_lists_every_tool_of_the_design(mcp: Mcp):
    assert set(mcp.tools()) == ALL


@pytest.mark.parametrize("name", sorted(READ_ONLY))
def test_read_only_tools_are_annotated_read_only_and_idempotent(mcp: Mcp, name: str):
    a = mcp.tools()[name].annotations
    assert (a.read_only_hint, a.idempotent_hint, a.destructive_hint) == (True, True, False)


@pytest.mark.parametrize("name", sorted(DESTRUCTIVE))
def test_destructive_tools_are_annotated_destructive(mcp: Mcp, name: str):
    a = mcp.tools()[name].annotations
    assert (a.read_only_hint, a.destructive_hint, a.idempotent_hint) == (False, True, False)


@pytest.mark.parametrize("name", ["preview_rebalance", "set_target_allocation", "reject_plan"])
def test_preview_and_set_target_store_something_but_destroy_nothing(mcp: Mcp, name: str):
    a = mcp.tools()[name].annotations
    assert (a.read_only_hint, a.destructive_hint, a.idempotent_hint) == (False, False, False)


def test_every_tool_has_a_prompt_docstring_and_a_closed_schema(mcp: Mcp):
    for name, t in mcp.tools().items():
        first, *rest = t.description.splitlines()
        assert first.endswith(".") and rest, name  # what it does, then its side effects
        assert t.input_schema["type"] == "object" and t.input_schema["additionalProperties"] is False, name
        assert t.title


def test_destructive_docstrings_say_so(mcp: Mcp):
    tools = mcp.tools()
    for name in ("execute_rebalance", "cancel_open_orders"):
        assert "DESTRUCTIVE" in tools[name].description


def test_read_only_mode_does_not_register_state_changing_tools(mcp_read_only: Mcp):
    assert set(mcp_read_only.tools()) == READ_ONLY | {"preview_rebalance"}
    assert "Unknown tool" in mcp_read_only.error("execute_rebalance", {"plan_id": "p_x", "confirm_token": "t"})
    assert "Unknown tool" in mcp_read_only.error("pause_trading", {"reason": "r"})


def test_read_only_in_the_config_cannot_be_widened_by_the_caller(tmp_path, clock):
    from agent.services.config import McpConfig
    from agent.services.runtime import open_runtime

    settings = make_settings(tmp_path, mcp=McpConfig(read_only=True))
    with open_runtime(settings, clock=clock) as svc:
        assert set(Mcp(build_server(svc, read_only=False)).tools()) == READ_ONLY | {"preview_rebalance"}


def test_llm_tool_specs_are_the_mcp_definitions_of_the_read_only_tools(services, mcp: Mcp):
    published = mcp.tools()
    specs = llm_tools(services)
    offered = READ_ONLY - IN_THE_PROMPT - FOR_PEOPLE - NOT_FOR_DECIDING
    assert [s.name for s in specs] == [t.name for t in TOOLS if t.name in offered]
    for s in specs:  # the published schema, less pydantic's titles and the `account` argument
        schema = published[s.name].input_schema
        props = {k: v for k, v in schema["properties"].items() if k != "account"}
        assert set(s.input_schema["properties"]) == set(props)
        assert "title" not in json.dumps(s.input_schema).replace('"title": {', "")
        for name, prop in s.input_schema["properties"].items():
            assert {k: v for k, v in props[name].items() if k != "title"} == prop
        assert s.description == published[s.name].description


def test_the_runtime_gives_the_strategist_the_registry_tools(services):
    assert {t.name for t in services.tools} == READ_ONLY - IN_THE_PROMPT - FOR_PEOPLE - NOT_FOR_DECIDING


def test_llm_handler_returns_the_payload_the_loop_then_marks(services):
    spec = {s.name: s for s in llm_tools(services)}["get_market"]
    out = spec.handler({"coins": ["BTC"]})
    assert list(out["assets"]) == ["BTC"] and "note" not in out  # the loop's envelope adds the note


# --------------------------------------------------------------------------- read-only tools


ARGS = {"compute_target": {"strategy_id": "risk-parity"}, "get_tax_report": {"year": 2026}}


def args_for(mcp: Mcp, name: str) -> dict | None:
    """A tool's arguments for the generic tests (``get_plan`` asks about a fresh preview)."""
    if name == "get_plan":
        return {"plan_id": mcp.call("preview_rebalance", {})["plan_id"]}
    return ARGS.get(name)


@pytest.mark.parametrize("name", sorted(READ_ONLY | {"preview_rebalance"}))
def test_every_result_is_marked_as_untrusted_data(mcp: Mcp, name: str):
    assert mcp.call(name, args_for(mcp, name))["note"] == UNTRUSTED_NOTE


@pytest.mark.parametrize(
    "strategy_id", ["equal-weight", "score-weighted", "risk-parity", "cash-reserve", "risk-off", "fixed-targets"]
)
def test_compute_target_gives_a_valid_target_within_the_strategy_caps(mcp: Mcp, services, strategy_id: str):
    from agent.core.domain import TargetAllocation
    from agent.core.targets import validate_target

    before = services.current_target()
    out = mcp.call("compute_target", {"strategy_id": strategy_id})
    assert out["strategy_id"] == strategy_id and isinstance(out["preconditions_met"], bool) and out["how"]
    target = TargetAllocation.from_json(out["target_allocation"])
    _, market = services.observe()
    validate_target(target, market)
    assert all(abs(w) <= out["caps"]["max_position"] + 1e-9 for c, w in target.weights.items())
    assert services.current_target() == before  # read-only: nothing stored


def test_compute_target_refuses_an_unknown_strategy(mcp: Mcp):
    assert "unknown strategy" in mcp.error("compute_target", {"strategy_id": "yolo"})
    assert "strategy_id" in mcp.error("compute_target", {"strategy_id": "../etc"})


def test_get_portfolio_weights_add_up(mcp: Mcp):
    p = mcp.call("get_portfolio")
    assert p["equity_usd"] > 0 and p["paused"] is False
    total = p["usdc_weight"] + sum(abs(x["weight"]) for x in p["positions"])
    assert total == pytest.approx(1.0)
    assert {x["coin"] for x in p["positions"]} >= {"UBTC/USDC", "UETH/USDC", "USOL/USDC", "AVAX"}
    # the demo account is unified: equity is spot at mid + perp uPnL, never plus the perp account value
    assert p["account_mode"] == "unifiedAccount"
    spot = p["usdc_spot_usd"] + sum(x["value_usd"] for x in p["positions"] if x["market"] == "spot")
    upnl = sum(x["unrealized_pnl"] for x in p["positions"] if x["market"] == "perp")
    assert p["equity_usd"] == pytest.approx(spot + upnl)


def test_get_drift_compares_with_the_configured_target(mcp: Mcp):
    d = mcp.call("get_drift")
    rows = {r["coin"]: r for r in d["rows"]}
    for coin, w in TARGETS.items():
        assert rows[coin]["target_weight"] == pytest.approx(w)
        assert rows[coin]["drift"] == pytest.approx(rows[coin]["current_weight"] - w, abs=1e-5)
    assert d["portfolio_drift"] == pytest.approx(0.5 * sum(abs(r["drift"]) for r in d["rows"]), abs=1e-4)


def test_get_drift_and_preview_without_a_target_use_the_strategist_and_say_so(tmp_path, clock):
    """The target rule is the services' own: config, then stored, then the strategist (it was CLI-only)."""
    from agent.services.runtime import open_runtime

    with open_runtime(make_settings(tmp_path, targets=None), clock=clock) as svc:
        mcp = Mcp(build_server(svc))
        drift = mcp.call("get_drift")
        assert drift["target_source"] == "strategist" and drift["strategy_id"]
        assert mcp.call("preview_rebalance")["target_source"] == "strategist"
        assert svc.store.records.decisions()  # the strategist's answer is recorded


def test_get_market_filters_coins_and_reports_funding_and_books(mcp: Mcp):
    m = mcp.call("get_market", {"coins": ["AVAX", "UBTC/USDC"]})
    assert set(m["assets"]) == {"AVAX", "UBTC/USDC"} and m["count"] == 2
    avax = m["assets"]["AVAX"]
    assert avax["best_bid"] <= avax["mid"] <= avax["best_ask"]
    assert avax["funding_apr"] == pytest.approx(avax["funding_hourly"] * 24 * 365)
    assert m["assets"]["UBTC/USDC"]["market"] == "spot"


def test_get_market_without_coins_lists_every_asset(mcp: Mcp):
    assert mcp.call("get_market")["count"] > 10


def test_list_strategies_is_the_library(mcp: Mcp):
    s = mcp.call("list_strategies")
    assert [x["id"] for x in s["strategies"]] == sorted(load_strategies())
    assert all(x["concept"] for x in s["strategies"])


def test_get_history_shows_previewed_plans(mcp: Mcp):
    plan = mcp.call("preview_rebalance")
    h = mcp.call("get_history", {"days": 1})
    assert h["days"] == 1 and h["cycles"] == []
    assert [(p["plan_id"], p["status"], p["source"]) for p in h["plans"]] == [(plan["plan_id"], "previewed", "mcp")]


# --------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("get_history", {"days": 0}, "greater than or equal to 1"),
        ("get_history", {"days": 3651}, "less than or equal to 3650"),
        ("get_history", {"days": "60"}, "valid integer"),
        ("get_history", {"days": 6.5}, "valid integer"),
        ("get_history", {"days": True}, "valid integer"),
        ("get_history", {"weeks": 2}, "weeks: unknown field"),
        ("get_portfolio", {"verbose": True}, "verbose: unknown field"),
        ("get_market", {"coins": "BTC"}, "valid list"),
        ("get_market", {"coins": ["BTC; DROP TABLE plans"]}, "pattern"),
        ("get_market", {"coins": [f"C{i}" for i in range(51)]}, "at most 50"),
        ("get_market", {"coins": ["NOPE"]}, "unknown coin(s): NOPE"),
        ("preview_rebalance", {"weights": {"NOPE": 0.5, "USDC": 0.5}}, "NOPE: not listed"),
        ("preview_rebalance", {"weights": {}}, "at least 1"),
        ("execute_rebalance", {"plan_id": "p_1"}, "confirm_token: Field required"),
        ("execute_rebalance", {"plan_id": "../etc", "confirm_token": "x"}, "plan_id"),
        ("execute_rebalance", {"plan_id": "p_unknown", "confirm_token": "x"}, "unknown plan id 'p_unknown'"),
        ("pause_trading", {}, "reason: Field required"),
        ("pause_trading", {"reason": ""}, "at least 1 character"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_arguments_get_one_clear_line(mcp: Mcp, name: str, args: dict, expected: str):
    message = mcp.error(name, args)
    assert expected in message
    assert "\n" not in message and "Traceback" not in message


BAD_TARGETS = {
    "unknown coin": ({"UBTC/USDC": 0.5, "DOGECOIN2": 0.3, "USDC": 0.2}, "DOGECOIN2: not listed"),
    "nan weight": ({"UBTC/USDC": float("nan"), "USDC": 0.5}, "weights.UBTC/USDC"),
    "infinite weight": ({"UBTC/USDC": float("inf")}, "weights.UBTC/USDC"),
    "string weight": ({"UBTC/USDC": "0.5", "USDC": 0.5}, "valid number"),
    "sum above one": ({"UBTC/USDC": 0.6, "UETH/USDC": 0.6, "USDC": 0.1}, "sum to"),
    "short spot": ({"UBTC/USDC": -0.2, "USDC": 0.8}, "spot"),
    "empty": ({}, "at least 1"),
    "too large": ({"UBTC/USDC": 11.0}, "less than or equal to 10"),
}


@pytest.mark.parametrize(("weights", "expected"), BAD_TARGETS.values(), ids=BAD_TARGETS.keys())
def test_a_bad_target_is_refused_and_the_stored_target_is_unchanged(mcp: Mcp, services, weights, expected):
    good = {"UBTC/USDC": 0.3, "UETH/USDC": 0.3, "USDC": 0.4}
    mcp.call("set_target_allocation", {"weights": good, "reasoning": "baseline"})
    before = services.store.records.get("target")
    assert expected in mcp.error("set_target_allocation", {"weights": weights})
    assert services.store.records.get("target") == before


def test_a_bad_preview_stores_no_plan(mcp: Mcp, services):
    mcp.error("preview_rebalance", {"weights": {"UBTC/USDC": 0.5, "ZZZ": 0.3, "USDC": 0.2}})
    assert services.store.plans.count() == 0


def test_set_target_allocation_stores_a_valid_target(tmp_path, clock):
    from agent.services.runtime import open_runtime

    with open_runtime(make_settings(tmp_path, targets=None), clock=clock) as services:
        mcp = Mcp(build_server(services))
        out = mcp.call("set_target_allocation", {"weights": {"UBTC/USDC": 0.5, "USDC": 0.5}, "reasoning": "half"})
        assert out["stored"] is True and out["active"] is True
        assert out["target"] == {"UBTC/USDC": 0.5, "USDC": 0.5}
        drift = mcp.call("get_drift")
        assert {k: w for k, w in drift["target"].items() if w} == {"UBTC/USDC": 0.5, "USDC": 0.5}  # held → 0
        assert drift["target_source"] == "stored"
        assert services.current_target().reasoning == "half"


def test_a_stored_target_under_configured_targets_is_kept_but_says_it_is_not_used(mcp: Mcp):
    out = mcp.call("set_target_allocation", {"weights": {"UBTC/USDC": 0.5, "USDC": 0.5}})
    assert out["stored"] is True and out["active"] is False and "[targets]" in out["detail"]
    assert mcp.call("get_drift")["target_source"] == "config"


# --------------------------------------------------------------------------- error masking


def test_our_errors_pass_through_as_one_line(mcp: Mcp, services, monkeypatch):
    def down() -> None:
        raise ExchangeError("exchange unreachable:\n  429 too many requests")

    monkeypatch.setattr(services, "observe", down)
    assert mcp.error("get_portfolio") == "exchange unreachable: 429 too many requests"


def test_unexpected_errors_are_masked(mcp: Mcp, services, monkeypatch):
    def boom() -> None:
        raise RuntimeError("db at /secret/path, key sk-live-0123456789abcdef")

    monkeypatch.setattr(services, "observe", boom)
    message = mcp.error("get_portfolio")
    assert message == "internal error in get_portfolio; see the server log"


def test_the_signing_key_never_appears_in_an_error(tmp_path, clock):
    from agent.services.runtime import open_runtime
    from agent.standin import DEMO_SECRET_KEY

    settings = make_settings(tmp_path, secret_key=SecretStr(DEMO_SECRET_KEY))
    with open_runtime(settings, clock=clock) as svc:
        m = Mcp(build_server(svc))

        def leak() -> None:
            raise ExchangeError(f"signing failed with {DEMO_SECRET_KEY}")

        svc.observe = leak  # type: ignore[method-assign]
        message = m.error("get_portfolio")
    assert DEMO_SECRET_KEY not in message and "[redacted]" in message


def test_results_are_plain_json(mcp: Mcp):
    for name in READ_ONLY:
        json.dumps(mcp.call(name, args_for(mcp, name)), allow_nan=False)


def test_registry_names_are_unique_and_snake_case():
    names = [t.name for t in TOOLS]
    assert len(names) == len(set(names)) == len(by_name())
    assert all(n.islower() and " " not in n for n in names)


def test_refusals_escape_control_characters_from_the_input():
    from tools.server import one_line

    evil = "ZZZ\u202eCSU\x00"
    assert one_line(f"{evil}: not listed on the exchange") == "ZZZ\\u202eCSU\\x00: not listed on the exchange"
