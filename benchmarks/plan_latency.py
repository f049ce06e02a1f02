"""Planner benchmark: latency at 10/50/200/1000 assets and traded notional vs its lower bound.

Run: ``python benchmarks/plan_latency.py [--runs 300]``. Random perp portfolios (longs and shorts,
random szDecimals and mids), random targets; every plan is checked for correctness (no asset both
bought and sold, all assets in band afterwards or reported) and the ratio of traded notional to the
lower bound Σ|target − current| notional over the assets that trade is printed.

The first scenario also times ``bare_plan``, a flat numpy reference for that case (all perps, everything
to target, no books) that returns the same ``TradeAction`` objects from the same inputs, and prints the
planner's time over the reference's (the median of back-to-back pairs on the same case; issue 11's goal:
≤ 1.5× at 200 coins) and how many plans matched.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time

import numpy as np

from agent import Market, MarketInfo, PortfolioRebalancer, PortfolioState, Position, TargetAllocation
from agent.core.capital import pool_label, pro_rata
from agent.core.domain import TradeAction
from agent.core.plan_report import trusted as _trusted
from agent.core.rules import protected_prices, round_price, round_size_down, round_sizes_down

MIN_TRADE, FEE, SLIP = 10.0, 0.00045, 5.0 / 10_000


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


def bare_plan(state: PortfolioState, target: TargetAllocation, market: Market, slippage: float = 0.005) -> list:
    """The planner's answer for all-perp, everything-to-target, no-book plans, flat in numpy (the reference)."""
    pos, alloc = state.positions, target.allocations
    coins = sorted(set(pos) | set(target.weights))
    infos = [market.assets[c] for c in coins]
    mid = np.array([i.mid for i in infos])
    szd = np.array([i.sz_decimals for i in infos])
    s = np.array([pos[c].size if c in pos else 0.0 for c in coins])
    t = np.array([alloc.get(c, 0.0) for c in coins])
    e = state.perp_account_value
    w = s * mid / e
    s_new = t * e / mid
    moving = np.abs(s_new - s) * mid > 1e-12 * max(e, 1.0)
    flip = s * s_new < 0
    to_zero = moving & (s != 0) & ((np.abs(s_new) * mid < MIN_TRADE) | flip)
    shrink = moving & (s != 0) & ~to_zero & (np.abs(s_new) < np.abs(s))
    grow = (moving & ~to_zero & ~shrink & (np.abs(s_new) > np.abs(s))) | (moving & flip)
    sellable = round_sizes_down(np.abs(s), szd)
    reduce_sz = round_sizes_down(np.abs(s) - np.abs(s_new), szd)
    dust = shrink & ((np.abs(s) - reduce_sz) * mid < MIN_TRADE)
    to_zero, shrink = to_zero | dust, shrink & ~dust
    grow_sz = round_sizes_down(np.where(flip, np.abs(s_new), np.abs(s_new) - np.abs(s)), szd)
    free_sz = np.where(to_zero, sellable, np.minimum(reduce_sz, sellable))
    frees = np.flatnonzero((to_zero | shrink) & (free_sz * mid >= MIN_TRADE - 1e-12) & (free_sz > 0))
    uses = np.flatnonzero(grow & (grow_sz * mid >= MIN_TRADE - 1e-12) & (grow_sz > 0))
    n = len(coins)
    buy_px = protected_prices(mid, np.ones(n, dtype=bool), slippage, np.ones(n, dtype=bool), szd)
    sell_px = protected_prices(mid, np.zeros(n, dtype=bool), slippage, np.ones(n, dtype=bool), szd)
    for i in np.flatnonzero((buy_px < mid) | (sell_px > mid) | (sell_px <= 0)):
        buy_px[i] = max(buy_px[i], round_price(float(mid[i]), "perp", int(szd[i]), up=True))
        sell_px[i] = min(sell_px[i], round_price(float(mid[i]), "perp", int(szd[i]), up=False)) or buy_px[i]
    fv = free_sz[frees] * mid[frees]
    frees = frees[np.lexsort((np.array(coins)[frees], -fv))] if len(frees) else frees
    uv = grow_sz[uses] * mid[uses]
    uses = uses[np.lexsort((np.array(coins)[uses], -uv))] if len(uses) else uses
    cost = FEE + SLIP
    freed = float((free_sz[frees] * mid[frees]).sum())
    e_after = e - freed * cost
    gross = float(np.abs(s * mid).sum()) - freed
    pool = state.perp_free + freed * (1 - cost)
    need = float((grow_sz[uses] * mid[uses]).sum()) * (1 + cost)
    overall = pro_rata(max(0.0, e_after - gross), need)
    scale = min(overall, pro_rata(pool, need))
    wl, wn, tl = w.tolist(), (np.where(moving, t, w)).tolist(), t.tolist()
    out = []
    for i in frees.tolist():
        c, closing = coins[i], bool(to_zero[i])
        why = (f"exit {c}: {wl[i]:+.2%} → 0" if closing
               else f"reduce {c}: {wl[i]:+.2%} → {wn[i]:+.2%} (target {tl[i]:+.2%})")
        out.append(_action(infos[i], s[i] > 0, "close" if closing else "reduce", float(free_sz[i]), mid[i], wl[i],
                           wn[i], True, float(sell_px[i] if s[i] > 0 else buy_px[i]), why))
    for i in uses.tolist():
        c, size, note = coins[i], float(grow_sz[i]), ""
        if scale < 1.0:
            size = round_size_down(size * scale, int(szd[i]))
            if size * mid[i] < MIN_TRADE - 1e-12:
                continue
            why_pool = "buying power" if scale == overall else pool_label("perp", "disabled")
            note = f" (shrunk to {scale:.1%} of the wanted size: {why_pool})"
        opening = bool(s[i] == 0 or flip[i])
        why = f"enter {c}: → {wn[i]:+.2%} (target {tl[i]:+.2%})" if opening else (
            f"increase {c}: {wl[i]:+.2%} → {wn[i]:+.2%} (target {tl[i]:+.2%})")
        sell = bool(s_new[i] < 0)
        out.append(_action(infos[i], sell, "open" if opening else "increase", size, mid[i], wl[i], wn[i], False,
                           float(sell_px[i] if sell else buy_px[i]), why + note))
    return out


