"""Request weight, plans and duplicate reads per question, against each question's budget.

Run: ``python benchmarks/weight_budget.py``. One stand-in (the demo account) on loopback counts every request
as Hyperliquid does (``agent.standin.weights``: l2Book, allMids, clearinghouseState, spotClearinghouseState,
orderStatus 2; userRole 60; most others 20; candleSnapshot 20 + 1 per 60 candles; /exchange 1 + batch/40).
The questions run through the real interfaces: the advisor page over HTTP (``GET /``, then a preview and a
confirm), ``rebalancer status`` through the CLI in-process (on a store the doctor never saw; after ``rebalancer
doctor``; and as the first of the next heartbeat interval), and one heartbeat tick (autonomy ``confirm``).
Plans are counted where the planner runs (``PortfolioRebalancer.create_rebalancing_plan``). A duplicate is an
/info body asked twice with no /exchange action in between.

The reference for ``status`` is measured in the same run: a fresh client's one account read plus one market
read (with the books of the coins the plan covers).
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from agent.core.planner import PortfolioRebalancer
from agent.standin import DEMO_ACCOUNT_ADDRESS, load_demo_snapshot, serve
from agent.standin.server import StandInServer
from agent.standin.weights import duplicates

TARGETS = '"UBTC/USDC" = 0.25\n"UETH/USDC" = 0.30\n"USOL/USDC" = 0.25\nAVAX = 0.0\nUSDC = 0.20\n'


@dataclass
class Spent:
    weight: int
    plans: int
    requests: int
    duplicates: list[str]
    kinds: dict[str, int]


class PlanCounter:
    """Counts the planner's runs while installed."""

    def __init__(self) -> None:
        self.count = 0
        self._original: Callable[..., Any] | None = None

    def __enter__(self) -> PlanCounter:
        original = PortfolioRebalancer.create_rebalancing_plan
        self._original = original

        def counted(planner: PortfolioRebalancer, *args: Any, **kw: Any) -> Any:
            self.count += 1
            return original(planner, *args, **kw)

        PortfolioRebalancer.create_rebalancing_plan = counted  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        PortfolioRebalancer.create_rebalancing_plan = self._original  # type: ignore[method-assign]


@contextmanager
def question(server: StandInServer, plans: PlanCounter) -> Iterator[list[Spent]]:
    """What the block spent at the stand-in (read over ``GET /standin/requests``) and how many plans it made."""
    start, before = len(server.requests), plans.count
    out: list[Spent] = []
    yield out
    log = httpx.get(f"{server.url}/standin/requests", params={"since": start}).json()
    kinds: dict[str, int] = {}
    for r in log["requests"]:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + r["weight"]
    out.append(Spent(log["weight"], plans.count - before, len(log["requests"]), duplicates(log["requests"]), kinds))


def config(tmp: Path, url: str, db: str = "h.db") -> Path:
    from agent.adapters.store.db import Store

    cfg = tmp / f"{db}.toml"
    cfg.write_text(f'network = "{url}"\ndb = "{tmp / db}"\n\n[targets]\n{TARGETS}')
    Store(tmp / db, init=True).close()  # a configured database is created on purpose, as `db init` does
    return cfg


def _doctor_keys(db: Path) -> list[str]:
    from agent.adapters.store.db import Store

    store = Store(db)
    try:
        return [r["key"] for r in store.query("SELECT key FROM settings WHERE key LIKE 'doctor%'")]
    finally:
        store.close()


def csrf_of(html: str) -> str:
    return html.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def hidden(html: str, name: str) -> str:
    return html.split(f'name="{name}" value="', 1)[1].split('"', 1)[0]


