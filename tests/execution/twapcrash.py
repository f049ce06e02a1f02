"""A TWAP executor in a subprocess that SIGKILLs itself at a chosen point (``python twapcrash.py URL DB
PLAN CRASH``), for the kill -9 test of TWAP legs. ``CRASH``:

- ``placed``  — right after ``twapOrder`` was answered, before the twapId is journaled (row SENT, no id),
- ``resting`` — right after the row went RESTING with its twapId (the TWAP running at the exchange),
- ``none``    — run to the end (the restart: reconcile, then resume the plan).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any


def main(url: str, db: str, plan_path: str, crash: str) -> int:
    from agent.adapters.hyperliquid.client import HyperliquidExchange
    from agent.adapters.store.db import Store
    from agent.adapters.store.journal import RESTING, Journal
    from agent.core.domain import RebalancingPlan
    from agent.services.trading.twaps import TwapExecutor
    from agent.standin import DEMO_ACCOUNT_ADDRESS, DEMO_SECRET_KEY

    adapter = HyperliquidExchange(
        url, account_address=DEMO_ACCOUNT_ADDRESS, secret_key=DEMO_SECRET_KEY, timeout=2.0, order_ttl_s=1.5
    )

    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    class CrashingJournal(Journal):
        def mark(self, cloid: str, state: str, **kw: Any) -> Any:
            out = super().mark(cloid, state, **kw)
            if crash == "resting" and state == RESTING and kw.get("oid") is not None:
                die()
            return out

    class CrashingExchange:
        def __getattr__(self, name: str) -> Any:
            return getattr(adapter, name)

        def place_twap(self, intent: Any, minutes: int) -> Any:
            out = adapter.place_twap(intent, minutes)
            if crash == "placed":
                die()
            return out

    store = Store(db)
    plan = RebalancingPlan.model_validate_json(Path(plan_path).read_text())
    executor = TwapExecutor(CrashingExchange(), store, mode="live", journal=CrashingJournal(store), poll_s=0.02)
    report = executor.execute(plan)
    print(report.model_dump_json(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
