"""``rebalancer backtest`` through the command line (in process): the JSON shape, the pictures, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clirun import invoke, invoke_json

FIXTURE = Path(__file__).parents[1] / "fixtures" / "backtest" / "daily_2021_2026.csv"


def small_prices(tmp_path: Path, days: int = 120, *, mutate=None) -> Path:
    lines = FIXTURE.read_text().splitlines()
    header = lines[0].split(",")
    keep = [0, header.index("BTC"), header.index("ETH"), header.index("BTC_volume_usd"), header.index("ETH_volume_usd")]
    rows = [[line.split(",")[k] for k in keep] for line in lines[: days + 1]]
    if mutate:
        mutate(rows)
    p = tmp_path / "prices.csv"
    p.write_text("\n".join(",".join(r) for r in rows) + "\n")
    return p


@pytest.fixture
def target(tmp_path):
    p = tmp_path / "target.json"
    p.write_text(json.dumps({"BTC": 0.4, "ETH": 0.3, "USDC": 0.3}))
    return p


def test_backtest_json_has_every_metric_for_every_policy(tmp_path, target):
    prices = small_prices(tmp_path, 200)
    code, out = invoke_json(
        "backtest",
        "--prices",
        str(prices),
        "--target",
        str(target),
        "--policy",
        "never",
        "--policy",
        "calendar:monthly",
        "--policy",
        "calendar:7d",
        "--policy",
        "threshold:0.05",
        "--policy",
        "band:0.03:edge",
        "--policy",
        "band:0.03:target",
        "--policy",
        "cost-aware",
        "--policy",
        "calendar:weekly",
        "--policy",
        "calendar:quarterly",
        "--policy",
        "calendar:daily",
    )
    assert code == 0, out
    assert set(out) >= {"policies", "window", "costs"}
    specs = [p["spec"] for p in out["policies"]]
    assert specs[:3] == ["never", "calendar:monthly", "calendar:7d"]
    keys = {
        "mean_drift",
        "p95_drift",
        "max_drift",
        "turnover_pa",
        "cost_usd",
        "cost_bp_pa",
        "rebalances_pa",
        "trades",
        "final_equity",
        "cagr",
        "vol_pa",
        "sharpe",
        "sortino",
        "max_drawdown",
    }
    for p in out["policies"]:
        assert keys <= set(p["metrics"]), p["spec"]
    by = {p["spec"]: p["metrics"] for p in out["policies"]}
    assert by["never"]["trades"] == 0 and by["never"]["cost_usd"] == 0
    assert by["calendar:daily"]["mean_drift"] < by["calendar:monthly"]["mean_drift"] < by["never"]["mean_drift"]
    assert by["calendar:daily"]["cost_usd"] > by["calendar:monthly"]["cost_usd"] > 0
    assert out["window"]["days"] == 200 and out["costs"]["fee_bps"] == 4.5


def test_backtest_match_drift_and_pictures(tmp_path, target):
    prices = small_prices(tmp_path, 240)
    png, html = tmp_path / "bt.png", tmp_path / "bt.html"
    code, out = invoke_json(
        "backtest",
        "--prices",
        str(prices),
        "--target",
        str(target),
        "--policy",
        "calendar:monthly",
        "--match-drift",
        "calendar:monthly",
        "--plot",
        str(png),
        "--html",
        str(html),
    )
    assert code == 0, out
    matched = out["policies"][-1]["metrics"]
    assert matched["mean_drift"] <= out["match_drift"]["mean_drift"] + 1e-12
    for f in (png, tmp_path / "bt-frontier.png", tmp_path / "bt-allocation.png"):
        assert f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = html.read_text()
    assert page.count("data:image/png;base64,") == 3 and "calendar:monthly" in page and "<script" not in page


def _drop_eth(rows):
    for r in rows:
        del r[2]
        del r[-1]


def _negative(rows):
    rows[5][1] = "-3"


def _unsorted(rows):
    rows[3], rows[4] = rows[4], rows[3]


def _duplicate(rows):
    rows[4][0] = rows[3][0]


@pytest.mark.parametrize(
    ("mutate", "days", "args", "needle"),
    [
        (_drop_eth, 120, (), "ETH"),
        (_negative, 120, (), "non-positive"),
        (_unsorted, 120, (), "not sorted"),
        (_duplicate, 120, (), "duplicate date"),
        (None, 50, (), "at least 60"),
        (None, 120, ("--policy", "sometimes"), "unknown policy"),
        (None, 120, ("--policy", "band:7:edge"), "fraction"),
        (None, 120, ("--start", "2021-13-01"), "YYYY-MM-DD"),
    ],
    ids=[
        "missing column",
        "non-positive price",
        "unsorted dates",
        "duplicate dates",
        "window under 60 days",
        "unknown policy",
        "band out of range",
        "bad date",
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, target, mutate, days, args, needle):
    prices = small_prices(tmp_path, days, mutate=mutate)
    p = invoke("backtest", "--prices", str(prices), "--target", str(target), "--policy", "never", *args)
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], p.stderr
    assert not list(tmp_path.glob("*.db"))  # a backtest never opens the account's records


def test_missing_prices_file_is_exit_2(tmp_path, target):
    p = invoke("backtest", "--prices", str(tmp_path / "nope.csv"), "--target", str(target), "--policy", "never")
    assert p.returncode == 2 and "no such file" in p.stderr