def measure(tmp: Path) -> dict[str, tuple[Spent, str, bool]]:
    from typer.testing import CliRunner

    from agent.adapters import readscope
    from agent.adapters.hyperliquid.client import HyperliquidExchange
    from agent.adapters.store.db import Store
    from agent.interfaces.cli import app
    from agent.interfaces.web import WebServer
    from agent.services.config import load_settings
    from agent.services.runtime import open_runtime
    from agent.services.trading.heartbeat import Heartbeat

    rows: dict[str, tuple[Spent, str, bool]] = {}
    with serve(load_demo_snapshot()) as server, PlanCounter() as plans:
        # the reference: one account read and one market read by a fresh client
        with question(server, plans) as ref, readscope.question():
            ex = HyperliquidExchange(server.url, account_address=DEMO_ACCOUNT_ADDRESS)
            state = ex.account_state()
            ex.market(books=sorted(set(state.positions) | {"UBTC/USDC", "UETH/USDC", "USOL/USDC", "AVAX"}))
        one_read = ref[0].weight

        cli = CliRunner()
        budget = 2 * one_read

        def status(label: str, cfg: Path) -> None:
            with question(server, plans) as spent:
                result = cli.invoke(app, ["status", "--config", str(cfg), "--json"])
                assert result.exit_code == 0, result.output
            s = spent[0]
            rows[label] = (s, f"≤ {budget} weight (2 × {one_read}), ≤ 1 plan", s.weight <= budget and s.plans <= 1)

        # a store the doctor never saw: the interval's checks are read, the wiring is named unchecked
        status("status (first, doctor never ran)", config(tmp, server.url, "fresh.db"))
        cfg = config(tmp, server.url, "cli.db")
        with question(server, plans) as spent:
            result = cli.invoke(app, ["doctor", "--config", str(cfg), "--json"])
            assert result.exit_code == 0, result.output
        rows["doctor (always afresh; no budget)"] = (spent[0], "(reads the wiring: kept a day for status)", True)
        status("status (doctor kept)", cfg)
        # the next heartbeat interval: the interval's checks asked again, the wiring still the doctor's
        records = Store(tmp / "cli.db").records
        key = next(k for k in _doctor_keys(tmp / "cli.db") if k.startswith("doctor:"))
        aged = records.get(key)
        aged["at"] = (datetime.fromisoformat(aged["at"]) - timedelta(hours=4, minutes=1)).isoformat()
        records.set(key, aged)
        records.store.close()
        status("status (first in a heartbeat interval)", cfg)

        settings = load_settings(config(tmp, server.url, "web.db"), env={})
        with open_runtime(settings) as svc:
            web = WebServer(svc, host="127.0.0.1", port=0).start()
            try:
                with httpx.Client(base_url=web.base, timeout=60) as c:
                    first = c.get(web.url, follow_redirects=True)  # the session cookie, and today's candles
                    with question(server, plans) as spent:
                        page = c.get("/")
                        page.raise_for_status()
                    s = spent[0]
                    rows["advisor GET /"] = (s, "≤ 40 weight, ≤ 1 plan", s.weight <= 40 and s.plans <= 1)
                    # a tick in the same process and store (today's candles kept by the page are the tick's too)
                    with question(server, plans) as spent:
                        tick = Heartbeat(svc, autonomy="confirm").tick()
                    s = spent[0]
                    rows[f"heartbeat tick (confirm: {tick.status})"] = (s, "1 plan", s.plans <= 1)
                    csrf = csrf_of(first.text)
                    with question(server, plans) as spent:
                        previewed = c.post("/preview", data={"csrf": csrf})
                        previewed.raise_for_status()
                    p = spent[0]
                    plan_id, token = hidden(previewed.text, "plan_id"), hidden(previewed.text, "confirm_token")
                    with question(server, plans) as spent:
                        done = c.post("/execute", data={"csrf": csrf, "plan_id": plan_id, "confirm_token": token})
                        done.raise_for_status()
                    x = spent[0]
                    assert 'id="exec-status">ok<' in done.text, "the confirm did not execute"
                    rows["advisor POST /preview"] = (p, "(preview + confirm ≤ 2 plans)", True)
                    rows["advisor POST /execute (the confirm)"] = (x, "(preview + confirm ≤ 2 plans)", True)
                    both = Spent(
                        p.weight + x.weight,
                        p.plans + x.plans,
                        p.requests + x.requests,
                        p.duplicates + x.duplicates,
                        {k: p.kinds.get(k, 0) + x.kinds.get(k, 0) for k in {*p.kinds, *x.kinds}},
                    )
                    rows["advisor preview + confirm"] = (both, "≤ 2 plans", both.plans <= 2)
            finally:
                web.stop()

    return rows


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rows = measure(Path(tmp))
    print(f"{'question':44} {'weight':>7} {'plans':>6} {'reqs':>5} {'dups':>5}  budget")
    ok = True
    for name, (s, budget, met) in rows.items():
        ok &= met and not s.duplicates
        mark = "ok" if met and not s.duplicates else "OVER"
        print(f"{name:44} {s.weight:7d} {s.plans:6d} {s.requests:5d} {len(s.duplicates):5d}  {budget}  [{mark}]")
    print("\nweight by request kind:")
    for name, (s, _, _) in rows.items():
        print(f"  {name}: " + ", ".join(f"{k} {v}" for k, v in sorted(s.kinds.items(), key=lambda kv: -kv[1])))
        for d in s.duplicates:
            print(f"    asked twice: {json.loads(d)}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
