"""Lot-aware sells end to end on the stand-in (through the SDK): the preview names the lots and the gain, the
executor records them before the order, the fills consume exactly those lots; wash-sale blocking and
harvesting through the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from clirun import made_db

from agent.services.config import load_settings
from agent.services.runtime import open_runtime

from .conftest import DEMO, FILLS, fill

TARGETS = '"UBTC/USDC" = 0.10\n"UETH/USDC" = 0.37\n"USOL/USDC" = 0.245\nAVAX = 0.059\nUSDC = 0.226'


def test_a_preview_names_its_lots_and_the_fills_consume_exactly_them(tax_config):
    cfg = tax_config('lot_selection = "hifo"', targets=TARGETS)
    with open_runtime(load_settings(cfg, env={})) as svc:
        plan = svc.preview(None, source="cli")
        [sell] = [a for a in plan.actions if a.coin == "UBTC/USDC"]
        assert sell.side == "sell"
        ids = [lot for lot, _ in sell.lots]
        assert ids[0] == "fill:4"  # HIFO: the $100,000 lot first
        assert sum(q for _, q in sell.lots) == pytest.approx(sell.size)
        expected = 0.01483 * (77558.5 - 100_000) + (sell.size - 0.01483) * (77558.5 - 1200 / 0.01999)
        assert sell.est_gain_usd == pytest.approx(expected, abs=0.05)
        assert plan.tax["gain_usd"] == pytest.approx(sell.est_gain_usd, abs=0.02)

        report = svc.execute(plan.plan_id, plan.confirm_token, source="cli")
        assert report.status == "ok", report
        rows = svc.store.query(
            "SELECT c.cloid, c.created_at AS chosen, o.created_at AS intended FROM tax_lot_choices c "
            "JOIN orders o ON o.cloid = c.cloid"
        )
        assert rows and all(r["chosen"] <= r["intended"] for r in rows)  # named before the intent, so before signing

        from agent.services.evidence.tax import tax_lots

        after = tax_lots(svc)
        ubtc = {r["lot"].split(":")[1]: r["quantity"] for r in after["lots"] if r["asset"] == "UBTC"}
        state = svc.exchange.account_state()
        assert "4" not in ubtc  # the dear lot went first, as named
        assert ubtc["1"] == pytest.approx(state.positions["UBTC/USDC"].size, abs=1e-9)


def _recent_loss_snapshot(tmp_path):
    now = datetime.now(UTC)
    day = (now - timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    fills = [f for f in FILLS if f["tid"] != 5] + [fill("@156", "A", 150, 4.889, day, fee="0.5", tid=5)]
    snap = json.loads(DEMO.read_text())
    snap["userFills"] = sorted(fills, key=lambda f: -f["time"])
    out = tmp_path / "recent.json"
    out.write_text(json.dumps(snap))
    return out


def test_wash_sale_blocking_holds_the_buy_back_and_says_why(cli, tmp_path):
    snap = _recent_loss_snapshot(tmp_path)
    cfg = tmp_path / "ws.toml"
    base = f'network = "local"\ndb = "{made_db(tmp_path / "ws.db")}"\nlocal_snapshot = "{snap}"\n[targets]\n'
    base += '"UBTC/USDC" = 0.30\n"UETH/USDC" = 0.30\n"USOL/USDC" = 0.35\nAVAX = 0.0\nUSDC = 0.05\n'
    cfg.write_text(base + '[tax]\njurisdiction = "us"\n')
    code, free = cli("preview", "--config", str(cfg), "--json")
    assert code == 0, free
    assert any(a["coin"] == "USOL/USDC" and a["side"] == "buy" for a in free["actions"])

    cfg.write_text(base + '[tax]\njurisdiction = "us"\nwash_sale_days = 30\n')
    code, held = cli("preview", "--config", str(cfg), "--json")
    assert code == 0, held
    assert not any(a["coin"] == "USOL/USDC" and a["side"] == "buy" for a in held["actions"])
    [why] = [c for c in held["clamps"] if c.startswith("wash sale")]
    assert "USOL sold at a $244.95 loss" in why and "wash_sale_days = 30" in why


def test_harvesting_proposes_the_losing_lots_and_what_they_save(cli, tax_config):
    cfg = tax_config(
        "harvest = true\nharvest_min_loss_usd = 500\nlong_term_rate = 0.15\nshort_term_rate = 0.35", targets=TARGETS
    )
    code, plan = cli("preview", "--config", str(cfg), "--json")
    assert code == 0, plan
    [cand] = plan["tax"]["harvest"]
    assert cand["coin"] == "USOL/USDC"
    loss = 25.111 * 200 - 25.111 * 86.1405
    assert cand["unrealised_loss_usd"] == pytest.approx(loss, abs=0.02)
    rate = 0.15 if cand["term"] == "long" else 0.35
    assert cand["saves_usd"] == pytest.approx(loss * rate, abs=0.02)


def test_with_tax_off_the_plan_is_unchanged(cli, tmp_path, fills_snapshot):
    cfg = tmp_path / "off.toml"
    cfg.write_text(
        f'network = "local"\ndb = "{made_db(tmp_path / "o.db")}"\nlocal_snapshot = "{fills_snapshot}"\n'
        f"[targets]\n{TARGETS}\n"
    )
    code, plan = cli("preview", "--config", str(cfg), "--json")
    assert code == 0, plan
    assert plan["tax"] is None
    assert all(a.get("lots") is None for a in plan["actions"])
