"""Invariants of the planner over random portfolios, markets and targets (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.core.costs import CostModel
from agent.core.domain import Market, MarketInfo, PortfolioState, Position, TargetAllocation
from agent.core.limits import CashReserve
from agent.core.planner import PortfolioRebalancer, portfolio_drift
from agent.core.rules import is_valid_price, is_valid_size

MIN_TRADE = 10.0


@st.composite
def scenarios(draw):
    n = draw(st.integers(1, 12))
    assets, positions, target = {}, {}, {}
    for i in range(n):
        spot = draw(st.booleans()) and i % 3 == 2
        coin = f"C{i}/USDC" if spot else f"C{i}"
        mid = float(f"{draw(st.floats(1e-3, 2e5)):.5g}")
        # Hyperliquid picks szDecimals so a price tick is at most ~1e-4 of the price (6 − szd decimals).
        max_szd = max(0, min(5, 6 - (4 - math.floor(math.log10(mid)))))
        szd = draw(st.integers(0, max_szd))
        assets[coin] = MarketInfo(
            coin=coin,
            market="spot" if spot else "perp",
            asset=10000 + i if spot else i,
            wire_name=f"@{i}" if spot else coin,
            sz_decimals=szd,
            max_leverage=None if spot else 20,
            mid=mid,
        )
        if draw(st.booleans()):
            notional = draw(st.floats(0, 50_000))
            sign = 1.0 if spot or draw(st.booleans()) else -1.0
            size = round(sign * notional / mid, szd)
            if size != 0:
                hold = round(abs(size) * draw(st.sampled_from([0.0, 0.0, 0.3])), szd) if spot else 0.0
                positions[coin] = Position(coin=coin, market="spot" if spot else "perp", size=size, hold=hold)
        if draw(st.booleans()):
            target[coin] = draw(st.floats(0, 1)) * (1.0 if spot or draw(st.booleans()) else -1.0)
    account = draw(st.floats(0, 100_000))
    usdc = draw(st.floats(0, 50_000))
    gross = sum(abs(w) for w in target.values())
    budget = draw(st.floats(0.1, 1.0))
    if gross > budget:
        target = {k: v * budget / gross for k, v in target.items()}
    if not target:
        target = {"USDC": 1.0}
    market = Market(assets=assets)
    # the perp account must be able to carry the perp positions at 1x
    perp_ntl = sum(abs(p.size) * assets[c].mid for c, p in positions.items() if p.market == "perp")
    state = PortfolioState(perp_account_value=max(account, perp_ntl * 0.2), usdc_spot_total=usdc, positions=positions)
    kw = draw(
        st.sampled_from(
            [
                {"mode": "threshold"},
                {"mode": "threshold", "rebalance_threshold": 0.03, "portfolio_threshold": 0.05},
                {"mode": "band", "band": 0.05},
                {"mode": "band", "band": 0.25, "band_kind": "relative"},
                {"mode": "calendar"},
                {"mode": "cash-flow"},
                {"mode": "threshold", "cash_reserve": CashReserve()},
                {"mode": "threshold", "max_trades": 2},
            ]
        )
    )
    return state, market, TargetAllocation(allocations=target), kw


def _simulate(plan, state, market, costs: CostModel, floor: float, leverage: float):
    """Replay the plan at planned prices; return the post-trade sizes and the minimum buying power seen."""
    size = {c: p.size for c, p in state.positions.items()}
    e = state.equity(market)
    gross = sum(abs(s) * market.mid(c) for c, s in size.items())
    min_power_after_use = math.inf
    for a in plan.actions:
        info = market.assets[a.coin]
        before = size.get(a.coin, 0.0)
        after = before + (a.size if a.side == "buy" else -a.size)
        fee = a.size * info.mid * costs.fee_rate(info.market)
        slip = costs.slippage_usd(info.book, info.mid, a.size, a.side == "buy", a.limit_px)
        e -= fee + slip
        gross += (abs(after) - abs(before)) * info.mid
        size[a.coin] = after
        if abs(after) > abs(before) + 1e-12:
            min_power_after_use = min(min_power_after_use, (leverage - floor) * e - gross)
    return size, e, min_power_after_use


def _pools(plan, state, market, costs: CostModel) -> tuple[float, float]:
    """Lowest spot-USDC and perp-margin balances seen while replaying the plan (perp margin at 1x)."""
    spot, perp = state.spot_usdc_free, state.perp_free
    low_spot, low_perp = spot, perp
    for a in plan.actions:
        info = market.assets[a.coin]
        value = a.size * info.mid
        cost = value * costs.fee_rate(info.market) + costs.slippage_usd(
            info.book, info.mid, a.size, a.side == "buy", a.limit_px
        )
        frees = a.kind in ("reduce", "close")
        if info.market == "spot":
            spot += (value if frees else -value) - cost
        else:
            lev = max(1.0, state.positions[a.coin].leverage or 1.0) if a.coin in state.positions else 1.0
            perp += (value / lev if frees else -value) - cost
        if not frees:
            low_spot, low_perp = min(low_spot, spot), min(low_perp, perp)
    return low_spot, low_perp


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_plan_invariants(case):
    state, market, target, kw = case
    r = PortfolioRebalancer(min_trade_value=MIN_TRADE, **kw)
    plan = r.create_rebalancing_plan(state, target, market)
    e0 = state.equity(market)

    # no asset is both bought and sold; nothing is traded twice in the same direction by two kinds
    sides: dict[str, set[str]] = {}
    for a in plan.actions:
        sides.setdefault(a.coin, set()).add(a.side)
    assert all(len(s) == 1 for s in sides.values())

    # every action obeys Hyperliquid's rules
    slip = r.max_slippage_pct
    for a in plan.actions:
        info = market.assets[a.coin]
        assert is_valid_size(a.size, info.sz_decimals), a
        assert a.size * info.mid >= MIN_TRADE - 1e-9, a
        assert is_valid_price(a.limit_px, info.market, info.sz_decimals), a
        if a.side == "buy":
            assert a.limit_px <= info.mid * (1 + slip) + 1e-9
        else:
            assert a.limit_px >= info.mid * (1 - slip) - 1e-9
        assert a.reduce_only == (info.market == "perp" and a.kind in ("reduce", "close"))

    # capital-freeing actions come before capital-using ones
    kinds = [a.kind in ("reduce", "close") for a in plan.actions]
    assert kinds == sorted(kinds, reverse=True)

    size_after, e_after, min_power = _simulate(plan, state, market, r.costs, r.cash_floor, r.max_gross_leverage)
    # spot USDC and perp margin are separate pools: neither goes negative at any step
    assert min(_pools(plan, state, market, r.costs)) >= -1e-6 * max(1.0, e0)
    # cash (buying power above the reserve floor) never goes negative at any step
    assert min_power >= -1e-6 * max(1.0, e0)
    # spot is never short and never sells what is locked
    for c, s in size_after.items():
        if market.assets[c].market == "spot":
            held = state.positions.get(c)
            eps = 1e-12 * max(1.0, abs(held.size) if held else 0.0)  # float noise on huge sizes
            assert s >= -1e-9 - eps
            if held is not None:
                assert s >= held.hold - 1e-9 - eps

    # traded notional equals the lower bound Σ|Δ notional| over the assets that trade
    traded = sum(a.size * market.mid(a.coin) for a in plan.actions)
    lower = sum(
        abs(size_after[c] - (state.positions[c].size if c in state.positions else 0.0)) * market.mid(c) for c in sides
    )
    assert math.isclose(traded, lower, rel_tol=1e-9, abs_tol=1e-6)

    # after the plan every asset is in its band and the drift under its threshold, or the plan says why not
    if (
        plan.rebalance_needed
        and r.mode in ("threshold", "band")
        and e_after > 0
        and not plan.skipped
        and not any("shrunk" in a.reason for a in plan.actions)
    ):
        coins = sorted(set(size_after) | set(target.weights))
        t = np.array([plan.target.get(c, 0.0) for c in coins])
        w = np.array([size_after.get(c, 0.0) * market.mid(c) / e_after for c in coins])
        lot = sum(10.0 ** -market.assets[c].sz_decimals * market.mid(c) for c in coins) / e_after
        slack = lot + (e0 - e_after) / e_after + 1e-9
        half = (
            r.band
            if r.mode == "band" and r.band_kind == "absolute"
            else (r.band * np.abs(t) if r.mode == "band" else r.position_threshold)
        )
        assert np.all(np.abs(w - t) <= half + slack + len(coins) * MIN_TRADE / e_after), (w, t)
        assert portfolio_drift(w, t) < r.portfolio_threshold + slack + len(coins) * MIN_TRADE / e_after


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_plan_is_deterministic(case):
    state, market, target, kw = case
    r = PortfolioRebalancer(**kw)
    a = r.create_rebalancing_plan(state, target, market).model_dump(exclude={"created_at", "plan_id"})
    b = r.create_rebalancing_plan(state, target, market).model_dump(exclude={"created_at", "plan_id"})
    assert a == b
