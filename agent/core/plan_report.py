"""What a plan says about itself, built around the planner's actions: its summary and comparison (current
against target against planned), one drift-table row per asset plus USDC, the cash pools, the hash of its
inputs and its id. The planner (:mod:`agent.core.planner`) decides the trades; this module only reports them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel

from agent.core.columns import Assets
from agent.core.domain import (
    CASH,
    AssetRow,
    CostEstimate,
    PlanSummary,
    RebalancingPlan,
    SkippedTrade,
    TradeAction,
)
from agent.core.rules import rounded

_M = TypeVar("_M", bound=BaseModel)


def portfolio_drift(w: np.ndarray, t: np.ndarray) -> float:
    """½ Σ|w − t| over risk assets and USDC (the remainder of each)."""
    cash_w = 1.0 - np.abs(w).sum()
    cash_t = 1.0 - np.abs(t).sum()
    return float(0.5 * (np.abs(w - t).sum() + abs(cash_w - cash_t)))


@dataclass
class Tally:
    """What a plan's actions add up to, counted as they are built: USD sold and bought, exits and entries,
    and each coin's action text for the drift table ("buy 0.5", or "buy 20, buy 10" for a flip)."""

    sells: float = 0
    buys: float = 0
    exits: int = 0
    entries: int = 0
    texts: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """What the planner decided, with the columns it decided from: the report's one input."""

    assets: Assets
    strategy_id: str | None
    mode: str
    now: datetime
    equity: float
    w: np.ndarray  # current weights
    t: np.ndarray  # target weights (after limits)
    half: np.ndarray  # band half-widths
    cash_floor: float
    needed: bool
    reason: str
    actions: list[TradeAction]
    tally: Tally  # of the actions
    skipped: list[SkippedTrade]
    fees: float
    slippage: float
    s_after: np.ndarray  # every asset's size once the actions have filled


def assemble(d: Decision) -> RebalancingPlan:
    """The plan around its actions: summary, comparison, drift rows, cash pools, its id and inputs hash."""
    b, equity, w, t, actions, skipped = d.assets, d.equity, d.w, d.t, d.actions, d.skipped
    fees, slip, s_after, reason = d.fees, d.slippage, d.s_after, d.reason
    e_after = equity - fees - slip
    w_after = s_after * b.mid / e_after if e_after > 0 else np.zeros_like(s_after)
    sells, buys, exits, entries = d.tally.sells, d.tally.buys, d.tally.exits, d.tally.entries
    abs_w, abs_t, abs_after = np.abs(w), np.abs(t), np.abs(w_after)
    cash_w, cash_t, cash_a = 1 - float(abs_w.sum()), 1 - float(abs_t.sum()), 1 - float(abs_after.sum())
    cash_before, cash_after = equity * cash_w, e_after * cash_a
    drift_before = 0.5 * (float(np.abs(w - t).sum()) + abs(cash_w - cash_t))  # portfolio_drift, with the sums above
    drift_after = 0.5 * (float(np.abs(w_after - t).sum()) + abs(cash_a - cash_t))
    digest = inputs_hash(b, equity)
    if d.needed and not actions:
        reason += "; but no trade is possible (see skipped)"
    elif skipped and actions:
        reason += f"; {len(skipped)} trade{'s' if len(skipped) != 1 else ''} skipped"
    fields = {
        "total_sells_usd": round(float(sells), 2),
        "total_buys_usd": round(float(buys), 2),
        "turnover_usd": round(float(sells + buys), 2),
        "num_trades": len(actions),
        "positions_exited": exits,
        "positions_entered": entries,
        "drift_before": round(drift_before, 6),
        "drift_after": round(drift_after, 6),
        "max_weight_before": round(float(abs_w.max(initial=0.0)), 6),
        "max_weight_after": round(float(abs_after.max(initial=0.0)), 6),
        "equity_usd": round(float(equity), 2),
        "cash_before_usd": round(cash_before, 2),
        "cash_after_usd": round(cash_after, 2),
    }
    summary = trusted(PlanSummary, fields)
    costs = {"fees_usd": round(float(fees), 4), "slippage_usd": round(float(slip), 4)}
    costs["total_usd"] = round(float(fees + slip), 4)
    comparison = {
        "current_max_weight": fields["max_weight_before"],
        "target_max_weight": round(float(abs_t.max(initial=0.0)), 6),
        "planned_max_weight": fields["max_weight_after"],
        "current_positions": float(np.count_nonzero(b.size)),
        "target_positions": float(np.count_nonzero(t)),
        "planned_positions": float(np.count_nonzero(s_after)),
        "current_cash_weight": round(cash_before / equity, 6),
        "target_cash_weight": round(cash_t, 6),
        "planned_cash_weight": round(cash_after / e_after, 6) if e_after > 0 else 0.0,
        "estimated_cost_bps": round(float((fees + slip) / (sells + buys) * 1e4), 3) if sells + buys else 0.0,
    }
    target_map = dict(zip(b.coins, rounded(t, 6), strict=True))
    target_map[CASH] = round(cash_t, 6)
    plan = {
        "plan_id": "p_" + digest[:8] + _stamp(d.now),
        "created_at": d.now,
        "mode": d.mode,
        "rebalance_needed": d.needed,
        "reason": reason,
        "actions": actions,
        "skipped": skipped,
        "summary": summary,
        "estimated_cost": trusted(CostEstimate, costs),
        "comparison": comparison,
        "rows": rows(
            b, equity, w, t, w_after, d.tally.texts, half=d.half, cash=(cash_w, cash_t, cash_a), floor=d.cash_floor
        ),
        "clamps": b.clamps,
        "strategy_id": d.strategy_id,
        "target": target_map,
        "inputs_hash": digest,
        "cash_pools": cash_pools(b, cash_before),
    }
    return trusted(RebalancingPlan, plan)  # every field computed and typed here: no re-validation


