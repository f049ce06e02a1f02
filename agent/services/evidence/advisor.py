"""What the Rebalance Advisor page shows beside a plan: the header, the limit flags, the comparison, and
whether Confirm may be offered. Rules only; any interface (the web page today) renders them.

The plan itself is the same one ``status`` and ``get_drift`` return (:func:`agent.services.trading.planning.plan`),
so the page's three columns are the CLI's numbers; a preview is :func:`agent.services.trading.planning.preview`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from agent.core.accounts import mode_name
from agent.core.domain import CASH, Market, PortfolioState, RebalancingPlan
from agent.services.trading.planning import limits
from agent.services.trading.targets import configured_or_stored

if TYPE_CHECKING:
    from agent.services.app import Services


@dataclass(frozen=True)
class Header:
    schedule_days: int
    last_rebalance_at: datetime | None
    next_due_at: datetime | None  # None: never rebalanced here, so due now
    due_now: bool
    position_threshold: float
    portfolio_threshold: float
    paused: bool
    pause_reason: str | None
    account_mode: str
    as_of: datetime | None
    autonomy: str
    planner_mode: str
    execution_mode: str
    network: str
    account: str


def account_mode(state: PortfolioState | None) -> str:
    """The account's mode as plans and doctor name it (Hyperliquid ``userAbstraction``)."""
    return mode_name(state.abstraction) if state is not None else "unknown"


def header(svc: Services, plan: RebalancingPlan, state: PortfolioState | None = None) -> Header:
    s = svc.settings
    last_text = svc.store.records.get("last_rebalance_at")
    last = datetime.fromisoformat(last_text) if last_text else None
    due_at = last + timedelta(days=s.rebalance.calendar_days) if last else None
    return Header(
        schedule_days=s.rebalance.calendar_days,
        last_rebalance_at=last,
        next_due_at=due_at,
        due_now=due_at is None or svc.clock() >= due_at,
        position_threshold=s.rebalance.position_threshold,
        portfolio_threshold=s.rebalance.portfolio_threshold,
        paused=svc.is_paused(),
        pause_reason=svc.store.records.pause_reason(),
        account_mode=account_mode(state),
        as_of=plan.as_of,
        autonomy=s.heartbeat.autonomy,
        planner_mode=s.rebalance.mode,
        execution_mode=s.execution_mode,
        network=s.network,
        account=svc.account,
    )


def flags(svc: Services, plan: RebalancingPlan) -> dict[str, list[str]]:
    """Per asset, every limit or rule its current weight fails (outside its band, over the max position…)."""
    lim = limits(svc.settings)
    out: dict[str, list[str]] = {}
    for r in plan.rows:
        found: list[str] = []
        w = r.current_weight
        if r.coin == CASH:
            if w < lim.cash_floor - 1e-9:
                found.append(f"cash under the floor {lim.cash_floor:.1%}")
        else:
            if not r.band_low - 1e-9 <= w <= r.band_high + 1e-9:
                found.append(f"outside its band {r.band_low:.1%}–{r.band_high:.1%}")
            if lim.max_weight is not None and abs(w) > lim.max_weight + 1e-4:
                found.append(f"over the max position {lim.max_weight:.1%}")
            if lim.min_weight is not None and 1e-9 < abs(w) < lim.min_weight - 1e-4:
                found.append(f"under the min weight {lim.min_weight:.1%}")
            if lim.allowed_assets is not None and abs(w) > 1e-9 and r.coin not in lim.allowed_assets:
                found.append("not an allowed asset")
        if found:
            out[r.coin] = found
    return out


@dataclass(frozen=True)
class Comparison:
    metric: str
    current: float | None
    target: float | None
    planned: float | None
    unit: str  # "%", "usd", "count", "score"


def observe(svc: Services) -> tuple[PortfolioState, Market]:
    """One read of the account and of the market with the books a plan will walk (what ``plan`` would read).

    The page plans, previews and scores from this one read, so a page load spends the exchange's rate
    budget once.
    """
    state = svc.exchange.account_state()
    found = configured_or_stored(svc)
    coins = set(state.positions) | set(found.target.weights if found else ())
    return state, svc.exchange.market(books=sorted(coins))


def average_scores(svc: Services, plan: RebalancingPlan, market: Market) -> tuple[float, float, float] | None:
    """The average score of the current, target and planned portfolio (weights × the strategist's score).

    The score is the offline strategist's (``[strategist.score_weights]``) from the shipped daily history;
    None where a held or targeted asset has no score (then an average would mislead).
    """
    from agent.strategist.holdings import build_features
    from agent.strategist.regime import weighted_score

    rows = [r for r in plan.rows if r.coin != CASH and max(abs(r.current_weight), abs(r.target_weight)) > 1e-9]
    if not rows:
        return None
    features = build_features(market)
    weights = svc.settings.strategist.score_weights.model_dump()
    scores = {r.coin: weighted_score(features.get(r.coin, {}), weights) for r in rows}
    if not all(math.isfinite(x) for x in scores.values()):
        return None

    def average(weight: dict[str, float]) -> float:
        total = sum(abs(w) for w in weight.values())
        return sum(abs(w) * scores[c] for c, w in weight.items()) / total if total > 1e-12 else 0.0

    return (
        average({r.coin: r.current_weight for r in rows}),
        average({r.coin: r.target_weight for r in rows}),
        average({r.coin: r.planned_weight for r in rows}),
    )


def comparison(plan: RebalancingPlan, scores: tuple[float, float, float] | None = None) -> list[Comparison]:
    """The summary: current against target against planned (and the average score where one applies)."""
    c, s = plan.comparison, plan.summary
    extra = [Comparison("Average score", *scores, "score")] if scores is not None else []
    return [
        *extra,
        Comparison("Max weight", c["current_max_weight"], c["target_max_weight"], c["planned_max_weight"], "%"),
        Comparison("Positions", c["current_positions"], c["target_positions"], c["planned_positions"], "count"),
        Comparison("Cash", c["current_cash_weight"], c["target_cash_weight"], c["planned_cash_weight"], "%"),
        Comparison("Drift ½Σ|d|", s.drift_before, 0.0, s.drift_after, "%"),
        Comparison("Estimated cost", 0.0, None, plan.estimated_cost.total_usd, "usd"),
    ]


def trades(plan: RebalancingPlan) -> dict[str, Any]:
    """The trades column: sells first, then buys (each in plan order), the net, and what was skipped."""
    sells = [a for a in plan.actions if a.side == "sell"]
    buys = [a for a in plan.actions if a.side == "buy"]
    return {
        "sells": sells,
        "buys": buys,
        "net_usd": round(sum(a.notional_usd for a in buys) - sum(a.notional_usd for a in sells), 2),
        "skipped": plan.skipped,
    }


def confirm_offered(svc: Services, plan: RebalancingPlan, *, read_only: bool) -> bool:
    """Confirm is offered only for a previewed plan with a live token that execute could accept."""
    return (
        not read_only
        and svc.executor is not None
        and bool(plan.confirm_token)
        and plan.expires_at is not None
        and svc.exchange_now() < plan.expires_at  # tokens expire on the exchange's clock
        and not svc.is_paused()
    )
