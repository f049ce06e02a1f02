"""Planner benchmark: latency at 10/50/200/1000 assets and traded notional vs its lower bound.

Run: ``python benchmarks/plan_latency.py [--runs 300]``. Random perp portfolios (longs and shorts,
random szDecimals and mids), random targets; every plan is checked for correctness (no asset both
bought and sold, all assets in band afterwards or reported) and the ratio of traded notional to the
lower bound Σ|target − current| notional over the assets that trade is printed.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time

import numpy as np

from agent import Market, MarketInfo, PortfolioRebalancer, PortfolioState, Position, TargetAllocation


def portfolio(n: int, rng: np.random.Generator) -> tuple[PortfolioState, TargetAllocation, Market]:
    mids = np.round(10 ** rng.uniform(-2, 5, n), 4)
    assets = {}
    for i, mid in enumerate(mids):
        szd = int(max(0, min(5, 6 - (4 - np.floor(np.log10(mid))))))
        assets[f"C{i}"] = MarketInfo(
            coin=f"C{i}", market="perp", asset=i, wire_name=f"C{i}", sz_decimals=szd, max_leverage=20, mid=float(mid)
        )
    equity = 1_000_000.0
    w = rng.dirichlet(np.ones(n)) * 0.9 * rng.choice([-1, 1], n)
    positions = {}
    for i, (c, info) in enumerate(assets.items()):
        size = round(w[i] * equity / info.mid, info.sz_decimals)
        if size:
            positions[c] = Position(coin=c, market="perp", size=size)
    t = rng.dirichlet(np.ones(n)) * 0.9 * rng.choice([-1, 1], n)
    target = TargetAllocation(allocations={f"C{i}": float(x) for i, x in enumerate(t)})
    return PortfolioState(perp_account_value=equity, positions=positions), target, Market(assets=assets)


def drifted(n: int, rng: np.random.Generator) -> tuple[PortfolioState, TargetAllocation, Market]:
    """A held portfolio that drifted from its target: the heartbeat's everyday case (threshold mode)."""
    state, target, market = portfolio(n, rng)
    t = np.array([target.allocations[f"C{i}"] for i in range(n)])
    w = t + rng.normal(0, 0.004, n) * (rng.random(n) < 0.3)
    equity = state.perp_account_value
    positions = {}
    for i in range(n):
        info = market.assets[f"C{i}"]
        size = round(w[i] * equity / info.mid, info.sz_decimals)
        if size:
            positions[f"C{i}"] = Position(coin=f"C{i}", market="perp", size=size)
    return PortfolioState(perp_account_value=equity, positions=positions), target, market


def lower_bound(plan, state, market) -> float:
    after = {c: p.size for c, p in state.positions.items()}
    for a in plan.actions:
        after[a.coin] = after.get(a.coin, 0.0) + (a.size if a.side == "buy" else -a.size)
    traded = {a.coin for a in plan.actions}
    return sum(
        abs(after[c] - (state.positions[c].size if c in state.positions else 0.0)) * market.mid(c) for c in traded
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--sizes", default="10,50,200,1000")
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    scenarios = [
        (
            "random → random, everything to target",
            portfolio,
            PortfolioRebalancer(rebalance_threshold=0.0, portfolio_threshold=0.0),
        ),
        ("drifted, threshold 0.5 % / 5 %", drifted, PortfolioRebalancer(rebalance_threshold=0.005)),
    ]
    for title, make, r in scenarios:
        print(f"\n{title}")
        run(args, rng, make, r)


def run(args, rng, make, r) -> None:
    print(f"{'assets':>6} {'median ms':>10} {'p99 ms':>8} {'trades':>7} {'ratio':>7} {'right':>7}")
    for n in map(int, args.sizes.split(",")):
        cases = [make(n, rng) for _ in range(min(args.runs, 200))]
        # The cases are ~10^5 live objects: move them out of the collector's way so p99 measures the
        # planner, not a full collection of the harness's own inputs.
        gc.collect()
        gc.freeze()
        times, ratios, right, trades = [], [], 0, 0
        for k in range(args.runs):
            state, target, market = cases[k % len(cases)]
            t0 = time.perf_counter()
            plan = r.create_rebalancing_plan(state, target, market)
            times.append((time.perf_counter() - t0) * 1e3)
            traded = sum(a.size * market.mid(a.coin) for a in plan.actions)
            lb = lower_bound(plan, state, market)
            ratios.append(traded / lb if lb else 1.0)
            sides: dict[str, set[str]] = {}
            for a in plan.actions:
                sides.setdefault(a.coin, set()).add(a.side)
            right += all(len(s) == 1 for s in sides.values()) and plan.summary.drift_after < max(
                0.01, r.portfolio_threshold
            )
            trades += len(plan.actions)
        times.sort()
        p99 = times[min(len(times) - 1, int(0.99 * len(times)))]
        print(
            f"{n:>6} {statistics.median(times):>10.3f} {p99:>8.3f} {trades / args.runs:>7.1f} "
            f"{max(ratios):>7.4f} {right:>4}/{args.runs}"
        )


if __name__ == "__main__":
    main()