def rows(
    b: Assets,
    equity: float,
    w: np.ndarray,
    t: np.ndarray,
    w_after: np.ndarray,
    texts: dict[str, str],
    *,
    half: np.ndarray,
    cash: tuple[float, float, float],
    floor: float,
) -> list[AssetRow]:
    """One drift-table row per asset (``texts``: the actions of each coin), and the USDC row (``cash``: its
    current, target and planned weights)."""
    cols = zip(
        b.coins,
        b.perp.tolist(),
        w.round(6).tolist(),
        t.round(6).tolist(),
        (w - t).round(6).tolist(),
        (b.size * b.mid).round(2).tolist(),
        (t - half).round(6).tolist(),
        (t + half).round(6).tolist(),
        w_after.round(6).tolist(),
        strict=True,
    )
    make = _make_row
    rows = [
        make(
            {
                "coin": c,
                "market": "perp" if perp else "spot",
                "current_weight": cw,
                "target_weight": tw,
                "drift": d,
                "value_usd": v,
                "band_low": lo,
                "band_high": hi,
                "planned_weight": pw,
                "action": texts.get(c, "hold"),
            },
        )
        for c, perp, cw, tw, d, v, lo, hi, pw in cols
    ]
    cw, ct, ca = cash
    rows.append(
        AssetRow(
            coin=CASH,
            market="cash",
            current_weight=round(cw, 6),
            target_weight=round(ct, 6),
            drift=round(cw - ct, 6),
            value_usd=round(cw * equity, 2),
            band_low=round(floor, 6),
            band_high=1.0,
            planned_weight=round(ca, 6),
            action="",
        )
    )
    return rows


def inputs_hash(b: Assets, equity: float) -> str:
    """A digest of what the plan was computed from (coins, sizes, free sizes, mids, target, equity)."""
    h = hashlib.sha256()
    h.update("\x1f".join(b.coins).encode())
    for arr in (b.size, b.free, b.mid, b.target):
        h.update(np.ascontiguousarray(arr, dtype=np.float64).tobytes())
    h.update(np.float64(equity).tobytes())
    return h.hexdigest()


def cash_pools(b: Assets, cash_before: float) -> dict[str, float]:
    """USDC by pool for the drift table: spot USDC and perp margin apart, or one unified balance."""
    if b.abstraction in ("unifiedAccount", "portfolioMargin"):
        return {"unified_usdc": round(cash_before, 2)}
    return {"spot_usdc": round(b.spot_usdc, 2), "perp_margin": round(cash_before - b.spot_usdc, 2)}


def trusted(cls: type[_M], fields: dict[str, Any]) -> _M:
    """Build a frozen model from values the planner computed and typed itself, skipping re-validation.

    A plan holds one ``TradeAction`` per leg and one ``AssetRow`` per asset; pydantic's validation costs
    more than the rest of the per-asset work. Fields left out of ``fields`` keep their declared defaults
    (and are not in the model's fields set); the fields are stored in their declared order, as validation
    stores them. Instances given every field share one fields set: a frozen
    model never changes it, and ``model_copy`` copies it before an update.
    """
    every = _ALL_FIELDS.get(cls)
    if every is None:
        every = _ALL_FIELDS[cls] = set(cls.model_fields)
        _DEFAULTS[cls] = {
            name: f.default for name, f in cls.model_fields.items() if not f.is_required() and f.default_factory is None
        }
    given = every
    if len(fields) != len(every):
        given, defaults = set(fields), _DEFAULTS[cls]
        if given - every or every - given - defaults.keys():
            wrong = sorted(given - every) or sorted(every - given - defaults.keys())
            raise TypeError(f"{cls.__name__} needs its required fields and no others: {wrong}")
        fields = {name: fields[name] if name in given else defaults[name] for name in cls.model_fields}
    obj = _new(cls)  # not cls.__new__: the lookup through pydantic's metaclass costs ~1 µs
    _set_dict(obj, fields)
    _set_fields_set(obj, given)
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj


_ALL_FIELDS: dict[type[BaseModel], set[str]] = {}
_DEFAULTS: dict[type[BaseModel], dict[str, object]] = {}
_new = object.__new__
# BaseModel's slots, set through their descriptors (object.__setattr__ would look each one up)
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def maker(cls: type[_M]) -> Callable[[dict[str, object]], _M]:
    """``trusted`` for dicts that hold every field of ``cls``, in declared order, as one small function: what
    builds a plan's per-leg and per-asset objects (half the cost of ``trusted``, which checks the fields)."""
    every = set(cls.model_fields)

    def make(
        fields: dict[str, object],
        cls: type[_M] = cls,
        every: set[str] = every,
        new: Callable[[type[_M]], _M] = _new,
        set_dict: Callable[[object, object], None] = _set_dict,
        set_fields_set: Callable[[object, object], None] = _set_fields_set,
        set_extra: Callable[[object, object], None] = _set_extra,
        set_private: Callable[[object, object], None] = _set_private,
    ) -> _M:
        obj = new(cls)
        set_dict(obj, fields)
        set_fields_set(obj, every)
        set_extra(obj, None)
        set_private(obj, None)
        return obj

    return make


def _stamp(now: datetime) -> str:
    t = now.astimezone(UTC)
    return f"{t.year:04d}{t.month:02d}{t.day:02d}{t.hour:02d}{t.minute:02d}{t.second:02d}"


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


_make_row = maker(AssetRow)
