"""The deterministic planner: current state + target + market rules → an ordered ``RebalancingPlan``.

Every step works on columns, one array entry per asset (:mod:`agent.core.columns`); the plan's
``TradeAction``s are built once, at the end. The steps:

1. limits on the target: max weight (clip), min weight (below it: exit), cash reserve floor;
2. weights and drift: ``w`` current, ``t`` target, ``d = w − t``, portfolio drift ½Σ|d| (USDC included);
3. the mode picks the post-trade weights ``w'``: threshold (drifted assets back to target), band
   (back to the band's edge), calendar (everything to target when due), cash-flow (buy-only with the
   cash above the target cash); threshold and band then also move the largest remaining drifts to
   target until the portfolio drift is below its threshold;
4. each asset's change becomes at most two legs (:mod:`agent.core.legs`): one that frees capital
   (reduce/close) and one that uses it (open/increase); a sign flip is a close then an open, so no
   asset is both bought and sold and nothing is traded twice; sizes round down to ``szDecimals``, a
   reduce that would leave dust closes the position, a leg under the minimum order value is skipped
   and reported;
5. max trades per cycle keeps the assets with the largest moves;
6. capital (:mod:`agent.core.sizing`): legs that free capital run first; then legs that use it, shrunk
   pro rata (and rounded down again) so that buying power never goes negative after fees and slippage;
7. costs: taker fees by market type plus slippage from walking the book (or a fallback);
8. the report around the actions (:mod:`agent.core.plan_report`).

Buying power is ``(max_gross_leverage − cash_floor) · E − Σ|notional|``. With the default leverage 1
it is the USDC above the reserve floor: a plan never takes cash below the floor.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Literal

import numpy as np

from agent.core.bands import BandModel
from agent.core.columns import Assets, assets_of
from agent.core.costs import CostModel
from agent.core.domain import CASH, Market, PortfolioState, RebalancingPlan, TargetAllocation
from agent.core.errors import ValidationError
from agent.core.legs import limit_trades, split_into_legs, trade_actions
from agent.core.limits import CashReserve
from agent.core.modes import MODES, Mode
from agent.core.plan_report import Decision, Tally, assemble, portfolio_drift
from agent.core.sizing import size_for_capital
from agent.core.targets import validate_target

__all__ = ["MODES", "Mode", "PortfolioRebalancer", "portfolio_drift"]

_TINY = 1e-12


class PortfolioRebalancer:
    """Plans the minimum trades that bring a portfolio back to its target.

    ``PortfolioRebalancer(min_trade_value=10.0, max_slippage_pct=0.005, rebalance_threshold=0.05)``
    are the main knobs: the minimum order value in USD, the IOC protection (limit price
    = mid × (1 ± max_slippage_pct)) and the position drift threshold. Keyword-only extras:

    - ``portfolio_threshold``: portfolio drift (½Σ|d|) that triggers a rebalance (default: the
      position threshold). A rebalance is needed when *either* threshold is reached.
    - ``mode``: ``threshold`` | ``band`` | ``calendar`` | ``cash-flow`` | ``cost-aware``.
    - ``drift_aversion`` / ``band_model``: the cost-aware mode's one knob and its inputs (each asset's
      volatility and cost of trading, ``agent.core.bands``): per-asset no-trade bands
      ``δ_i = σ_{w,i}·sqrt(κ_i/A)``, traded back to the edge; an asset the model lacks gets ``band``.
    - ``band`` / ``band_kind``: band half-width, ``absolute`` (±0.05 → 55–65 % around 60 %) or
      ``relative`` (±25 % of the target weight).
    - ``calendar_interval``: how often a calendar rebalance is due (e.g. 3, 7 or 14 days).
    - ``max_trades``: at most this many assets traded per cycle, largest moves first.
    - ``cash_reserve`` / ``cash_floor``: the cash reserve's bands, or just a hard floor.
    - ``max_weight`` / ``min_weight``: per-asset caps; a target under ``min_weight`` means exit.
    - ``max_gross_leverage``: Σ|w| allowed (1 = no leverage).
    - ``costs``: fee rates and the slippage fallback.
    """

    def __init__(
        self,
        min_trade_value: float = 10.0,
        max_slippage_pct: float = 0.005,
        rebalance_threshold: float = 0.05,
        *,
        portfolio_threshold: float | None = None,
        mode: Mode = "threshold",
        band: float = 0.05,
        band_kind: Literal["absolute", "relative"] = "absolute",
        calendar_interval: timedelta = timedelta(days=3),
        max_trades: int | None = None,
        cash_reserve: CashReserve | None = None,
        cash_floor: float = 0.0,
        max_weight: float | None = None,
        min_weight: float | None = None,
        max_gross_leverage: float = 1.0,
        costs: CostModel | None = None,
        drift_aversion: float = 1e-4,
        band_model: BandModel | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValidationError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        if not 0 <= max_slippage_pct < 0.5:
            raise ValidationError("max_slippage_pct must be in [0, 0.5)")
        if min_trade_value < 0 or rebalance_threshold < 0 or band < 0:
            raise ValidationError("min_trade_value, rebalance_threshold and band must be ≥ 0")
        if max_trades is not None and max_trades < 1:
            raise ValidationError("max_trades must be ≥ 1")
        if max_gross_leverage <= 0:
            raise ValidationError("max_gross_leverage must be > 0")
        if not drift_aversion > 0:
            raise ValidationError("drift_aversion must be > 0")
        self.min_trade_value = min_trade_value
        self.max_slippage_pct = max_slippage_pct
        self.position_threshold = rebalance_threshold
        self.portfolio_threshold = rebalance_threshold if portfolio_threshold is None else portfolio_threshold
        self.mode: Mode = mode
        self.band = band
        self.band_kind = band_kind
        self.calendar_interval = calendar_interval
        self.max_trades = max_trades
        self.cash_reserve = cash_reserve
        self.cash_floor = max(cash_floor, cash_reserve.floor if cash_reserve else 0.0)
        self.max_weight = max_weight
        self.min_weight = min_weight
        self.max_gross_leverage = max_gross_leverage
        self.costs = costs or CostModel()
        self.drift_aversion = drift_aversion
        self.band_model = band_model

    # -- public --------------------------------------------------------------------------------

    def create_rebalancing_plan(
        self,
        current: PortfolioState,
        target: TargetAllocation,
        market: Market,
        *,
        now: datetime | None = None,
        last_rebalance: datetime | None = None,
        sell_tax: Mapping[str, float] | None = None,
    ) -> RebalancingPlan:
        """The ordered plan. Raises ``TargetValidationError`` for a target the market cannot hold.

        ``sell_tax``: the estimated tax per USD sold of each asset (tax lots); when two remaining drifts are
        equally large, the one cheaper to sell moves first. Nothing else depends on it.
        """
        a = self._columns(current, target, market)
        now = now or datetime.now(UTC)
        equity = current.equity(market)
        if equity <= 0:
            zeros = np.zeros(len(a.coins))
            return self._report(
                a, target, now, 1.0, zeros, a.target, False, "no rebalance: the account has no equity", [], [], 0.0, 0.0
            )
        w = a.size * a.mid / equity
        t = self._apply_limits(a)
        half = self._half_widths(a.coins, t, equity)
        drift = portfolio_drift(w, t)
        beyond = np.abs(w - t) >= self.position_threshold - _TINY
        tie = None
        if sell_tax:  # only sells carry tax: an underweight asset's move costs none
            tie = np.array([sell_tax.get(c, 0.0) if w[i] > t[i] else 0.0 for i, c in enumerate(a.coins)])
        w_new, needed, reason = self._desired_weights(w, t, drift, beyond, now, last_rebalance, half, tie)
        if not needed:
            return self._report(a, target, now, equity, w, t, needed, reason, [], [], 0.0, 0.0, half=half)
        legs, skipped = split_into_legs(a, w_new * equity / a.mid, equity, self.min_trade_value)
        if self.max_trades is not None:
            skipped += limit_trades(a, legs, self.max_trades)
        priced, short = size_for_capital(
            a,
            legs,
            equity,
            costs=self.costs,
            slippage=self.max_slippage_pct,
            max_gross_leverage=self.max_gross_leverage,
            cash_floor=self.cash_floor,
            min_trade=self.min_trade_value,
        )
        actions, tally = trade_actions(a, w, w_new, priced, legs)
        return self._report(
            a, target, now, equity, w, t, needed, reason, actions, skipped + short, priced.fees, priced.slippage,
            half=half, s_after=priced.s_after(a), tally=tally,
        )  # fmt: skip

    # -- steps ---------------------------------------------------------------------------------

    def _columns(self, current: PortfolioState, target: TargetAllocation, market: Market) -> Assets:
        """The plan's columns, once the target passes ``validate_target``'s rules. The rules are checked on the
        columns (every asset listed, spot never short, each asset's max leverage, gross exposure, the sum);
        where one fails, ``validate_target`` names every problem (and raises)."""
        try:
            a = assets_of(current, target, market)
        except KeyError:  # an asset the market does not list
            a = None
        if a is None or not self._target_holds(a, target):
            validate_target(target, market, max_gross_leverage=self.max_gross_leverage)
        return assets_of(current, target, market) if a is None else a

    def _target_holds(self, a: Assets, target: TargetAllocation) -> bool:
        t, alloc = a.target, target.allocations
        if ((t < 0) & ~a.perp).any() or (np.abs(t) > a.max_lev).any():
            return False
        gross = sum(map(abs, target.weights.values()))  # as validate_target sums it
        if gross > self.max_gross_leverage + 1e-9:
            return False
        return CASH not in alloc or self.max_gross_leverage > 1.0 or 1.0 - 0.01 <= gross + alloc[CASH] <= 1.0 + 0.01

    def _apply_limits(self, a: Assets) -> np.ndarray:
        t = a.target.copy()
        if self.max_weight is not None:
            over = np.abs(t) > self.max_weight + _TINY
            for i in np.flatnonzero(over):
                a.clamps.append(f"{a.coins[i]}: target {t[i]:.2%} capped at the max weight {self.max_weight:.2%}")
            t = np.clip(t, -self.max_weight, self.max_weight)
        if self.min_weight is not None:
            under = (np.abs(t) > 0) & (np.abs(t) < self.min_weight - _TINY)
            for i in np.flatnonzero(under):
                a.clamps.append(f"{a.coins[i]}: target {t[i]:.2%} is under the min weight {self.min_weight:.2%}: exit")
            t[under] = 0.0
        gross = float(np.abs(t).sum())
        cash = 1.0 - gross
        want = None
        if self.cash_reserve is not None and cash < self.cash_reserve.min - _TINY:
            want = self.cash_reserve.min
        elif cash < self.cash_floor - _TINY:
            want = self.cash_floor
        if want is not None and gross > 0:
            scale = max(0.0, 1.0 - want) / gross
            if scale < 1.0:
                a.clamps.append(f"target cash {cash:.2%} raised to {want:.2%}: risk weights scaled by {scale:.4f}")
                t = t * scale
        a.target = t
        return t

    def _desired_weights(
        self,
        w: np.ndarray,
        t: np.ndarray,
        drift: float,
        beyond: np.ndarray,
        now: datetime,
        last: datetime | None,
        half: np.ndarray,
        tie: np.ndarray | None = None,
    ) -> tuple[np.ndarray, bool, str]:
        n_beyond = int(beyond.sum())
        status = (
            f"{n_beyond} position{'s' if n_beyond != 1 else ''} beyond {self.position_threshold:.1%} drift; "
            f"total drift {drift:.1%}"
        )
        if self.mode == "calendar":
            due = last is None or now - last >= self.calendar_interval
            if not due:
                assert last is not None
                nxt = (last + self.calendar_interval).date().isoformat()
                return w.copy(), False, f"calendar rebalance not due until {nxt}; {status}"
            return (
                t.copy(),
                True,
                f"calendar rebalance due (every {self.calendar_interval.days} days); {status}",
            )
        if self.mode == "cash-flow":
            return (
                self._cash_flow(w, t),
                True,
                f"cash-flow: buying underweight assets with spare cash; {status}",
            )

        if self.mode in ("band", "cost-aware"):
            lo, hi = t - half, t + half
            outside = (w < lo - _TINY) | (w > hi + _TINY)
            w_new = np.clip(w, lo, hi)
            n_out = int(outside.sum())
            status = f"{n_out} position{'s' if n_out != 1 else ''} outside {self._band_text()}; total drift {drift:.1%}"
            if self.mode == "cost-aware":  # the bands are the whole policy: no portfolio threshold
                if n_out == 0:
                    return w.copy(), False, f"no rebalance needed: {status}"
                return w_new, True, status
            needed = n_out > 0 or drift >= self.portfolio_threshold - _TINY
        else:
            w_new = np.where(beyond, t, w)
            needed = n_beyond > 0 or drift >= self.portfolio_threshold - _TINY
        if not needed:
            return w.copy(), False, f"no rebalance needed: {status}"
        return self._close_portfolio_drift(w_new, t, tie), True, status

    def _half_widths(self, coins: list[str], t: np.ndarray, equity: float) -> np.ndarray:
        """Each asset's band half-width: the cost-aware model's, the fixed band's, or the position threshold."""
        if self.mode == "cost-aware" and self.band_model is not None:
            return self.band_model.half_widths(coins, t, equity, self.drift_aversion, self.band)
        if self.mode in ("band", "cost-aware"):
            return np.broadcast_to(self.band if self.band_kind == "absolute" else self.band * np.abs(t), t.shape)
        return np.full_like(t, self.position_threshold)

    def _band_text(self) -> str:
        if self.mode == "cost-aware":
            return f"cost-aware bands (drift aversion {self.drift_aversion:g})"
        return f"±{self.band:.1%} bands" if self.band_kind == "absolute" else f"±{self.band:.0%} relative bands"

    def _close_portfolio_drift(self, w_new: np.ndarray, t: np.ndarray, tie: np.ndarray | None = None) -> np.ndarray:
        """Move the largest remaining drifts to target until portfolio drift is under its threshold (equal drifts:
        the smaller ``tie`` first, the estimated tax of the sale)."""
        w_new = w_new.copy()
        gap = np.abs(w_new - t)
        order = np.argsort(-gap, kind="stable") if tie is None else np.lexsort((tie, -np.round(gap, 9)))
        g = gap[order]
        # Σ|d| and Σ|w| before each move, summed left to right as the moves happen
        gap_sum = np.add.accumulate(np.concatenate(([float(gap.sum())], -g)))[:-1]
        step = (np.abs(t) - np.abs(w_new))[order]
        abs_sum = np.add.accumulate(np.concatenate(([float(np.abs(w_new).sum())], step)))[:-1]
        cash_t = 1.0 - float(np.abs(t).sum())
        drift = 0.5 * (gap_sum + np.abs((1.0 - abs_sum) - cash_t))
        stop = (g <= _TINY) | (drift < self.portfolio_threshold - _TINY)
        moved = order[: int(np.argmax(stop)) if stop.any() else len(order)]
        w_new[moved] = t[moved]
        return w_new

    def _cash_flow(self, w: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Buy-only: spend the cash above max(target cash, floor) on underweight assets, pro rata to need."""
        cash_now = 1.0 - float(np.abs(w).sum())
        keep = max(1.0 - float(np.abs(t).sum()), self.cash_floor)
        spare = max(0.0, cash_now - keep)
        same_side = (np.sign(w) == np.sign(t)) | (w == 0)
        need = np.where(same_side, np.maximum(np.abs(t) - np.abs(w), 0.0), 0.0)
        total = float(need.sum())
        if total <= _TINY or spare <= _TINY:
            return w.copy()
        add = need * min(1.0, spare / total)
        return w + np.sign(t) * add

    # -- the plan ------------------------------------------------------------------------------

    def _report(
        self,
        a: Assets,
        target: TargetAllocation,
        now: datetime,
        equity: float,
        w: np.ndarray,
        t: np.ndarray,
        needed: bool,
        reason: str,
        actions: list,
        skipped: list,
        fees: float,
        slippage: float,
        *,
        half: np.ndarray | None = None,
        s_after: np.ndarray | None = None,
        tally: Tally | None = None,
    ) -> RebalancingPlan:
        return assemble(
            Decision(
                assets=a,
                strategy_id=target.strategy_id,
                mode=self.mode,
                now=now,
                equity=equity,
                w=w,
                t=t,
                half=self._half_widths(a.coins, t, equity) if half is None else half,
                cash_floor=self.cash_floor,
                needed=needed,
                reason=reason,
                actions=actions,
                tally=tally or Tally(),
                skipped=skipped,
                fees=fees,
                slippage=slippage,
                s_after=a.size.copy() if s_after is None else s_after,
            )
        )
