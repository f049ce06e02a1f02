"""Advisor page latency: each page over HTTP against the services' own call in the same run (the reference).

Run: ``python benchmarks/web_latency.py [--runs 30]``. The real runtime on the in-process stand-in (demo
account, seed 002's targets), the real server on an ephemeral loopback port, httpx as the client. Prints
the median and p90 of each page, and the advisor page's median over a direct ``services.plan()``: what the
web layer (templates, the scores and the sensitivity panel from the same plan; then HTTP, whose floor is the
404 row) adds to the plan ``status`` shows.

The rate: every call that reads the exchange spends request weight (the stand-in counts it as Hyperliquid
does). The client's own budget (``[hyperliquid] rate_limit_per_minute``) would make calls wait once spent, and
the timings would be the limiter's, not the server's. So before each timed call the benchmark waits, outside
the timing, until the budget holds that call's weight: the calls run at a rate the budget allows, and the
output says what that rate is and that the limiter never waited inside a timing.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from agent.adapters.hyperliquid.budget import RateBudget
from agent.interfaces.web import WebServer, pages
from agent.services.app import Services
from agent.services.config import Settings
from agent.services.evidence import advisor
from agent.services.runtime import open_runtime

TARGETS = {"UBTC/USDC": 0.25, "UETH/USDC": 0.30, "USOL/USDC": 0.25, "AVAX": 0.0, "USDC": 0.20}


def timed(call: Callable[[], object], runs: int, budget: RateBudget, weight: int) -> list[float]:
    """``runs`` timings of ``call``, each started only when the client's budget holds ``weight``."""
    call()  # warm
    out = []
    for _ in range(runs):
        time.sleep(budget.wait_for(weight + 4))  # not timed (a margin of two light reads): within the budget
        t0 = time.perf_counter()
        call()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def standin_weight(url: str, call: Callable[[], object]) -> int:
    """The request weight ``call`` spends, as the stand-in counts it."""
    start = httpx.get(f"{url}/standin/requests", params={"since": 10**9}).json()["count"]
    call()
    return int(httpx.get(f"{url}/standin/requests", params={"since": start}).json()["weight"])


def plan(svc: Services) -> object:
    with svc.question():  # one question, as `status` is
        return svc.plan(None)


def render(svc: Services) -> str:
    with svc.question():  # one question, as a web request is
        state, market = advisor.observe(svc)
        plan = svc.plan(None, state=state, market=market)
        return pages.advisor_page(svc, plan, market, csrf="x", read_only=False, state=state)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    runs = ap.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(network="local", db=str(Path(tmp) / "bench.db"), targets=TARGETS)
        with open_runtime(settings) as svc:
            server = WebServer(svc, port=0).start()
            budget = svc.exchange.budget
            url = svc.exchange.base_url
            try:
                with httpx.Client(base_url=server.base, timeout=30) as c:
                    c.get(server.url, follow_redirects=True).raise_for_status()  # the session; today's candles kept
                    load = standin_weight(url, lambda: c.get("/").raise_for_status())
                    plan_w = standin_weight(url, lambda: plan(svc))
                    render_w = standin_weight(url, lambda: render(svc))
                    waited = budget.waited_s
                    rows = {
                        "services.plan() (reference)": timed(lambda: plan(svc), runs, budget, plan_w),
                        "advisor rendered in-process": timed(lambda: render(svc), runs, budget, render_w),
                        "GET /missing (HTTP floor, 404)": timed(lambda: c.get("/missing"), runs, budget, 0),
                        "GET / (advisor)": timed(lambda: c.get("/").raise_for_status(), runs, budget, load),
                        "GET /settings": timed(lambda: c.get("/settings").raise_for_status(), runs, budget, 0),
                        "GET /history": timed(lambda: c.get("/history").raise_for_status(), runs, budget, 0),
                    }
                    waited = budget.waited_s - waited
            finally:
                server.stop()
    per_minute = budget.capacity
    print(
        f"request weight per advisor load: {load} (the stand-in's count; Hyperliquid allows 1200 a minute per IP); "
        f"the client's budget of {per_minute:g} a minute allows {per_minute / max(load, 1):.0f} loads a minute"
    )
    print(
        f"runs paced to the budget (each timed call starts when the budget holds its weight): the client's rate "
        f"limiter waited {waited:.2f} s inside the timings"
    )
    ref = statistics.median(rows["services.plan() (reference)"])
    print(f"{'what':32} {'median ms':>10} {'p90 ms':>8} {'× plan()':>9}   ({runs} runs each)")
    for name, ms in rows.items():
        p90 = sorted(ms)[int(0.9 * (len(ms) - 1))]
        print(f"{name:32} {statistics.median(ms):10.1f} {p90:8.1f} {statistics.median(ms) / ref:9.2f}")


if __name__ == "__main__":
    main()
