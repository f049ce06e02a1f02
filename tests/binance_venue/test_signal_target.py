"""The signal rules as the target source on the local Binance: the plan says where its target came from and
which rule held a trade back."""

from __future__ import annotations

from clirun import made_db

from agent.core.orders import OrderIntent, make_cloid
from agent.services.config import load_settings
from agent.services.runtime import open_runtime


def settings(tmp_path):
    cfg = tmp_path / "s.toml"
    cfg.write_text(
        f'network = "local"\ndb = "{made_db(tmp_path / "s.db")}"\n[exchange]\nvenue = "binanceus"\n'
        "[signals]\nenabled = true\n"
    )
    return load_settings(cfg, env={})


def test_signal_rules_trim_the_overweight_and_raise_the_reserve(tmp_path):
    with open_runtime(settings(tmp_path)) as svc:
        plan = svc.plan(None)
        assert (plan.target_source, plan.strategy_id) == ("signals", "signal-rules")
        assert plan.target["ETH/USD"] == 0.30  # over the 30 % maximum
        assert abs(plan.target["USDC"] - 0.20) < 1e-9  # the 20 % reserve
        assert all(a.side == "sell" for a in plan.actions)


def test_a_holding_bought_minutes_ago_is_held_back_by_name(tmp_path):
    with open_runtime(settings(tmp_path)) as svc:
        first = svc.plan(None)
        weakest = next(a.coin for a in first.actions if a.coin != "ETH/USD")
        info = svc.exchange.market(books=[weakest]).assets[weakest]
        buy = OrderIntent(
            cloid=make_cloid("user", 0, 1),
            asset=info.asset,
            wire_name=info.wire_name,
            coin=weakest,
            is_buy=True,
            size=round(20 / info.mid, info.sz_decimals) + 10**-info.sz_decimals,
            limit_px=info.mid * 1.01,
            sz_decimals=info.sz_decimals,
        )
        [r] = svc.exchange.place_orders([buy])
        assert r.status == "filled"
        second = svc.plan(None)
        assert any(c.startswith(f"min_hold_minutes: {weakest} was bought less than 5 min ago") for c in second.clamps)
        assert weakest not in {a.coin for a in second.actions}
