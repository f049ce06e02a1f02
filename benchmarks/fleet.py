"""Accounts watched per minute under Hyperliquid's 1200-weight budget, per account size, against the limit.

For each account size (the number of perp positions each account holds) a fleet of subaccounts on the local
stand-in ticks (advise: observe → target → plan, no orders) through ``FleetRunner`` with one shared
:class:`WindowBudget`. Two figures per size:

- weight per tick, counted on every request (steady state: ticks after each account's first, the start-up
  ``userRole`` checks excluded);
- the limit that implies, 1200 / weight per tick accounts per minute, and what the scheduler achieved
  under the same rule run ``speedup`` times faster (``1200 × speedup × window/60`` weight per ``window``
  seconds; the achieved rate is divided back by ``speedup``), as a ratio of that limit.

    python benchmarks/fleet.py [--accounts 20] [--window 2] [--speedup 10] 2>/dev/null
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import threading
import time
from pathlib import Path

from agent.adapters.hyperliquid.budget import AddressActions, WindowBudget
from agent.services.config import Settings
from agent.services.fleet.accounts import open_fleet
from agent.services.fleet.scheduler import FleetRunner
from agent.standin import DEMO_ACCOUNT_ADDRESS, load_demo_snapshot, serve
from agent.standin.subaccounts import perp_state

COINS = ["BTC", "ETH", "SOL", "AVAX", "LINK", "DOGE", "ARB", "OP", "SUI", "INJ"]
LIMIT = 1200.0


def _snapshot(n: int, size: int) -> tuple[dict, list[dict]]:
    snap = load_demo_snapshot()
    mids = snap["allMids"]
    entries, accounts = [], [{"name": "core", "address": DEMO_ACCOUNT_ADDRESS, "role": "master"}]
    for i in range(n):
        address = "0x" + hashlib.sha256(f"bench {i}".encode()).hexdigest()[:40]
        coins = COINS[:size]
        positions = {c: (round(100.0 / float(mids[c]), 4) or 0.1, float(mids[c])) for c in coins}
        entries.append(
            {
                "name": f"s{i}",
                "subAccountUser": address,
                "master": DEMO_ACCOUNT_ADDRESS.lower(),
                "clearinghouseState": perp_state(2_000.0, positions),
                "spotState": {"balances": []},
            }
        )
        target = {c: 0.8 / max(size, 1) for c in coins} or {"BTC": 0.2}
        target["USDC"] = round(1 - sum(target.values()), 6)
        accounts.append({"name": f"s{i}", "address": address, "targets": target})
    accounts[0]["targets"] = {"USDC": 1.0}
    return {**snap, "subAccounts": entries}, accounts


def measure(n: int, size: int, window: float, speedup: float) -> dict[str, float]:
    snap, accounts = _snapshot(n, size)
    scaled = LIMIT * speedup * window / 60.0
    budget = WindowBudget(scaled, window_s=window, keep_log=True)
    with serve(snap) as server, tempfile.TemporaryDirectory() as tmp:
        settings = Settings.model_validate(
            {
                "network": server.url,
                "db": str(Path(tmp) / "f.db"),
                "accounts": accounts,
                "allocation": {"method": "risk-parity"},
                "fleet": {"workers": 4},
                "heartbeat": {"autonomy": "advise", "interval": "1s"},
            }
        )
        with open_fleet(settings, budget=budget, actions=AddressActions(60)) as fleet:
            FleetRunner(fleet, max_ticks=1).run(threading.Event())  # first ticks: caches warm
            before, t0 = budget.spent, time.monotonic()
            runner = FleetRunner(fleet, max_ticks=2, check_roles=False)  # checked once by the first run
            runner.run(threading.Event())
            elapsed = time.monotonic() - t0
            ticks = sum(s.ticks for s in runner.schedules.values())
            spent = budget.spent - before
    per_tick = spent / ticks
    implied = LIMIT / per_tick
    achieved = ticks / elapsed * 60.0 / speedup
    return {"per_tick": per_tick, "implied": implied, "achieved": achieved, "ratio": achieved / implied}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=20)
    ap.add_argument("--window", type=float, default=2.0)
    ap.add_argument("--speedup", type=float, default=10.0)
    args = ap.parse_args()
    print(f"{args.accounts + 1} accounts, budget {LIMIT:.0f} weight/min ({args.window:g} s windows, x{args.speedup:g})")
    print(f"{'positions':>9} {'weight/tick':>11} {'limit acc/min':>13} {'achieved acc/min':>16} {'ratio':>6}")
    for size in (0, 1, 3, 6, 10):
        m = measure(args.accounts, size, args.window, args.speedup)
        print(f"{size:>9} {m['per_tick']:>11.1f} {m['implied']:>13.1f} {m['achieved']:>16.1f} {m['ratio']:>6.2f}")


if __name__ == "__main__":
    main()
