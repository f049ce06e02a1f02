"""Seed 000's settings stored in the database: the TOML's rules, one effect everywhere, a named source."""

from __future__ import annotations

import math

import pytest
from clirun import invoke_json, made_db

from agent.services.config import load_settings
from agent.services.runtime import open_runtime
from agent.services.trading.targets import context
from agent.strategist.regime import momentum_score, weighted_score
from agent.strategist.summary import render_state_summary

TARGET = '"UBTC/USDC" = 0.25\n"UETH/USDC" = 0.30\n"USOL/USDC" = 0.25\nAVAX = 0.0\nUSDC = 0.20\n'


def config(tmp_path, extra: str = "", targets: bool = True):
    cfg = tmp_path / "rebalancer.toml"
    body = f'network = "local"\ndb = "{made_db(tmp_path / "h.db")}"\n{extra}\n'
    cfg.write_text(body + (f"[targets]\n{TARGET}" if targets else ""))
    return cfg


def sources(svc) -> dict[str, tuple[object, str]]:
    return {v.field.key: (v.value, v.source) for v in svc.settings_fields()}


@pytest.mark.parametrize(
    ("key", "text", "problem"),
    [
        ("rebalance.position_threshold", "150", "must be at most 100 %"),
        ("rebalance.position_threshold", "abc", "is not a number"),
        ("rebalance.calendar_days", "5", "must be one of 3, 7, 14"),
        ("strategist.top_percentile", "5", "must be at least 10 %"),
        ("strategist.strategy", "yolo", "must be one of auto"),
        ("limits.max_weight", "0", "must be above 0 %"),
        ("strategist.score_weights.momentum", "nan", "not a finite number"),
        ("heartbeat.autonomy", "reckless", "must be one of advise, confirm, auto"),
        ("db", "elsewhere.db", "not a setting that can be stored"),
    ],
    ids=["over-100%", "not-a-number", "schedule", "percentile", "strategy", "max-position", "nan", "autonomy", "db"],
)
def test_an_invalid_value_is_named_at_its_field_and_nothing_is_stored(tmp_path, key, text, problem):
    with open_runtime(load_settings(config(tmp_path), env={})) as svc:
        result = svc.save_settings({key: text, "rebalance.portfolio_threshold": "4"})
        assert not result.ok and problem in result.errors[key]
        assert svc.settings.rebalance.portfolio_threshold == pytest.approx(0.05)  # the valid field waited too
        assert svc.store.records.get("stored_settings") is None


def test_stored_values_take_effect_in_every_later_runtime_and_in_the_command_line(tmp_path):
    cfg = config(tmp_path, extra="[rebalance]\nportfolio_threshold = 0.06")
    with open_runtime(load_settings(cfg, env={})) as svc:
        assert sources(svc)["rebalance.portfolio_threshold"] == (0.06, "config file")
        assert sources(svc)["rebalance.position_threshold"] == (0.05, "default")
        result = svc.save_settings({"rebalance.position_threshold": "7", "limits.max_weight": "32"})
        assert result.ok and set(result.saved) == {"rebalance.position_threshold", "limits.max_weight"}
    with open_runtime(load_settings(cfg, env={})) as svc:  # a new process, the same database
        assert sources(svc)["rebalance.position_threshold"] == (pytest.approx(0.07), "stored")
        assert svc.limits().max_weight == pytest.approx(0.32)
        assert svc.planner().position_threshold == pytest.approx(0.07)
    code, status = invoke_json("status", "--config", str(cfg))
    assert code == 0
    btc = next(r for r in status["rows"] if r["coin"] == "UBTC/USDC")
    assert btc["band_low"] == pytest.approx(0.25 - 0.07)  # the stored threshold, not the default 5 %
    with open_runtime(load_settings(cfg, env={})) as svc:
        svc.forget_settings()
        assert sources(svc)["rebalance.position_threshold"] == (0.05, "default")
        assert svc.settings.limits.max_weight is None


def test_the_strategy_and_top_percentile_drive_the_offline_strategist(tmp_path):
    cfg = config(tmp_path, targets=False)
    with open_runtime(load_settings(cfg, env={})) as svc:
        auto = svc.decide()
        assert auto.ok and auto.selected_strategy != "equal-weight"
        assert svc.save_settings({"strategist.strategy": "equal-weight", "strategist.top_percentile": "30"}).ok
        chosen = svc.decide()
        assert chosen.ok and chosen.selected_strategy == "equal-weight" and "Top 30%" in chosen.reasoning
        assert svc.save_settings({"strategist.top_percentile": "70"}).ok
        wider = svc.decide()
        held = lambda d: {c for c, w in d.target.allocations.items() if c != "USDC" and w > 0}  # noqa: E731
        assert len(held(wider)) > len(held(chosen))
        state, market = svc.observe()
        prompt = render_state_summary(context(svc, state, market))  # a model is told the owner's choice
        assert "owner_choice: strategy=equal-weight top_percentile=0.7" in prompt


def test_the_score_weights_default_to_momentum_and_trend_changes_the_score():
    feats = {"return_90d": 0.3, "vol_90d": 0.6, "return_30d": -0.1, "vol_30d": 0.5}
    assert weighted_score(feats, {"momentum": 1.0, "trend": 0.0}) == momentum_score(feats) == pytest.approx(0.5)
    assert weighted_score(feats, {"momentum": 0.5, "trend": 0.5}) == pytest.approx(0.5 * 0.5 + 0.5 * -0.2)
    assert math.isnan(weighted_score({"return_90d": 0.3}, {"momentum": 1.0}))


def test_a_stored_value_that_no_longer_validates_is_ignored_with_a_warning(tmp_path, caplog):
    cfg = config(tmp_path)
    with open_runtime(load_settings(cfg, env={})) as svc:
        svc.store.records.set("stored_settings", {"rebalance.calendar_days": 5, "rebalance.position_threshold": 0.07})
    with open_runtime(load_settings(cfg, env={})) as svc:
        assert svc.settings.rebalance.calendar_days == 3  # the file's (default) rule
        assert svc.settings.rebalance.position_threshold == pytest.approx(0.07)  # the valid one still applies
    assert "rebalance.calendar_days = 5 ignored" in caplog.text
