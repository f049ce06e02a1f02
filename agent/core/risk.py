"""The risk gate: hard limits that no LLM output, tool argument or config mistake can bypass.

Pure: a plan, the limits, what was already traded today → the list of violations. The services call it
before a preview issues a token and again before any execution (human-confirmed or heartbeat).
"""

from __future__ import annotations

from agent.core.domain import RebalancingPlan
from agent.core.errors import RiskLimitError
from agent.core.limits import Limits

_EPS = 1e-6


def violations(plan: RebalancingPlan, limits: Limits, *, traded_today_usd: float = 0.0) -> list[str]:
    """Every limit the plan breaks (empty when it may run)."""
    out: list[str] = []
    s = plan.summary
    turnover = s.turnover_usd
    if limits.allowed_assets is not None:
        bad = sorted({a.coin for a in plan.actions} - limits.allowed_assets)
        if bad:
            out.append(f"assets not allowed: {', '.join(bad)}")
    if s.equity_usd > 0 and turnover > limits.max_turnover_per_cycle * s.equity_usd + _EPS:
        out.append(
            f"turnover ${turnover:,.2f} is over {limits.max_turnover_per_cycle:.0%} of equity ${s.equity_usd:,.2f}"
        )
    if limits.max_notional_per_cycle_usd is not None and turnover > limits.max_notional_per_cycle_usd + _EPS:
        out.append(f"turnover ${turnover:,.2f} is over the per-cycle cap ${limits.max_notional_per_cycle_usd:,.2f}")
    if (
        limits.max_notional_per_day_usd is not None
        and traded_today_usd + turnover > limits.max_notional_per_day_usd + _EPS
    ):
        out.append(
            f"${traded_today_usd:,.2f} traded today + ${turnover:,.2f} is over the daily cap "
            f"${limits.max_notional_per_day_usd:,.2f}"
        )
    if limits.max_trades is not None and s.num_trades > limits.max_trades:
        out.append(f"{s.num_trades} trades is over the cap of {limits.max_trades}")
    # Position and leverage limits: a plan may not create or worsen a breach (it may reduce one).
    if limits.max_weight is not None:
        for row in plan.rows:
            if row.market == "cash":
                continue
            after, before = abs(row.planned_weight), abs(row.current_weight)
            if after > limits.max_weight + 1e-4 and after > before + 1e-4:
                out.append(f"{row.coin}: weight {after:.2%} after the plan is over the max {limits.max_weight:.2%}")
    gross_before = sum(abs(r.current_weight) for r in plan.rows if r.market != "cash")
    gross_after = sum(abs(r.planned_weight) for r in plan.rows if r.market != "cash")
    if gross_after > limits.max_gross_leverage + 1e-4 and gross_after > gross_before + 1e-4:
        out.append(f"gross exposure {gross_after:.2f}x after the plan is over {limits.max_gross_leverage:g}x")
    cash_before = plan.comparison.get("current_cash_weight", 0.0)
    cash_after = plan.comparison.get("planned_cash_weight", 0.0)
    if cash_after < limits.cash_floor - 1e-4 and cash_after < cash_before - 1e-4:
        out.append(f"cash {cash_after:.2%} after the plan is under the floor {limits.cash_floor:.2%}")
    return out


def weight_breaches(coin: str, weight: float, limits: Limits, *, cash: bool = False) -> list[str]:
    """Every limit a weight held now breaks (``cash``: the USDC weight, held to the cash floor; otherwise an
    asset's, held to the max and min weight and the allowed assets). The page flags these on its table;
    :func:`violations` refuses a plan that creates or worsens the same breaches."""
    if cash:
        return [f"cash under the floor {limits.cash_floor:.1%}"] if weight < limits.cash_floor - 1e-9 else []
    out = []
    held = abs(weight)
    if limits.max_weight is not None and held > limits.max_weight + 1e-4:
        out.append(f"over the max position {limits.max_weight:.1%}")
    if limits.min_weight is not None and 1e-9 < held < limits.min_weight - 1e-4:
        out.append(f"under the min weight {limits.min_weight:.1%}")
    if limits.allowed_assets is not None and held > 1e-9 and coin not in limits.allowed_assets:
        out.append("not an allowed asset")
    return out


def check_plan(plan: RebalancingPlan, limits: Limits, *, traded_today_usd: float = 0.0) -> None:
    """Raise ``RiskLimitError`` naming every breach."""
    found = violations(plan, limits, traded_today_usd=traded_today_usd)
    if found:
        raise RiskLimitError("risk gate: " + "; ".join(found))
