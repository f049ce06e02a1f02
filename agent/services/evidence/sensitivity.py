"""Sensitivity: stay put or rebalance, over the last N days of real daily closes.

``sensitivity(svc, target=None, days=90)`` is the one call every way in uses (CLI ``sensitivity``, MCP
``get_sensitivity``, the web page): it plans toward the target by the one target rule (nothing stored, no
token), reads the daily history of every asset involved, and compares holding today's weights with holding
the target's, the target's path starting lower by the plan's estimated cost. ``preview_line`` is the
one-line summary ``preview`` shows (None when there is no history to say it from).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from agent.core import sensitivity as core
from agent.core.domain import CASH, RebalancingPlan, TargetAllocation
from agent.core.errors import RebalancerError, ValidationError
from agent.services.market_history import daily_history

if TYPE_CHECKING:
    from agent.core.domain import Market
    from agent.services.app import Services

log = logging.getLogger("rebalancer.sensitivity")
DEFAULT_DAYS = 90


def sensitivity(
    svc: Services,
    target: TargetAllocation | None = None,
    days: int = DEFAULT_DAYS,
    *,
    plan: RebalancingPlan | None = None,
    market: Market | None = None,
) -> dict[str, Any]:
    """Stay put against rebalance to ``target`` (default: the target rule's) over the last ``days`` days.

    ``plan`` and ``market``: what the caller's question already made and read (a page that shows a plan
    passes it); otherwise the plan is made here, once.
    """
    if not isinstance(days, int) or not 7 <= days <= 3650:
        raise ValidationError("days must be between 7 and 3650")
    if plan is None:
        plan = svc.plan(target)
    if market is None:
        market = svc.exchange.market()
    return of_plan(svc, plan, market, days)


def of_plan(svc: Services, plan: RebalancingPlan, market: Market, days: int) -> dict[str, Any]:
    rows = [r for r in plan.rows if r.coin != CASH]
    coins = [r.coin for r in rows]
    hist = daily_history(svc.context, coins, days, market)
    if len(hist.table.dates) < 8:
        raise ValidationError(f"no daily history for {', '.join(coins) or 'these assets'}: cannot compare")
    index = {c: k for k, c in enumerate(hist.table.coins)}
    used = [r for r in rows if r.coin in index]
    closes = hist.table.close[:, [index[r.coin] for r in used]]
    current = np.array([r.current_weight for r in used])
    target = np.array([r.target_weight for r in used])
    equity = plan.summary.equity_usd or 1.0
    report = core.compare(hist.table.dates, closes, current, target, plan.estimated_cost.total_usd / equity)
    left_out = [r.coin for r in rows if r.coin not in index]
    return {
        "days": len(hist.table.dates) - 1,
        "window": {"start": hist.table.dates[0].isoformat(), "end": hist.table.dates[-1].isoformat()},
        "history_source": hist.source,
        "as_of": hist.as_of.isoformat() if hist.as_of else None,
        "source": hist.source,
        "assets": [
            {"coin": r.coin, "current_weight": r.current_weight, "target_weight": r.target_weight} for r in used
        ],
        "left_out": left_out,
        "plan_id": plan.plan_id,
        "target_source": plan.target_source,
        "estimated_cost_usd": plan.estimated_cost.total_usd,
        **report,
        "summary": core.summary_line(report, len(hist.table.dates) - 1),
    }


def preview_line(svc: Services, plan: RebalancingPlan, market: Market, days: int = DEFAULT_DAYS) -> str | None:
    """The one-line summary for ``preview``; None (and a debug log) when it cannot be computed."""
    try:
        return str(of_plan(svc, plan, market, days)["summary"])
    except (RebalancerError, ValueError) as e:
        log.debug("no sensitivity line: %s", e)
        return None
