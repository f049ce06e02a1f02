"""What a plan says about itself, built around the planner's actions: its summary and comparison (current
against target against planned), one drift-table row per asset plus USDC, the cash pools, the hash of its
inputs and its id. The planner (:mod:`agent.core.planner`) decides the trades; this module only reports them.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

import numpy as np
from pydantic import BaseModel

from agent.core.domain import (
    CASH,
    AssetRow,
    CostEstimate,
    PlanSummary,
    RebalancingPlan,
    SkippedTrade,
    TargetAllocation,
    TradeAction,
)

if TYPE_CHECKING:
    from agent.core.planner import _Book as Book

_M = TypeVar("_M", bound=BaseModel)


def portfolio_drift(w: np.ndarray, t: np.ndarray) -> float:
    """½ Σ|w − t| over risk assets and USDC (the remainder of each)."""
    cash_w = 1.0 - np.abs(w).sum()
    cash_t = 1.0 - np.abs(t).sum()
    return float(0.5 * (np.abs(w - t).sum() + abs(cash_w - cash_t)))


def assemble(
    b: Book,
    target: TargetAllocation,
    now: datetime,
    equity: float,
    w: np.ndarray,
    t: np.ndarray,
    needed: bool,
    reason: str,
    actions: list[TradeAction],
    skipped: list[SkippedTrade],
    costs: tuple[float, float],
    *,
    mode: str,
    half: np.ndarray,
    cash_floor: float,
) -> RebalancingPlan:
    """The plan around its actions: summary, comparison, drift rows, cash pools, its id and inputs hash."""
    fees, slip = costs
    index = {c: i for i, c in enumerate(b.coins)}
    s_after = b.size.copy()
    for a in actions:
        s_after[index[a.coin]] += a.size if a.side == "buy" else -a.size
    e_after = equity - fees - slip
    w_after = s_after * b.mid / e_after if e_after > 0 else np.zeros_like(s_after)
    sells = sum(a.notional_usd for a in actions if a.side == "sell")
    buys = sum(a.notional_usd for a in actions if a.side == "buy")
    cash_before = equity * (1 - float(np.abs(w).sum()))
    cash_after = e_after * (1 - float(np.abs(w_after).sum()))
    drift_before, drift_after = portfolio_drift(w, t), portfolio_drift(w_after, t)
    digest = inputs_hash(b, equity)
    if needed and not actions:
        reason += "; but no trade is possible (see skipped)"
    elif skipped and actions:
        reason += f"; {len(skipped)} trade{'s' if len(skipped) != 1 else ''} skipped"
    summary = PlanSummary(
        total_sells_usd=round(sells, 2),
        total_buys_usd=round(buys, 2),
        turnover_usd=round(sells + buys, 2),
        num_trades=len(actions),
        positions_exited=sum(1 for a in actions if a.kind == "close"),
        positions_entered=sum(1 for a in actions if a.kind == "open"),
        drift_before=round(drift_before, 6),
        drift_after=round(drift_after, 6),
        max_weight_before=round(float(np.abs(w).max(initial=0.0)), 6),
        max_weight_after=round(float(np.abs(w_after).max(initial=0.0)), 6),
        equity_usd=round(equity, 2),
        cash_before_usd=round(cash_before, 2),
        cash_after_usd=round(cash_after, 2),
    )
    return RebalancingPlan(
        plan_id="",
        created_at=now,
        mode=mode,
        rebalance_needed=needed,
        reason=reason,
        actions=actions,
        skipped=skipped,
        summary=summary,
        estimated_cost=CostEstimate(
            fees_usd=round(fees, 4), slippage_usd=round(slip, 4), total_usd=round(fees + slip, 4)
        ),
        comparison={
            "current_max_weight": summary.max_weight_before,
            "target_max_weight": round(float(np.abs(t).max(initial=0.0)), 6),
            "planned_max_weight": summary.max_weight_after,
            "current_positions": int(np.count_nonzero(b.size)),
            "target_positions": int(np.count_nonzero(t)),
            "planned_positions": int(np.count_nonzero(s_after)),
            "current_cash_weight": round(cash_before / equity, 6),
            "target_cash_weight": round(1 - float(np.abs(t).sum()), 6),
            "planned_cash_weight": round(cash_after / e_after, 6) if e_after > 0 else 0.0,
            "estimated_cost_bps": round((fees + slip) / (sells + buys) * 1e4, 3) if sells + buys else 0.0,
        },
        rows=rows(b, equity, w, t, w_after, actions, half=half, cash_floor=cash_floor),
        clamps=b.clamps,
        strategy_id=target.strategy_id,
        target={
            **{c: round(float(t[i]), 6) for i, c in enumerate(b.coins)},
            CASH: round(1 - float(np.abs(t).sum()), 6),
        },
        inputs_hash=digest,
        cash_pools=cash_pools(b, cash_before),
    ).model_copy(update={"plan_id": "p_" + digest[:8] + _stamp(now)})


def rows(
    b: Book,
    equity: float,
    w: np.ndarray,
    t: np.ndarray,
    w_after: np.ndarray,
    actions: list[TradeAction],
    *,
    half: np.ndarray,
    cash_floor: float,
) -> list[AssetRow]:
    """One drift-table row per asset, and the USDC row."""
    by_coin: dict[str, list[str]] = {}
    for a in actions:
        by_coin.setdefault(a.coin, []).append(f"{a.side} {a.size:g}")
    cols = zip(
        b.coins,
        b.perp.tolist(),
        np.round(w, 6).tolist(),
        np.round(t, 6).tolist(),
        np.round(w - t, 6).tolist(),
        np.round(b.size * b.mid, 2).tolist(),
        np.round(t - half, 6).tolist(),
        np.round(t + half, 6).tolist(),
        np.round(w_after, 6).tolist(),
        strict=True,
    )
    rows = [
        trusted(
            AssetRow,
            coin=c,
            market="perp" if perp else "spot",
            current_weight=cw,
            target_weight=tw,
            drift=d,
            value_usd=v,
            band_low=lo,
            band_high=hi,
            planned_weight=pw,
            action=", ".join(by_coin.get(c, [])) or "hold",
        )
        for c, perp, cw, tw, d, v, lo, hi, pw in cols
    ]
    cw, ct, ca = 1 - float(np.abs(w).sum()), 1 - float(np.abs(t).sum()), 1 - float(np.abs(w_after).sum())
    rows.append(
        AssetRow(
            coin=CASH,
            market="cash",
            current_weight=round(cw, 6),
            target_weight=round(ct, 6),
            drift=round(cw - ct, 6),
            value_usd=round(cw * equity, 2),
            band_low=round(cash_floor, 6),
            band_high=1.0,
            planned_weight=round(ca, 6),
            action="",
        )
    )
    return rows


def inputs_hash(b: Book, equity: float) -> str:
    """A digest of what the plan was computed from (coins, sizes, free sizes, mids, target, equity)."""
    h = hashlib.sha256()
    h.update("\x1f".join(b.coins).encode())
    for arr in (b.size, b.free, b.mid, b.target):
        h.update(np.ascontiguousarray(arr, dtype=np.float64).tobytes())
    h.update(np.float64(equity).tobytes())
    return h.hexdigest()


def cash_pools(b: Book, cash_before: float) -> dict[str, float]:
    """USDC by pool for the drift table: spot USDC and perp margin apart, or one unified balance."""
    if b.abstraction in ("unifiedAccount", "portfolioMargin"):
        return {"unified_usdc": round(cash_before, 2)}
    return {"spot_usdc": round(b.spot_usdc, 2), "perp_margin": round(cash_before - b.spot_usdc, 2)}


def trusted(cls: type[_M], **fields: object) -> _M:
    """Build a model from values this module computed and typed itself, skipping re-validation.

    The planner makes one ``TradeAction`` per leg on its hot path; pydantic's validation costs ~2 µs
    each, more than the rest of the per-asset work. Every field here comes from typed arrays above.
    """
    obj = object.__new__(cls)  # not cls.__new__: the lookup through pydantic's metaclass costs ~1 µs
    object.__setattr__(obj, "__dict__", fields)
    object.__setattr__(obj, "__pydantic_fields_set__", set(fields))
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


def _stamp(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def drift_view(plan: RebalancingPlan) -> dict[str, object]:
    """The drift table as data (what ``get_drift`` returns and the drift table prints): one row per asset."""
    return {
        "rebalance_needed": plan.rebalance_needed,
        "reason": plan.reason,
        "portfolio_drift": plan.summary.drift_before,
        "max_weight": plan.summary.max_weight_before,
        "equity_usd": plan.summary.equity_usd,
        "target": plan.target,
        "target_source": plan.target_source,
        "strategy_id": plan.strategy_id,
        "paused": plan.paused,
        "as_of": plan.as_of,
        "cash_pools": plan.cash_pools,
        "rows": [
            {
                "coin": r.coin,
                "market": r.market,
                "current_weight": r.current_weight,
                "target_weight": r.target_weight,
                "drift": r.drift,
                "band_low": r.band_low,
                "band_high": r.band_high,
                "value_usd": r.value_usd,
                "action": r.action,
            }
            for r in plan.rows
        ],
    }