def _action(info, sell, kind, size, mid, w0, w1, reduce_only, px, why) -> TradeAction:
    return _trusted(  # the cheapest way to a validated-shape model: what the planner itself uses
        TradeAction,
        coin=info.coin, market=info.market, side="sell" if sell else "buy", kind=kind, size=size,
        notional_usd=round(size * float(mid), 2), from_weight=round(w0, 6), to_weight=round(w1, 6),
        reduce_only=reduce_only, limit_px=px, reason=why, asset=info.asset, wire_name=info.wire_name,
        sz_decimals=info.sz_decimals, order_type="ioc", twap_minutes=None,
    )


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
    for k, (title, make, r) in enumerate(scenarios):
        print(f"\n{title}")
        run(args, rng, make, r, reference=k == 0)


def run(args, rng, make, r, *, reference: bool = False) -> None:
    extra = f" {'bare ms':>8} {'× bare':>7} {'same':>8}" if reference else ""
    print(f"{'assets':>6} {'median ms':>10} {'p99 ms':>8} {'trades':>7} {'ratio':>7} {'right':>7}{extra}")
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
        bare, paired, same = [], [], 0
        if reference:  # back to back on the same case, so a busy machine slows both alike
            for k in range(args.runs):
                state, target, market = cases[k % len(cases)]
                t0 = time.perf_counter()
                ref = bare_plan(state, target, market)
                t1 = time.perf_counter()
                plan = r.create_rebalancing_plan(state, target, market)
                t2 = time.perf_counter()
                bare.append((t1 - t0) * 1e3)
                paired.append((t2 - t1) / (t1 - t0))
                same += [a.model_dump() for a in ref] == [a.model_dump() for a in plan.actions]
        times.sort()
        p99 = times[min(len(times) - 1, int(0.99 * len(times)))]
        tail = ""
        if reference:
            b = statistics.median(bare)
            tail = f" {b:>8.3f} {statistics.median(paired):>7.2f} {same:>4}/{args.runs}"
        print(
            f"{n:>6} {statistics.median(times):>10.3f} {p99:>8.3f} {trades / args.runs:>7.1f} "
            f"{max(ratios):>7.4f} {right:>4}/{args.runs}{tail}"
        )
        gc.unfreeze()


if __name__ == "__main__":
    main()
