"""``fleet run``: 50 accounts tick within one shared rate budget (every grant counted), never two ticks of one
account at once, and the command line ticks a small fleet once per account."""

from __future__ import annotations

import threading

import pytest
from clirun import invoke

from agent.adapters.hyperliquid.budget import AddressActions, WindowBudget
from agent.services.config import Settings
from agent.services.fleet.accounts import open_fleet
from agent.services.fleet.scheduler import FleetRunner
from agent.standin import DEMO_ACCOUNT_ADDRESS, serve

from .fleetkit import fleet_snapshot, sub_address, write_config

N = 50


def _max_in_window(log: list[tuple[float, int]], window: float) -> float:
    best, start, total = 0.0, 0, 0.0
    for t, w in log:
        total += w
        while log[start][0] <= t - window:
            total -= log[start][1]
            start += 1
        best = max(best, total)
    return best


@pytest.mark.slow  # seconds of real waiting by design: the budget must bind (more than 3 windows' weight)
def test_fifty_accounts_tick_within_the_shared_weight_budget(tmp_path):
    subs = [(f"a{i:02d}", sub_address(f"a{i}"), 1_000.0 + 10 * i, 0.0) for i in range(N - 1)]
    accounts = [{"name": "core", "address": DEMO_ACCOUNT_ADDRESS, "role": "master", "targets": {"USDC": 1.0}}]
    accounts += [{"name": n, "address": a, "targets": {"BTC": 0.2, "USDC": 0.8}} for n, a, *_ in subs]
    # A 1 s window with a 600-weight limit: the same rule as 1200 per minute, 60 times faster.
    budget = WindowBudget(600, window_s=1.0, keep_log=True)
    with serve(fleet_snapshot(subs)) as server:
        settings = Settings.model_validate(
            {
                "network": server.url,
                "db": str(tmp_path / "fleet.db"),
                "accounts": accounts,
                "allocation": {"method": "risk-parity"},
                "fleet": {"workers": 8},
                "heartbeat": {"autonomy": "advise"},
            }
        )
        with open_fleet(settings, budget=budget, actions=AddressActions(60)) as fleet:
            runner = FleetRunner(fleet, max_ticks=1)
            schedules = runner.run(threading.Event())
    assert len(schedules) == N and all(s.ticks == 1 for s in schedules.values())
    assert all(s.last is not None and s.last.status not in ("error", "busy") for s in schedules.values()), {
        n: (s.last.status, s.last.reason) for n, s in schedules.items() if s.last and s.last.status in ("error", "busy")
    }
    assert budget.log is not None
    spent = sum(w for _, w in budget.log)
    assert spent == budget.spent and spent > 3 * budget.limit  # the budget really bound the run
    assert _max_in_window(budget.log, budget.window_s) <= budget.limit  # never more than the limit in any window
    per_tick = spent / N
    print(f"{N} accounts: {spent} weight, {per_tick:.0f} per tick; at 1200/min: {1200 / per_tick:.0f} ticks per minute")


def test_fleet_run_once_ticks_every_account_once(tmp_path):
    with serve(fleet_snapshot()) as server:
        cfg = write_config(
            tmp_path,
            server.url,
            'method = "fixed"\nweights = {core = 0.5, trend = 0.25, carry = 0.25}',
            master_targets="{USDC = 1.0}",
            sub_targets="{BTC = 0.2, USDC = 0.8}",
        )
        p = invoke("fleet", "run", "--once", "--config", str(cfg), timeout=180)
    assert p.returncode == 0, p.stderr
    ticked = sorted(line.split(":")[0] for line in p.stdout.splitlines() if ": hb-" in line)
    assert ticked == ["carry", "core", "trend"]
    assert "weight used" in p.stdout
