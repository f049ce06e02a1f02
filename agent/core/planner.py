"""The deterministic planner: current state + target + market rules → an ordered ``RebalancingPlan``.

The steps (seed 003, with seeds 000, 002 and 004 folded in):

1. limits on the target: max weight (clip), min weight (below it: exit), cash reserve floor;
2. weights and drift: ``w`` current, ``t`` target, ``d = w − t``, portfolio drift ½Σ|d| (USDC included);
3. the mode picks the post-trade weights ``w'``: threshold (drifted assets back to target), band
   (back to the band's edge), calendar (everything to target when due), cash-flow (buy-only with the
   cash above the target cash); threshold and band then also move the largest remaining drifts to
   target until the portfolio drift is below its threshold;
4. each asset's change becomes at most two legs: one that frees capital (reduce/close) and one
   that uses it (open/increase); a sign flip is a close then an open, so no asset is both bought
   and sold and nothing is traded twice; sizes round down to ``szDecimals``, a reduce that would
   leave dust closes the position, a leg under the minimum order value is skipped and reported;
5. max trades per cycle keeps the assets with the largest moves;
6. capital: legs that free capital run first; then legs that use it, shrunk pro rata (and rounded
   down again) so that buying power never goes negative after fees and slippage;
7. costs: taker fees by market type plus slippage from walking the book (or a fallback).

Buying power is ``(max_gross_leverage − cash_floor) · E − Σ|notional|``. With the default leverage 1
it is the USDC above the reserve floor: a plan never takes cash below the floor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

import numpy as np

from agent.core.bands import BandModel
from agent.core.capital import free_cash, pool_label, pool_of, pool_scales, pro_rata
from agent.core.costs import CostModel
from agent.core.domain import (
    L2Book,
    Market,
    MarketInfo,
    MarketType,
    PortfolioState,
    RebalancingPlan,
    SkippedTrade,
    TargetAllocation,
    TradeAction,
)
from agent.core.errors import ValidationError
from agent.core.limits import CashReserve
from agent.core.plan_report import assemble, portfolio_drift, trusted
from agent.core.rules import protected_prices, round_price, round_size_down, round_sizes_down
from agent.core.targets import validate_target

Mode = Literal["threshold", "band", "calendar", "cash-flow", "cost-aware"]
MODES: tuple[Mode, ...] = ("threshold", "band", "calendar", "cash-flow", "cost-aware")
_TINY = 1e-12


@dataclass
class _Leg:
    i: int
    frees: bool  # True: reduce/close (frees capital); False: open/increase (uses it)
    kind: str
    sell: bool
    size: float
    reduce_only: bool
    note: str = ""


@dataclass
class _Book:
    """Per-asset arrays for one planning run."""

    coins: list[str]
    mid: np.ndarray
    szd: np.ndarray
    perp: np.ndarray
    size: np.ndarray  # signed current size
    free: np.ndarray  # sellable now (spot: total − hold)
    target: np.ndarray  # effective target weights
    market: Market
    infos: list[MarketInfo]
    books: list[L2Book | None]
    lev: np.ndarray  # perp position leverage (≥ 1): closing frees notional / lev of margin
    spot_cash: float  # spot USDC not on hold
    perp_free: float  # perp margin free for new positions
    spot_usdc: float = 0.0  # spot USDC held, on hold included
    clamps: list[str] = field(default_factory=list)
    abstraction: str = "disabled"  # the account mode (agent.core.accounts)
    pools: dict[str, float] = field(default_factory=dict)  # free cash per pool (agent.core.capital)
    pool: list[str] = field(default_factory=list)  # per asset: the pool that pays for its buys


class PortfolioRebalancer:
    """Plans the minimum trades that bring a portfolio back to its target.

    ``PortfolioRebalancer(min_trade_value=10.0, max_slippage_pct=0.005, rebalance_threshold=0.05)``
    are seed 003's knobs: the minimum order value in USD, the IOC protection (limit price
    = mid × (1 ± max_slippage_pct)) and the position drift threshold. Keyword-only extras:

    - ``portfolio_threshold``: portfolio drift (½Σ|d|) that triggers a rebalance (default: the
      position threshold). A rebalance is needed when *either* threshold is reached.
    - ``mode``: ``threshold`` | ``band`` | ``calendar`` | ``cash-flow`` | ``cost-aware``.
    - ``drift_aversion`` / ``band_model``: the cost-aware mode's one knob and its inputs (each asset's
      volatility and cost of trading, ``agent.core.bands``): per-asset no-trade bands
      ``δ_i = σ_{w,i}·sqrt(κ_i/A)``, traded back to the edge; an asset the model lacks gets ``band``.
    - ``band`` / ``band_kind``: band half-width, ``absolute`` (±0.05 → 55–65 % around 60 %) or
      ``relative`` (±25 % of the target weight).
    - ``calendar_interval``: how often a calendar rebalance is due (seed 000: 3, 7 or 14 days).
    - ``max_trades``: at most this many assets traded per cycle, largest moves first (seed 002).
    - ``cash_reserve`` / ``cash_floor``: seed 002's bands, or just a hard floor.
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
    ) -> RebalancingPlan:
        """The ordered plan. Raises ``TargetValidationError`` for a target the market cannot hold."""
        validate_target(target, market, max_gross_leverage=self.max_gross_leverage)
        now = now or datetime.now(UTC)
        equity = current.equity(market)
        b = self._arrays(current, target, market)
        if equity <= 0:
            return self._empty_plan(b, target, now, equity, "the account has no equity")
        w = b.size * b.mid / equity
        t = self._apply_limits(b)
        half = self._half_widths(b.coins, t, equity)
        d = w - t
        drift = portfolio_drift(w, t)
        beyond = np.abs(d) >= self.position_threshold - _TINY
        w_new, needed, reason = self._desired_weights(w, t, d, drift, beyond, now, last_rebalance, half)
        legs, skipped = self._legs(b, equity, w, w_new) if needed else ([], [])
        if self.max_trades is not None:
            legs, skipped = self._limit_trades(b, legs, skipped)
        actions, skipped, costs = self._size_for_capital(b, equity, w, w_new, legs, skipped)
        return self._assemble(b, target, now, equity, w, t, needed, reason, actions, skipped, costs)

    # -- steps ---------------------------------------------------------------------------------

    @staticmethod
    def _arrays(current: PortfolioState, target: TargetAllocation, market: Market) -> _Book:
        coins = sorted(set(current.positions) | set(target.weights))
        infos = [market.assets[c] for c in coins]
        pos = current.positions
        size = np.array([pos[c].size if c in pos else 0.0 for c in coins])
        free = np.array([pos[c].free if c in pos else 0.0 for c in coins])
        return _Book(
            coins=coins,
            mid=np.array([i.mid for i in infos]),
            szd=np.array([i.sz_decimals for i in infos]),
            perp=np.array([i.market == "perp" for i in infos], dtype=bool),
            size=size,
            free=free,
            target=np.array([target.allocations.get(c, 0.0) for c in coins], dtype=float),
            market=market,
            infos=infos,
            books=[i.book for i in infos],
            lev=np.array([max(1.0, pos[c].leverage or 1.0) if c in pos else 1.0 for c in coins]),
            spot_cash=current.unified_free if current.unified else current.spot_usdc_free,
            perp_free=current.perp_free,
            spot_usdc=current.usdc_spot_total,
            abstraction=current.abstraction,
            pools=free_cash(current),
            pool=[pool_of(i, current.abstraction) for i in infos],
        )

    def _apply_limits(self, b: _Book) -> np.ndarray:
        t = b.target.copy()
        if self.max_weight is not None:
            over = np.abs(t) > self.max_weight + _TINY
            for i in np.flatnonzero(over):
                b.clamps.append(f"{b.coins[i]}: target {t[i]:.2%} capped at the max weight {self.max_weight:.2%}")
            t = np.clip(t, -self.max_weight, self.max_weight)
        if self.min_weight is not None:
            under = (np.abs(t) > 0) & (np.abs(t) < self.min_weight - _TINY)
            for i in np.flatnonzero(under):
                b.clamps.append(f"{b.coins[i]}: target {t[i]:.2%} is under the min weight {self.min_weight:.2%}: exit")
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
                b.clamps.append(f"target cash {cash:.2%} raised to {want:.2%}: risk weights scaled by {scale:.4f}")
                t = t * scale
        b.target = t
        return t

    def _desired_weights(
        self,
        w: np.ndarray,
        t: np.ndarray,
        d: np.ndarray,
        drift: float,
        beyond: np.ndarray,
        now: datetime,
        last: datetime | None,
        half: np.ndarray,
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
        return self._close_portfolio_drift(w_new, t), True, status

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

    def _close_portfolio_drift(self, w_new: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Move the largest remaining drifts to target until portfolio drift is under its threshold."""
        w_new = w_new.copy()
        gap = np.abs(w_new - t)
        abs_sum, gap_sum = float(np.abs(w_new).sum()), float(gap.sum())
        cash_t = 1.0 - float(np.abs(t).sum())
        for i in np.argsort(-gap, kind="stable"):
            if gap[i] <= _TINY:
                break
            if 0.5 * (gap_sum + abs((1.0 - abs_sum) - cash_t)) < self.portfolio_threshold - _TINY:
                break
            abs_sum += abs(t[i]) - abs(w_new[i])
            gap_sum -= gap[i]
            w_new[i] = t[i]
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

    def _legs(self, b: _Book, equity: float, w: np.ndarray, w_new: np.ndarray) -> tuple[list[_Leg], list[SkippedTrade]]:
        s = b.size
        s_new = w_new * equity / b.mid
        moving = np.abs(s_new - s) * b.mid > _TINY * max(equity, 1.0)
        flip = s * s_new < 0
        to_zero = moving & (s != 0) & ((np.abs(s_new) * b.mid < self.min_trade_value) | flip)
        shrink = moving & (s != 0) & ~to_zero & (np.abs(s_new) < np.abs(s))
        grow = moving & ~to_zero & ~shrink & (np.abs(s_new) > np.abs(s))
        grow |= moving & flip  # the open after the close
        sellable = round_sizes_down(np.abs(np.where(b.perp, s, b.free)), b.szd)
        reduce_sz = round_sizes_down(np.abs(s) - np.abs(s_new), b.szd)
        # A reduce whose remainder would be under the minimum order value closes instead (no dust).
        dust = shrink & ((np.abs(s) - reduce_sz) * b.mid < self.min_trade_value)
        to_zero |= dust
        shrink &= ~dust
        grow_sz = round_sizes_down(np.where(flip, np.abs(s_new), np.abs(s_new) - np.abs(s)), b.szd)

        legs: list[_Leg] = []
        skipped: list[SkippedTrade] = []
        for i in np.flatnonzero(to_zero | shrink):
            perp = bool(b.perp[i])
            closing = bool(to_zero[i])
            sz = float(sellable[i]) if closing else min(float(reduce_sz[i]), float(sellable[i]))
            note = ""
            locked = abs(s[i]) - b.free[i]
            if not perp and locked > _TINY and (closing or reduce_sz[i] > sellable[i]):
                note = f" ({locked:g} locked, left in place)"
                skipped.append(
                    SkippedTrade(
                        coin=b.coins[i],
                        wanted_notional_usd=round(locked * b.mid[i], 2),
                        reason=f"{locked:g} {b.coins[i]} is locked (hold) by open orders and cannot be sold",
                    )
                )
            legs.append(_Leg(int(i), True, "close" if closing else "reduce", bool(s[i] > 0), sz, perp, note))
        for i in np.flatnonzero(grow):
            opening = bool(s[i] == 0 or flip[i])
            if not b.perp[i] and s_new[i] < 0:
                raise ValidationError(f"{b.coins[i]}: spot cannot be short")
            legs.append(
                _Leg(
                    int(i),
                    False,
                    "open" if opening else "increase",
                    bool(s_new[i] < 0),
                    float(grow_sz[i]),
                    False,
                )
            )
        kept = []
        for leg in legs:
            value = leg.size * b.mid[leg.i]
            if value < self.min_trade_value - _TINY or leg.size <= 0:
                skipped.append(
                    SkippedTrade(
                        coin=b.coins[leg.i],
                        wanted_notional_usd=round(abs(s_new[leg.i] - s[leg.i]) * b.mid[leg.i], 2),
                        reason=f"{leg.kind} of ${value:,.2f} is under the ${self.min_trade_value:g} minimum order",
                    )
                )
            else:
                kept.append(leg)
        return kept, skipped

    def _limit_trades(
        self, b: _Book, legs: list[_Leg], skipped: list[SkippedTrade]
    ) -> tuple[list[_Leg], list[SkippedTrade]]:
        moved: dict[int, float] = {}
        for leg in legs:
            moved[leg.i] = moved.get(leg.i, 0.0) + leg.size * b.mid[leg.i]
        assert self.max_trades is not None
        keep = set(sorted(moved, key=lambda i: (-moved[i], b.coins[i]))[: self.max_trades])
        for i in sorted(set(moved) - keep, key=lambda i: b.coins[i]):
            skipped.append(
                SkippedTrade(
                    coin=b.coins[i],
                    wanted_notional_usd=round(moved[i], 2),
                    reason=f"over the limit of {self.max_trades} trades per cycle (smaller move; next cycle)",
                )
            )
        return [leg for leg in legs if leg.i in keep], skipped

    def _size_for_capital(
        self, b: _Book, equity: float, w: np.ndarray, w_new: np.ndarray, legs: list[_Leg], skipped: list[SkippedTrade]
    ) -> tuple[list[TradeAction], list[SkippedTrade], tuple[float, float]]:
        """Order the legs (frees first, largest first), price them, and shrink the capital users to fit."""
        mid = b.mid
        buy_px, sell_px = self._limit_prices(b)
        fee_rate = np.where(b.perp, self.costs.perp_taker_fee, self.costs.spot_taker_fee)
        fee_rate = fee_rate * np.array([i.fee_scale for i in b.infos])  # HIP-3 dexes scale their fees
        frees = sorted((g for g in legs if g.frees), key=lambda g: (-g.size * mid[g.i], b.coins[g.i]))
        uses = sorted((g for g in legs if not g.frees), key=lambda g: (-g.size * mid[g.i], b.coins[g.i]))

        def cost(g: _Leg, size: float, px: float) -> tuple[float, float]:
            book = b.books[g.i]
            value = size * mid[g.i]
            if book is None:
                return value * fee_rate[g.i], value * self.costs.fallback_slippage_bps / 10_000
            return value * fee_rate[g.i], self.costs.slippage_usd(book, float(mid[g.i]), size, not g.sell, px)

        fees = slip = 0.0
        gross = float(np.abs(b.size * mid).sum())
        e = equity
        # The account's mode says which cash pays for what (agent.core.capital): on a standard account spot
        # sells fund spot buys and perp reduces free perp margin for perp opens (1x, conservatively); on a
        # unified one, one USDC balance funds both. No transfer between pools is ever planned.
        pool = dict(b.pools)
        priced: list[tuple[_Leg, float, float]] = []
        for g in frees:
            px = float(sell_px[g.i] if g.sell else buy_px[g.i])
            f, sl = cost(g, g.size, px)
            value = g.size * mid[g.i]
            gross -= value
            e -= f + sl
            kind = b.pool[g.i]
            pool[kind] = pool.get(kind, 0.0) + (value / b.lev[g.i] if b.perp[g.i] else value) - f - sl
            fees, slip = fees + f, slip + sl
            priced.append((g, g.size, px))
        power = max(0.0, (self.max_gross_leverage - self.cash_floor) * e - gross)
        quotes = []
        need: dict[str, float] = {}
        need_all = 0.0
        for g in uses:
            px = float(sell_px[g.i] if g.sell else buy_px[g.i])
            f, sl = cost(g, g.size, px)
            quotes.append((g, px, f, sl))
            cost_i = g.size * mid[g.i] + f + sl
            need_all += cost_i
            need[b.pool[g.i]] = need.get(b.pool[g.i], 0.0) + cost_i

        # Shrink rule: every capital user keeps the same fraction of its wanted size (pro rata, per cash
        # pool and overall), rounded down onto the size grid.
        overall = pro_rata(power, need_all)
        scales = pool_scales(pool, need, overall=overall)
        for g, px, f, sl in quotes:
            size = g.size
            kind = b.pool[g.i]
            scale = scales[kind]
            why = "buying power" if scale == overall else pool_label(kind, b.abstraction)
            if scale < 1.0:
                size = round_size_down(g.size * scale, int(b.szd[g.i]))
                value = size * mid[g.i]
                if value < self.min_trade_value - _TINY:
                    skipped.append(
                        SkippedTrade(
                            coin=b.coins[g.i],
                            wanted_notional_usd=round(g.size * mid[g.i], 2),
                            reason=f"not enough {why}: shrunk to ${value:,.2f}, under the minimum order",
                        )
                    )
                    continue
                f, sl = cost(g, size, px)
                g.note += f" (shrunk to {scale:.1%} of the wanted size: {why})"
            fees, slip = fees + f, slip + sl
            priced.append((g, size, px))
        actions = self._actions(b, w, w_new, priced)
        return actions, skipped, (fees, slip)

    def _limit_prices(self, b: _Book) -> tuple[np.ndarray, np.ndarray]:
        """IOC limits for a buy and a sell of every asset: toward the mid, inside the slippage bound.

        Where the price grid is too coarse for that (the rounded limit lands on the wrong side of the
        mid), the nearest valid price beyond the mid: an order that cannot fill is worse than one tick.
        """
        n = len(b.coins)
        buy = protected_prices(b.mid, np.ones(n, dtype=bool), self.max_slippage_pct, b.perp, b.szd)
        sell = protected_prices(b.mid, np.zeros(n, dtype=bool), self.max_slippage_pct, b.perp, b.szd)
        for i in np.flatnonzero((buy < b.mid) | (sell > b.mid) | (sell <= 0)):
            market: MarketType = "perp" if b.perp[i] else "spot"
            buy[i] = max(buy[i], round_price(float(b.mid[i]), market, int(b.szd[i]), up=True))
            sell[i] = min(sell[i], round_price(float(b.mid[i]), market, int(b.szd[i]), up=False)) or buy[i]
        return buy, sell

    def _actions(
        self, b: _Book, w: np.ndarray, w_new: np.ndarray, priced: list[tuple[_Leg, float, float]]
    ) -> list[TradeAction]:
        wl, wn, tl, mids = w.tolist(), w_new.tolist(), b.target.tolist(), b.mid.tolist()
        out = []
        for g, size, px in priced:
            i = g.i
            coin = b.coins[i]
            info = b.infos[i]
            if g.kind == "close":
                why = f"exit {coin}: {wl[i]:+.2%} → 0"
            elif g.kind == "open":
                why = f"enter {coin}: → {wn[i]:+.2%} (target {tl[i]:+.2%})"
            else:
                why = f"{g.kind} {coin}: {wl[i]:+.2%} → {wn[i]:+.2%} (target {tl[i]:+.2%})"
            out.append(
                trusted(
                    TradeAction,
                    coin=coin,
                    market=info.market,
                    side="sell" if g.sell else "buy",
                    kind=g.kind,
                    size=size,
                    notional_usd=round(size * mids[i], 2),
                    from_weight=round(wl[i], 6),
                    to_weight=round(wn[i], 6),
                    reduce_only=g.reduce_only,
                    limit_px=px,
                    reason=why + g.note,
                    asset=info.asset,
                    wire_name=info.wire_name,
                    sz_decimals=info.sz_decimals,
                    order_type="ioc",
                    twap_minutes=None,
                )
            )
        return out

    # -- the plan ------------------------------------------------------------------------------

    def _assemble(
        self,
        b: _Book,
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
    ) -> RebalancingPlan:
        half = self._half_widths(b.coins, t, equity)
        return assemble(
            b, target, now, equity, w, t, needed, reason, actions, skipped, costs,
            mode=self.mode, half=half, cash_floor=self.cash_floor,
        )  # fmt: skip

    def _empty_plan(
        self, b: _Book, target: TargetAllocation, now: datetime, equity: float, why: str
    ) -> RebalancingPlan:
        zeros = np.zeros(len(b.coins))
        equity = 1.0 if equity <= 0 else equity
        return self._assemble(
            b, target, now, equity, zeros, b.target, False, f"no rebalance: {why}", [], [], (0.0, 0.0)
        )
