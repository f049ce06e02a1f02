"""The offline strategist: picks a strategy from the library by explicit rules, no model involved.

It is what runs when no LLM is configured, and the baseline an LLM's answer can be compared with. The
rules are deliberately few and visible: the market features (volatility, trend, drawdown, funding) are
summarised into a regime; each strategy has one precondition check; the checks run in a fixed priority
order and the first that holds wins. After a configured target, the default is ``trend-following``
(``agent.strategist.trend``: multi-horizon trend per coin, volatility-scaled, cash when trends are down),
the rule whose backtest beats equal weight; the regime rules below it answer only when it cannot (no coin
with 90 days of history) or when the settings or a model choose them. The reasoning lists every check with the measured
values, so a human can see why. The target is computed with ``agent.strategist.allocators``, clamped to the
strategy's and the config's caps, and validated; an invalid target fails closed (no default target).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agent.core.domain import CASH, Market, TargetAllocation
from agent.core.errors import TargetValidationError, ValidationError
from agent.strategist import allocators, trend
from agent.strategist.base import Decision, DecisionContext
from agent.strategist.features import covariance_matrix, load_daily_closes
from agent.strategist.holdings import clamp_weights, prefer_held_instruments
from agent.strategist.library import Strategy, StrategyCaps, load_strategies
from agent.strategist.regime import (
    BROAD_BREADTH,
    BROAD_MEDIAN_RETURN_30D,
    CASH_MIN,
    CRASH_DRAWDOWN_90D,
    CRASH_MEDIAN_RETURN_30D,
    DOWNTREND_BREADTH,
    FUNDING_MAX_COINS,
    FUNDING_RICH_7D_APR,
    FUNDING_RICH_LATEST_APR,
    HIGH_VOL,
    PRIORITY,
    RISK_PARITY_MAX_COINS,
    SATELLITE_MAX,
    UNHEDGED_SHORT_MAX,
    UPTREND_BREADTH,
    MarketSummary,
    _pct,
    classify_regime,
    summarize,
    weighted_score,
)


@dataclass
class _Env:
    """What the rules and allocators look at for one decision."""

    ctx: DecisionContext
    summary: MarketSummary
    regime: str
    regime_why: str
    universe: list[str]  # perps with history, listed and allowed
    scores: dict[str, float]
    holdings: dict[str, float] = field(default_factory=dict)
    free_cash: float = 1.0
    locked_cash: float = 0.0


Check = Callable[[_Env], tuple[bool, str]]


def _check_fixed(env: _Env) -> tuple[bool, str]:
    if env.ctx.current_targets:
        return True, f"configured targets present ({len(env.ctx.current_targets)} entries)"
    return False, "no configured targets"


def _check_trend(env: _Env) -> tuple[bool, str]:
    n = len(env.universe)
    return n >= 1, f"{n} listed, allowed perps with 90 days of history (needs 1)"


def _check_risk_off(env: _Env) -> tuple[bool, str]:
    s = env.summary
    ok = env.regime in ("crash", "high-vol")
    return ok, (
        f"regime {env.regime}; {s.reference} 90d drawdown {_pct(s.ref_drawdown_90d)} (crash ≤ "
        f"{CRASH_DRAWDOWN_90D:.0%}), median 30d return {_pct(s.median_return_30d)} (crash ≤ "
        f"{CRASH_MEDIAN_RETURN_30D:.0%}), median 30d vol {s.median_vol_30d:.0%} (high ≥ {HIGH_VOL:.0%})"
    )


def _check_funding(env: _Env) -> tuple[bool, str]:
    rich = [r for r in env.summary.rich_funding if _is_perp(env.ctx.market, r.coin) and _allowed(env.ctx, r.coin)]
    if env.regime in ("crash", "high-vol"):
        return False, f"regime {env.regime} is avoided"
    if not rich:
        best = env.summary.best_funding
        where = f"highest {best[0]} {_pct(best[1])}" if best else "no funding history"
        return False, (
            f"no perp with 7d funding ≥ {FUNDING_RICH_7D_APR:.0%} APR and latest ≥ "
            f"{FUNDING_RICH_LATEST_APR:.0%} ({where})"
        )
    parts = ", ".join(
        f"{r.coin} 7d {_pct(r.apr_7d)} / latest {_pct(r.apr_latest)} APR ({r.positive_share:.0%} positive hours)"
        for r in rich
    )
    return True, f"persistently rich funding: {parts}"


def _check_cash_reserve(env: _Env) -> tuple[bool, str]:
    if env.regime != "caution":
        return False, f"regime {env.regime} is not caution"
    if not env.holdings:
        return False, "caution, but the account holds no long positions to trim"
    if any(w < 0 for w in env.holdings.values()):
        return False, "caution, but the account holds shorts (cash-reserve is long-only)"
    if env.free_cash >= CASH_MIN:
        return False, f"caution, but free cash {env.free_cash:.1%} is already ≥ {CASH_MIN:.0%}"
    return True, f"caution and free cash {env.free_cash:.1%} < {CASH_MIN:.0%} with {len(env.holdings)} holdings"


def _check_equal(env: _Env) -> tuple[bool, str]:
    n = sum(math.isfinite(v) for v in env.scores.values())
    ok = env.regime == "broad-rally" and n >= 4
    return ok, (
        f"regime {env.regime} (needs broad-rally: breadth {env.summary.breadth:.0%} ≥ {BROAD_BREADTH:.0%}"
        f" and median 30d return {_pct(env.summary.median_return_30d)} ≥ {BROAD_MEDIAN_RETURN_30D:.0%}),"
        f" {n} scored coins (needs 4)"
    )


def _check_balanced(env: _Env) -> tuple[bool, str]:
    core = [c for c in ("BTC", "ETH") if c in env.universe]
    ok = env.regime == "uptrend" and len(core) == 2
    return ok, (
        f"regime {env.regime} (needs uptrend: breadth {env.summary.breadth:.0%} ≥ "
        f"{UPTREND_BREADTH:.0%}), core coins available: {', '.join(core) or 'none'}"
    )


def _check_score(env: _Env) -> tuple[bool, str]:
    pos = sorted(c for c, v in env.scores.items() if math.isfinite(v) and v > 0)
    ok = env.regime == "range" and bool(pos)
    return ok, (
        f"regime {env.regime} (needs range: breadth {DOWNTREND_BREADTH:.0%}–{UPTREND_BREADTH:.0%}), "
        f"coins with a positive score: {', '.join(pos) or 'none'}"
    )


def _check_parity(env: _Env) -> tuple[bool, str]:
    n = len(env.universe)
    ok = n >= 2 and env.regime not in ("crash", "high-vol", "unknown")
    return ok, f"regime {env.regime} (any but crash/high-vol), {n} coins with history (needs 2)"


CHECKS: dict[str, Check] = {
    "fixed-targets": _check_fixed,
    "trend-following": _check_trend,
    "risk-off": _check_risk_off,
    "funding-harvest": _check_funding,
    "cash-reserve": _check_cash_reserve,
    "equal-weight": _check_equal,
    "balanced-growth": _check_balanced,
    "score-weighted": _check_score,
    "risk-parity": _check_parity,
}


def _is_perp(market: Market, coin: str) -> bool:
    info = market.get(coin)
    return info is not None and info.market == "perp"


def _allowed(ctx: DecisionContext, coin: str) -> bool:
    allowed = ctx.limits.allowed_assets
    return allowed is None or coin in allowed


def _spot_hedge(market: Market, coin: str) -> str | None:
    """A spot pair for the perp's asset (``BTC`` -> a pair whose base token is ``BTC`` or ``UBTC``)."""
    for name in sorted(market.assets):
        info = market.assets[name]
        if info.market == "spot" and info.base_token in (coin, f"U{coin}"):
            return name
    return None


