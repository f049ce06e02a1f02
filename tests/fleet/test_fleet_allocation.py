"""Three stand-in accounts (a master and two subaccounts) allocated fixed, risk-parity and adaptive: transfers
previewed, confirmed and executed once, through the command line (in process) against a stand-in the real SDK
talks to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from clirun import invoke, invoke_json

from agent.adapters.store.db import Store
from agent.standin import serve

from .fleetkit import SUBS, fleet_snapshot, ledger, write_config


@pytest.fixture
def server():
    with serve(fleet_snapshot()) as s:
        yield s


def _seed_history(db: str, equity_now: dict[str, float], returns: dict[str, list[float]]) -> None:
    """Equity per day as earlier fleet observations would have recorded it: the given daily returns, ending
    at today's real equity."""
    store = Store(db)
    today = datetime.now(UTC).date()
    for name, rs in returns.items():
        e = equity_now[name]
        for k, r in enumerate(reversed(rs)):
            e /= 1 + r
            store.equities.observe(name, (today - timedelta(days=k + 1)).isoformat(), e)
    store.close()


ALTERNATING = [0.01, -0.01] * 5


@pytest.mark.parametrize(
    ("allocation", "returns", "expected"),
    [
        (
            'method = "fixed"\nweights = {core = 0.5, trend = 0.25, carry = 0.25}',
            None,
            {"core": 0.5, "trend": 0.25, "carry": 0.25},
        ),
        # volatility 1 : 2 : 4 → inverse-vol weights 4/7, 2/7, 1/7
        (
            'method = "risk-parity"',
            {
                "core": [x * 1 for x in ALTERNATING],
                "trend": [x * 2 for x in ALTERNATING],
                "carry": [x * 4 for x in ALTERNATING],
            },
            {"core": 4 / 7, "trend": 2 / 7, "carry": 1 / 7},
        ),
        # only carry has a positive Sharpe ratio; bounded to [0.2, 0.6]
        (
            'method = "adaptive"\nmin_weight = 0.2\nmax_weight = 0.6',
            {"core": [-0.01, 0.0] * 5, "trend": [-0.02, 0.01] * 5, "carry": [0.02, 0.01] * 5},
            {"core": 0.2, "trend": 0.2, "carry": 0.6},
        ),
    ],
    ids=["fixed", "risk-parity", "adaptive"],
)
def test_three_accounts_are_allocated_previewed_confirmed_and_executed_once(
    tmp_path, server, allocation, returns, expected
):
    cfg = write_config(tmp_path, server.url, allocation)
    if returns:
        _, status = invoke_json("fleet", "status", "--config", str(cfg))
        _seed_history(str(tmp_path / "fleet.db"), {a["name"]: a["equity_usd"] for a in status["accounts"]}, returns)
    code, p = invoke_json("fleet", "preview", "--config", str(cfg))
    assert code == 0, p
    targets = {a["name"]: a["target_share"] for a in p["accounts"]}
    assert targets == pytest.approx(expected, abs=1e-4)
    if returns and "risk-parity" in allocation:  # scaled copies of one series: every pair correlates 1.0
        assert p["correlation"]["core"]["carry"] == pytest.approx(1.0, abs=1e-6)
        assert len(p["alerts"]) == 3 and all("over 0.80" in a for a in p["alerts"])
    assert p["plan_id"] and p["confirm_token"] and p["transfers"]
    withdrawals = [t for t in p["transfers"] if t["direction"] == "withdraw"]
    deposits = [t for t in p["transfers"] if t["direction"] == "deposit"]
    assert p["transfers"] == withdrawals + deposits  # withdrawals first
    freeable = {a["name"]: a["freeable_usd"] for a in p["accounts"]}
    assert all(t["usd"] <= freeable[t["account"]] + 0.01 for t in withdrawals)
    assert sum(t["usd"] for t in deposits) <= sum(t["usd"] for t in withdrawals) + freeable["core"] + 0.01

    code, report = invoke_json(
        "fleet", "execute", p["plan_id"], "--confirm", p["confirm_token"], "--yes", "--config", str(cfg)
    )
    assert code == 0, report
    assert report["status"] == "executed" and report["transfers_done"] == len(p["transfers"])
    lines = ledger(server)
    assert len(lines) == len(p["transfers"])  # each transfer exactly once
    assert sorted(float(line["delta"]["usdc"]) for line in lines) == sorted(t["usd"] for t in p["transfers"])

    token = p["confirm_token"]
    again = invoke_json("fleet", "execute", p["plan_id"], "--confirm", token, "--yes", "--config", str(cfg))
    assert again[0] == 3 and "already used" in again[1]["error"]
    assert len(ledger(server)) == len(p["transfers"])

    code, status = invoke_json("fleet", "status", "--config", str(cfg))
    assert code == 0
    assert set(status) >= {"total_equity_usd", "accounts"}
    assert set(status["accounts"][0]) >= {
        "name",
        "address",
        "equity_usd",
        "share",
        "target_share",
        "drift",
        "last_tick",
        "next_tick",
        "paused",
    }
    moved = {a["name"]: abs(a["drift"]) for a in status["accounts"]}
    before = {a["name"]: abs(a["drift"]) for a in p["accounts"]}
    assert sum(moved.values()) < sum(before.values())


