"""``rebalancer plan`` from a snapshot, through the command line (in process)."""

from __future__ import annotations

import json

import pytest
from clirun import invoke, invoke_json
from snapshots import snapshot


@pytest.fixture
def files(tmp_path):
    snap = tmp_path / "snap.json"
    snap.write_text(json.dumps(snapshot(perp_positions={"BTC": 0.4}, account_value=52_000.0)))
    target = tmp_path / "target.json"
    target.write_text(json.dumps({"BTC": 0.4, "ETH": 0.3, "USDC": 0.3}))
    return snap, target, tmp_path


def test_plan_json_has_the_contract_shape(files):
    snap, target, _ = files
    code, out = invoke_json("plan", "--snapshot", str(snap), "--target", str(target))
    assert code == 0
    for key in ("plan_id", "rebalance_needed", "reason", "actions", "summary", "estimated_cost"):
        assert key in out
    assert [(a["coin"], a["side"], a["kind"]) for a in out["actions"]] == [
        ("BTC", "sell", "reduce"),
        ("ETH", "buy", "open"),
    ]
    action_keys = {
        "coin",
        "market",
        "side",
        "kind",
        "size",
        "notional_usd",
        "from_weight",
        "to_weight",
        "reduce_only",
        "limit_px",
        "reason",
    }
    assert action_keys <= set(out["actions"][0])
    assert {
        "total_sells_usd",
        "total_buys_usd",
        "turnover_usd",
        "num_trades",
        "positions_exited",
        "positions_entered",
        "drift_before",
        "drift_after",
        "max_weight_before",
        "max_weight_after",
    } <= set(out["summary"])
    assert set(out["estimated_cost"]) == {"fees_usd", "slippage_usd", "total_usd"}


def test_plan_human_output_shows_the_drift_table(files):
    snap, target, _ = files
    p = invoke("plan", "--snapshot", str(snap), "--target", str(target))
    assert p.returncode == 0, p.stderr
    assert "Current vs target" in p.stdout and "Rebalance needed" in p.stdout and "ETH" in p.stdout


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ({"BTC": 0.8, "USDC": 0.5}, "sum to 1.3"),
        ({"NOPE": 0.5}, "NOPE: not listed"),
        ({"BTC": "half"}, "valid number"),
        ([1, 2], "expected a JSON object"),
    ],
    ids=["sum", "unknown-coin", "string", "list"],
)
def test_bad_targets_exit_2_with_one_line(files, target, message):
    snap, _, tmp = files
    bad = tmp / "bad.json"
    bad.write_text(json.dumps(target))
    p = invoke("plan", "--snapshot", str(snap), "--target", str(bad))
    assert p.returncode == 2
    assert message in p.stderr and p.stderr.count("\n") == 1


def test_bad_mode_and_missing_files_are_clear(files):
    snap, target, tmp = files
    p = invoke("plan", "--snapshot", str(snap), "--target", str(target), "--mode", "yolo")
    assert p.returncode == 2 and "--mode must be one of" in p.stderr
    p = invoke("plan", "--snapshot", str(tmp / "missing.json"), "--target", str(target))
    assert p.returncode == 2 and "no such file" in p.stderr
    (tmp / "broken.json").write_text("{")
    p = invoke("plan", "--snapshot", str(tmp / "broken.json"), "--target", str(target))
    assert p.returncode == 2 and "not valid JSON" in p.stderr


def test_cost_aware_mode_gives_each_asset_its_own_band_from_the_shipped_history(files):
    snap, _, tmp_path = files
    target = tmp_path / "ten.json"
    target.write_text(json.dumps({"BTC": 0.3, "ETH": 0.3, "DOGE": 0.2, "USDC": 0.2}))
    code, out = invoke_json("plan", "--snapshot", str(snap), "--target", str(target), "--mode", "cost-aware")
    assert code == 0, out
    half = {r["coin"]: (r["band_high"] - r["band_low"]) / 2 for r in out["rows"] if r["coin"] != "USDC"}
    assert len({round(h, 5) for h in half.values()}) == 3  # volatility- and weight-dependent, not one width
    assert half["DOGE"] > half["BTC"] > 0  # the more volatile asset waits longer before trading
    assert "cost-aware bands" in out["reason"]
