"""Advisor page latency: each page over HTTP against the services' own call in the same run (the reference).

Run: ``python benchmarks/web_latency.py [--runs 30]``. The real runtime on the in-process stand-in (demo
account, seed 002's targets), the real server on an ephemeral loopback port, httpx as the client. Prints
the median and p90 of each page, the exchange weight one advisor load spends, and the advisor page's
median over a direct ``services.plan()``: what
the web layer (templates, the extra market read for scores; then HTTP, whose floor is the 404 row) adds
to the plan ``status`` shows.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from agent.interfaces.web import WebServer, pages
from agent.services.app import Services
from agent.services.config import Settings
from agent.services.evidence import advisor
from agent.services.runtime import open_runtime

TARGETS = {"UBTC/USDC": 0.25, "UETH/USDC": 0.30, "USOL/USDC": 0.25, "AVAX": 0.0, "USDC": 0.20}


def timed(call: Callable[[], object], runs: int) -> list[float]:
    call()  # warm
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        call()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def render(svc: Services) -> str:
    state, market = advisor.observe(svc)
    return pages.advisor_page(svc, svc.plan(None, state=state, market=market), market, csrf="x", read_only=False)


def main() -> None:
    ap = argparse.ArgumentParser()
    # the client's rate budget (1000 weight/min, a burst of 1000) is spent by every exchange read: keep the
    # default small enough that the timings are the page's, not the bucket's (the weight per load is printed)
    ap.add_argument("--runs", type=int, default=8)
    runs = ap.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(network="local", db=str(Path(tmp) / "bench.db"), targets=TARGETS)
        with open_runtime(settings) as svc:
            server = WebServer(svc, port=0).start()
            try:
                with httpx.Client(base_url=server.base, timeout=30) as c:
                    c.get(server.url)
                    rows = {
                        "services.plan() (reference)": timed(lambda: svc.plan(None), runs),
                        "advisor rendered in-process": timed(lambda: render(svc), runs),
                        "GET /missing (HTTP floor, 404)": timed(lambda: c.get("/missing"), runs),
                        "GET / (advisor)": timed(lambda: c.get("/").raise_for_status(), runs),
                        "GET /settings": timed(lambda: c.get("/settings").raise_for_status(), runs),
                        "GET /history": timed(lambda: c.get("/history").raise_for_status(), runs),
                    }
                    spent = svc.exchange.budget.spent
                    c.get("/").raise_for_status()
                    per_load = svc.exchange.budget.spent - spent
            finally:
                server.stop()
    print(f"exchange rate budget per advisor load: {per_load:g} weight (Hyperliquid allows 1200 per minute per IP)")
    ref = statistics.median(rows["services.plan() (reference)"])
    print(f"{'what':32} {'median ms':>10} {'p90 ms':>8} {'× plan()':>9}   ({runs} runs each)")
    for name, ms in rows.items():
        p90 = sorted(ms)[int(0.9 * (len(ms) - 1))]
        print(f"{name:32} {statistics.median(ms):10.1f} {p90:8.1f} {statistics.median(ms) / ref:9.2f}")


if __name__ == "__main__":
    main()
