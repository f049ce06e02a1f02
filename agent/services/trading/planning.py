"""Plan and preview: the config made into a planner and limits, and the checks before any token is issued.

A preview runs the same gates as execute (the kill switch and the risk gate) before it hands out a
token: a plan that execute would refuse gets none, is recorded as ``refused`` with its reason, and the
caller gets :class:`~agent.core.errors.TradingPaused` or :class:`~agent.core.errors.RiskLimitError`.
A plan with nothing to do gets no token either (there is nothing to confirm).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from agent.core.bands import BandModel, band_model_from_returns
from agent.core.domain import RebalancingPlan, TargetAllocation
from agent.core.errors import ExchangeError, RiskLimitError, TradingPaused
from agent.core.execution_style import assign_order_types
from agent.core.limits import Limits
from agent.core.orders import OpenOrder
from agent.core.planner import PortfolioRebalancer
from agent.core.risk import violations
from agent.services.config import Settings
from agent.services.ports import DexPort
from agent.services.trading import foreign, guards, rejections
from agent.services.trading.targets import choose, configured_or_stored, validate

if TYPE_CHECKING:
    from agent.core.domain import Market, PortfolioState
    from agent.services.app import Services

PAUSED = "trading is paused (resume with `rebalancer resume` or resume_trading)"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def planner(settings: Settings, *, heartbeat: bool = False, band_model: BandModel | None = None) -> PortfolioRebalancer:
    """The planner the config describes (the heartbeat's with its own trade cap)."""
    s, lim = settings.rebalance, settings.limits
    return PortfolioRebalancer(
        drift_aversion=s.drift_aversion,
        band_model=band_model,
        min_trade_value=s.min_trade_value,
        max_slippage_pct=s.max_slippage,
        rebalance_threshold=s.position_threshold,
        portfolio_threshold=s.portfolio_threshold,
        mode=s.mode,
        band=s.band,
        band_kind=s.band_kind,
        calendar_interval=timedelta(days=s.calendar_days),
        max_trades=settings.heartbeat.max_trades_per_tick if heartbeat else s.max_trades,
        cash_reserve=settings.cash_reserve,
        cash_floor=lim.cash_floor,
        max_weight=lim.max_weight,
        min_weight=lim.min_weight,
        max_gross_leverage=lim.max_gross_leverage,
    )


def limits(settings: Settings, *, heartbeat: bool = False) -> Limits:
    """The hard limits; the heartbeat acts alone, so its own caps tighten them."""
    lim = settings.limits.tightened(cash_floor=settings.cash_reserve.floor if settings.cash_reserve else None)
    if not heartbeat:
        return lim
    hb = settings.heartbeat
    return lim.tightened(
        max_notional_per_cycle_usd=hb.max_notional_per_tick_usd,
        max_notional_per_day_usd=hb.max_notional_per_day_usd,
        max_trades=hb.max_trades_per_tick,
    )


def traded_today_usd(svc: Services) -> float:
    start = svc.clock().replace(hour=0, minute=0, second=0, microsecond=0).isoformat()
    return svc.store.journal.traded_notional_since(start)


def plan(
    svc: Services,
    target: TargetAllocation | None = None,
    *,
    heartbeat: bool = False,
    state: PortfolioState | None = None,
    market: Market | None = None,
    cycle_id: str | None = None,
    fresh: bool = False,
) -> RebalancingPlan:
    """A plan toward ``target`` (default: by the target rule). No token, nothing stored but a decision."""
    known = target or (found.target if (found := configured_or_stored(svc)) else None)
    named = {c.split(":", 1)[0] for c in (known.weights if known else ()) if ":" in c and "/" not in c}
    if named and isinstance(svc.exchange, DexPort) and state is None:
        # read the HIP-3 dexes a target names (a dex perpDexs does not list is refused)
        svc.exchange.use_dexes(sorted(named))
    if state is None:
        state = svc.exchange.account_state()
    if market is None:  # one read of the market, with the books of what the plan will likely trade
        market = svc.exchange.market(books=sorted(set(state.positions) | set(known.weights if known else ())))
    chosen = choose(svc, target, state=state, market=market, cycle_id=cycle_id, fresh=fresh)
    validate(svc.settings, chosen.target, market)
    protected, protection = guards.protect(svc.context, chosen.target, state.equity(market))
    tax_book, held_back = None, list[str]()
    if svc.settings.tax.on:  # lots from the account's fills; no buy of an asset in its wash-sale window
        from agent.services.trading import lots

        lots.sync(svc.context, market)
        tax_book = lots.book(svc.context, synced=True)
        blocks = lots.wash_sale_blocks(svc.context, svc.clock(), tax_book)
        protected, held_back = lots.hold_back(protected, state, market, blocks, svc.settings.tax.wash_sale_substitute)
    coins = sorted(c for c in set(state.positions) | set(chosen.target.weights) if c in market.assets)
    if coins and not all(market.assets[c].book is not None for c in coins):
        market = svc.exchange.market(books=coins)  # the cost estimate walks the books of what it trades
    last = svc.store.records.get("last_rebalance_at")
    model = cost_aware_model(svc, coins, market) if svc.settings.rebalance.mode == "cost-aware" else None
    result = planner(svc.settings, heartbeat=heartbeat, band_model=model).create_rebalancing_plan(
        state,
        protected,
        market,
        now=svc.clock(),
        last_rebalance=datetime.fromisoformat(last) if last else None,
        sell_tax=lots.sell_tax_rates(svc.context, state, market, tax_book, svc.clock())
        if tax_book is not None
        else None,
    )
    clamps = [*([protection] if protection else []), *chosen.notes, *held_back, *result.clamps]
    actions = assign_order_types(result.actions, market, twap_over_usd=svc.settings.rebalance.twap_over_usd)
    reason = result.reason
    if any(a.order_type == "twap" for a in actions) and (foreign := foreign_open_orders(svc)):
        names = ", ".join(sorted({o.coin for o in foreign}))
        reason += (
            f"; note: {len(foreign)} open orders not placed by rebalancer ({names}): no dead-man switch is armed"
            " during the TWAPs, as it would cancel them too"
        )
    if tax_book is not None:
        held = {c: p.size - p.hold for c, p in state.positions.items() if p.market == "spot"}
        result = lots.annotate(
            svc.context, result.model_copy(update={"actions": actions}), market, tax_book, svc.clock(), held
        )
        actions = result.actions
    return result.model_copy(
        update={
            "actions": actions,
            "reason": reason,
            "target_source": chosen.source,
            "as_of": market.timestamp,
            "paused": svc.is_paused(),
            "clamps": clamps,
        }
    )


def cost_aware_model(
    svc: Services | None, coins: list[str], market: Market, settings: Settings | None = None
) -> BandModel | None:
    """The cost-aware bands' inputs from the last ``BAND_LOOKBACK`` days (None without history: fixed band).

    ``svc`` None (offline planning): from the shipped daily history only.
    """
    from agent.core.policies import BAND_LOOKBACK
    from agent.services.market_history import daily_history

    hist = daily_history(svc.context if svc is not None else None, coins, BAND_LOOKBACK, market)
    if len(hist.table.dates) < 11 or not hist.table.coins:
        return None
    cfg = settings if settings is not None else (svc.settings if svc is not None else Settings())
    costs = planner(cfg).costs
    r = np.diff(hist.table.close, axis=0) / hist.table.close[:-1]
    rate = max(costs.fee_rate(market.assets[c].market) for c in hist.table.coins) + costs.fallback_slippage_bps / 1e4
    return band_model_from_returns(hist.table.coins, r, cost_rate=rate)


def foreign_open_orders(svc: Services) -> list[OpenOrder]:
    """The account's open orders that rebalancer did not place (no journal row for their cloid)."""
    try:
        return foreign.not_ours(svc.exchange, svc.store.journal)
    except ExchangeError:
        return []


def refusal(svc: Services, p: RebalancingPlan, *, heartbeat: bool = False) -> tuple[type[Exception], str] | None:
    """Why execute would refuse this plan now (the kill switch, the risk gate), or None."""
    if svc.is_paused():
        return TradingPaused, PAUSED
    breaches = violations(p, limits(svc.settings, heartbeat=heartbeat), traded_today_usd=traded_today_usd(svc))
    if breaches:
        return RiskLimitError, "risk gate: " + "; ".join(breaches)
    return None


def preview(
    svc: Services,
    target: TargetAllocation | None = None,
    *,
    source: str = "cli",
    cycle_id: str | None = None,
    heartbeat: bool = False,
    ttl: timedelta | None = None,
    state: PortfolioState | None = None,
    market: Market | None = None,
    annotate: Callable[[RebalancingPlan, Market], str | None] | None = None,
    planned: RebalancingPlan | None = None,
) -> RebalancingPlan:
    """Plan, check the gates, and store the plan with a single-use confirm token (returned once, kept as a hash).

    ``annotate`` gives the plan's one-line ``sensitivity`` (the façade passes the evidence's; trading does not
    import evidence). ``planned``: the plan this question already made toward the same target from the same
    ``state`` and ``market`` (the heartbeat's); it is used instead of planning again.
    """
    rejections.record_expired(svc.context)  # earlier previews left to expire are recorded as rejected
    p = planned or plan(svc, target, heartbeat=heartbeat, state=state, market=market, cycle_id=cycle_id)
    if p.actions and annotate is not None:
        p = p.model_copy(update={"sensitivity": annotate(p, market or svc.exchange.market())})
    # The planner's id is a pure function of its inputs; a stored preview needs a unique one.
    p = p.model_copy(update={"plan_id": f"{p.plan_id}-{secrets.token_hex(3)}"})
    if p.actions:
        refused = refusal(svc, p, heartbeat=heartbeat)
        if refused is not None:
            error, why = refused
            svc.store.plans.add(p, account=svc.account, status="refused", source=source, cycle_id=cycle_id, reason=why)
            raise error(f"{why}; no confirm token was issued (plan {p.plan_id})")
    if not p.actions:
        svc.store.plans.add(
            p, account=svc.account, status="nothing-to-do", source=source, cycle_id=cycle_id, reason=p.reason
        )
        return p
    token = secrets.token_urlsafe(18)
    expires = svc.exchange_now() + (ttl or svc.settings.mcp.confirm_ttl)  # on the exchange's clock
    p = p.model_copy(update={"confirm_token": token, "expires_at": expires})
    svc.store.plans.add(
        p,
        account=svc.account,
        status="previewed",
        source=source,
        cycle_id=cycle_id,
        token_hash=hash_token(token),
        expires_at=expires,
    )
    return p


def advise(svc: Services, p: RebalancingPlan, *, cycle_id: str) -> RebalancingPlan:
    """Store the heartbeat's advice: the plan with no token, which can never execute."""
    p = p.model_copy(update={"plan_id": f"{p.plan_id}-{secrets.token_hex(3)}"})
    svc.store.plans.add(
        p, account=svc.account, status="advisory", source="heartbeat-advise", cycle_id=cycle_id, reason=p.reason
    )
    return p