class OfflineStrategist:
    """Deterministic strategist: explicit precondition rules over market features, no model."""

    name = "offline"

    def __init__(
        self,
        strategies: Mapping[str, Strategy] | None = None,
        *,
        closes: Mapping[str, np.ndarray] | None = None,
        history_dir: str | Path | None = None,
        vol_target: float = trend.VOL_TARGET,
    ) -> None:
        self.strategies = dict(strategies) if strategies is not None else load_strategies()
        self.vol_target = vol_target  # the trend rule's volatility target (fitted only by walk-forward runs)
        self._closes = dict(closes) if closes is not None else None
        self._history_dir = history_dir

    # -- public -----------------------------------------------------------------------------------------
    def decide(self, ctx: DecisionContext) -> Decision:
        features = {c: dict(f) for c, f in ctx.features.items()}
        listed = [c for c in features if c in ctx.market.assets]
        if not listed:
            return self._failed("no market features for any listed asset: cannot evaluate preconditions")
        env = self._env(ctx, features)
        lines = [f"Market: {env.summary.describe()}.", f"Regime: {env.regime} ({env.regime_why})."]
        chosen: str | None = None
        if ctx.strategy in self.strategies and (ctx.strategy != "fixed-targets" or ctx.current_targets):
            chosen = ctx.strategy  # the owner's choice in the settings; its preconditions are still shown
            lines.append(f"Strategy chosen in the settings: {chosen}.")
        for sid in PRIORITY:
            if sid not in self.strategies:
                continue
            ok, why = CHECKS[sid](env)
            if chosen is None and ok:
                chosen = sid
                lines.append(f"- {sid}: YES ({why})")
            else:
                lines.append(f"- {sid}: {'skipped, higher priority chosen' if ok else 'no'} ({why})")
        if chosen is None:
            return self._failed("no strategy's preconditions hold:\n" + "\n".join(lines))
        strategy = self.strategies[chosen]
        raw, notes = self._allocate(chosen, env, strategy.caps())
        raw, moved = prefer_held_instruments(raw, ctx.state, ctx.market)
        notes.extend(moved)
        weights, clamps = clamp_weights(raw, ctx.market, strategy.caps(), ctx.limits)
        lines.append(f"Selected {chosen}: {strategy.title}.")
        lines.extend(notes)
        lines.append("Target: " + ", ".join(f"{c} {w:.4f}" for c, w in weights.items()) + ".")
        lines.append("Clamps: " + ("; ".join(clamps) if clamps else "none") + ".")
        reasoning = "\n".join(lines)
        try:
            target = TargetAllocation(allocations=weights, strategy_id=chosen, reasoning=reasoning)
            ctx.limits.check_target(target, ctx.market)
        except (TargetValidationError, ValueError) as exc:
            return Decision(
                status="failed_invalid",
                provider=self.name,
                selected_strategy=chosen,
                reasoning=reasoning,
                error=str(exc),
                attempts=1,
            )
        return Decision(
            status="ok", provider=self.name, selected_strategy=chosen, target=target, reasoning=reasoning, attempts=1
        )

    def compute(self, strategy_id: str, ctx: DecisionContext) -> dict[str, Any]:
        """What ``strategy_id``'s rules give for this market, after its caps and the config's limits.

        Read-only and deterministic; the strategy's preconditions are reported, not enforced, so a model
        (or a person) can compare strategies before choosing and adjusting one.
        """
        if strategy_id not in self.strategies:
            raise ValidationError(f"unknown strategy {strategy_id!r}; see list_strategies")
        if strategy_id == "fixed-targets" and ctx.current_targets is None:
            raise ValidationError("fixed-targets: no targets are configured or stored")
        features = {c: dict(f) for c, f in ctx.features.items()}
        if not any(c in ctx.market.assets for c in features):
            raise ValidationError("no market features for any listed asset: nothing to compute from")
        env = self._env(ctx, features)
        ok, why = CHECKS[strategy_id](env)
        strategy = self.strategies[strategy_id]
        raw, notes = self._allocate(strategy_id, env, strategy.caps())
        raw, moved = prefer_held_instruments(raw, ctx.state, ctx.market)
        notes.extend(moved)
        weights, clamps = clamp_weights(raw, ctx.market, strategy.caps(), ctx.limits)
        return {
            "strategy_id": strategy_id,
            "preconditions_met": ok,
            "preconditions": why,
            "regime": env.regime,
            "target_allocation": weights,
            "how": notes,
            "clamps": clamps,
            "caps": {"max_position": strategy.caps().max_position, "max_leverage": strategy.caps().max_leverage},
        }

    # -- internals ----------------------------------------------------------------------------------------
    def _failed(self, error: str) -> Decision:
        return Decision(status="failed_invalid", provider=self.name, error=error, reasoning=error, attempts=1)

    def _env(self, ctx: DecisionContext, features: dict[str, dict[str, float]]) -> _Env:
        summary = summarize(features, [c for c in features if c in ctx.market.assets])
        regime, why = classify_regime(summary)
        universe = sorted(
            c
            for c, f in features.items()
            if _is_perp(ctx.market, c) and _allowed(ctx, c) and "vol_90d" in f and "return_90d" in f
        )
        scores = {c: weighted_score(features[c], ctx.score_weights) for c in universe}
        holdings: dict[str, float] = {}
        free, locked = 1.0, 0.0
        try:
            w = ctx.state.weights(ctx.market)
            equity = ctx.state.equity(ctx.market)
        except KeyError:  # a held coin without a mid: leave holdings unknown
            w, equity = {CASH: 1.0}, 0.0
        if equity > 0:
            held = ctx.state.usdc_spot_hold
            if ctx.state.unified:  # a unified USDC hold also carries the perp margin: not cash locked by orders
                held -= sum(p.margin_used for p in ctx.state.positions.values() if p.market == "perp")
            locked = min(max(0.0, held) / equity, max(0.0, w.get(CASH, 0.0)), 1.0)
            holdings = {c: x for c, x in w.items() if c != CASH and abs(x) > 1e-9}
            # cash is what is left (1 − Σ|w|): a HIP-3 dex's own collateral is equity beside the USDC pools
            free = max(0.0, 1.0 - sum(abs(x) for x in holdings.values()) - locked)
        return _Env(ctx, summary, regime, why, universe, scores, holdings, free, locked)

    def _allocate(self, sid: str, env: _Env, caps: StrategyCaps) -> tuple[dict[str, float], list[str]]:
        """Raw target for ``sid`` (before clamping) and notes on how it was computed."""
        feats = env.ctx.features
        if sid == "risk-off":
            return {CASH: 1.0}, ["All positions to USDC."]
        if sid == "fixed-targets":
            assert env.ctx.current_targets is not None
            return {c: float(w) for c, w in env.ctx.current_targets.items()}, ["Configured targets, unchanged."]
        if sid == "equal-weight":
            top = env.ctx.top_percentile
            w = allocators.equal_weight(env.scores, top, caps.max_position, cash=0.10)
            return w, [
                f"Top {top:.0%} of {len(env.scores)} coins by score, equal weights capped at "
                f"{caps.max_position:.1%}, 10% reserve."
            ]
        if sid == "score-weighted":
            top = env.ctx.top_percentile
            w = allocators.score_weighted(env.scores, top, caps.max_position, budget=0.60)
            return w, [f"Top {top:.0%} of positive scores, weight ∝ score, 60% invested."]
        if sid == "balanced-growth":
            core = allocators.inverse_volatility(
                {c: feats[c]["vol_90d"] for c in ("BTC", "ETH")}, 0.50, caps.max_position
            )
            sats = allocators.score_weighted(
                {c: s for c, s in env.scores.items() if c not in ("BTC", "ETH")}, 0.5, SATELLITE_MAX, 0.20
            )
            merged = {c: x for c, x in core.items() if c != CASH}
            merged.update({c: x for c, x in sats.items() if c != CASH})
            note = ", ".join(f"{c} score {env.scores[c]:+.2f}" for c in sorted(merged) if c not in ("BTC", "ETH"))
            return merged, [
                f"Core BTC/ETH 50% by inverse 90d vol; satellites up to 20% by score, at most "
                f"{SATELLITE_MAX:.0%} each ({note or 'none'})."
            ]
        if sid == "risk-parity":
            return self._risk_parity(env, caps)
        if sid == "trend-following":
            closes = dict(env.ctx.closes) if env.ctx.closes is not None else self._load_closes() or {}
            t = trend.target(closes, [c for c in env.universe if c in closes], vol_target=self.vol_target)
            return dict(t.weights), t.notes()
        if sid == "cash-reserve":
            res = allocators.cash_reserve_plan(
                {**env.holdings, CASH: env.free_cash},
                env.scores,
                locked_cash=env.locked_cash,
                max_position=min(caps.max_position, 0.30),
            )
            steps = "; ".join(f"{s.coin} {s.delta:+.2%} ({s.reason})" for s in res.steps) or "no change"
            return res.weights, [
                f"Cash-reserve bands, free cash {res.free_cash_before:.1%} -> {res.free_cash_after:.1%}: {steps}."
            ]
        if sid == "funding-harvest":
            return self._funding(env, caps)
        raise AssertionError(sid)  # pragma: no cover

    def _risk_parity(self, env: _Env, caps: StrategyCaps) -> tuple[dict[str, float], list[str]]:
        feats = env.ctx.features
        coins = sorted(env.universe, key=lambda c: (feats[c]["vol_90d"], c))[:RISK_PARITY_MAX_COINS]
        closes = dict(env.ctx.closes) if env.ctx.closes is not None else self._load_closes()
        if closes is not None and all(c in closes and len(closes[c]) >= 31 for c in coins):
            names, cov = covariance_matrix(closes, 90, coins)
            w = allocators.equal_risk_contribution(cov, 0.50, names, caps.max_position)
            return w, [
                f"Equal risk contribution over {len(names)} coins from 90d daily log-return covariance, 50% invested."
            ]
        w = allocators.inverse_volatility({c: feats[c]["vol_90d"] for c in coins}, 0.50, caps.max_position)
        return w, [f"Inverse 90d volatility over {len(coins)} coins (no price history for a covariance), 50% invested."]

    def _funding(self, env: _Env, caps: StrategyCaps) -> tuple[dict[str, float], list[str]]:
        market = env.ctx.market
        rich = [r for r in env.summary.rich_funding if _is_perp(market, r.coin) and _allowed(env.ctx, r.coin)]
        rich = rich[:FUNDING_MAX_COINS]
        legs: list[tuple[str, str | None]] = []
        for r in rich:
            hedge = _spot_hedge(market, r.coin)
            legs.append((r.coin, hedge if hedge is not None and _allowed(env.ctx, hedge) else None))
        per = {c: (caps.max_position if h else min(caps.max_position, UNHEDGED_SHORT_MAX)) for c, h in legs}
        gross = sum(per[c] * (2 if h else 1) for c, h in legs)
        room = min(caps.max_leverage, 1.0) - CASH_MIN  # keep 20 % USDC as margin
        scale = min(1.0, room / gross) if gross > 0 else 0.0
        weights: dict[str, float] = {}
        notes = []
        for c, h in legs:
            size = per[c] * scale
            weights[c] = -size
            if h:
                weights[h] = size
                notes.append(f"{c}: short perp {size:.1%}, hedged long spot {h} {size:.1%}")
            else:
                notes.append(f"{c}: short perp {size:.1%} unhedged (no spot market for {c} on the exchange)")
        return weights, ["Funding harvest: " + "; ".join(notes) + "."]

    def _load_closes(self) -> dict[str, np.ndarray] | None:
        if self._closes is None:
            try:
                self._closes = load_daily_closes(self._history_dir)
            except ValidationError:  # no history is a normal condition: inverse volatility instead
                self._closes = {}
        return self._closes