def test_a_wrong_token_sends_nothing(tmp_path, server):
    cfg = write_config(tmp_path, server.url, 'method = "fixed"\nweights = {core = 0.5, trend = 0.25, carry = 0.25}')
    _, p = invoke_json("fleet", "preview", "--config", str(cfg))
    code, out = invoke_json("fleet", "execute", p["plan_id"], "--confirm", "nope", "--yes", "--config", str(cfg))
    assert code == 3 and "wrong confirm token" in out["error"]
    assert ledger(server) == []


@pytest.mark.parametrize(
    ("allocation", "accounts_extra", "message"),
    [
        ('method = "fixed"\nweights = {core = 0.5, trend = 0.3, carry = 0.3}', "", "sum to 1.1000, not 1"),
        ('method = "fixed"\nweights = {core = 0.5, trend = 0.5}', "", "no weight for carry"),
        (
            'method = "fixed"\nweights = {core = 0.5, trend = 0.25, ghost = 0.25}',
            "",
            "ghost is not a configured account",
        ),
        ('method = "adaptive"\nmin_weight = 0.5', "", "cannot hold 3 accounts"),
        (
            'method = "fixed"\nweights = {core = 0.5, trend = 0.5}',
            '[[accounts]]\nname = "trend"\naddress = "0x' + "1" * 40 + '"\n',
            "duplicate account name 'trend'",
        ),
    ],
    ids=["weights-not-1", "weight-missing", "unknown-account", "bounds-infeasible", "duplicate-name"],
)
def test_bad_fleet_config_is_one_line_and_exit_2(tmp_path, allocation, accounts_extra, message):
    cfg = write_config(tmp_path, "http://127.0.0.1:9", allocation, make_db=False)
    if accounts_extra:
        cfg.write_text(cfg.read_text().replace("[allocation]", accounts_extra + "\n[allocation]"))
    p = invoke("fleet", "preview", "--config", str(cfg))
    assert p.returncode == 2, p.stderr
    assert message in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "fleet.db").exists()


def test_a_withdrawal_larger_than_the_account_can_free_is_refused(tmp_path, server):
    cfg = write_config(tmp_path, server.url, 'method = "fixed"\nweights = {core = 0.5, trend = 0.25, carry = 0.25}')
    _, p = invoke_json("fleet", "preview", "--config", str(cfg))
    trend = next(a for a in p["accounts"] if a["name"] == "trend")
    # Between preview and execute the trend subaccount opens a position that locks its margin.
    import eth_account
    from hyperliquid.exchange import Exchange

    from agent.standin import DEMO_SECRET_KEY

    snap = fleet_snapshot()
    ex = Exchange(
        eth_account.Account.from_key(DEMO_SECRET_KEY),
        server.url,
        meta=snap["meta"],
        spot_meta=snap["spotMeta"],
        vault_address=trend["address"],
    )
    ex.update_leverage(1, "ETH")
    assert ex.market_open("ETH", True, 1.8, None, 0.01)["status"] == "ok"
    code, out = invoke_json(
        "fleet", "execute", p["plan_id"], "--confirm", p["confirm_token"], "--yes", "--config", str(cfg)
    )
    assert code in (2, 3), out
    assert "larger than it can free" in out["error"] or "moved since the preview" in out["error"]
    assert ledger(server) == []
    assert SUBS


def test_an_account_that_is_an_agent_wallet_is_refused_with_exit_2(tmp_path, server):
    from agent.standin import DEMO_AGENT_ADDRESS

    cfg = write_config(tmp_path, server.url, 'method = "fixed"\nweights = {core = 0.5, trend = 0.25, carry = 0.25}')
    cfg.write_text(cfg.read_text().replace(SUBS[1][1], DEMO_AGENT_ADDRESS.lower()))
    p = invoke("fleet", "preview", "--config", str(cfg))
    assert p.returncode == 2, p.stderr
    assert "accounts.carry" in p.stderr and "agent wallet" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    assert ledger(server) == []
