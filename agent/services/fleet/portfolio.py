"""One portfolio across venues: every ``[[accounts]]`` entry (Hyperliquid accounts and other venues' accounts)
seen as one, by underlying asset, and a target over the whole split into one plan per account.

- **By underlying**: a Hyperliquid spot pair counts as the coin it tracks (``UBTC/USDC`` → BTC), a perp as its
  coin (signed), a Binance pair as its base (``BTC/USD`` → BTC); cash is every account's cash.
- **Splitting a target** (weights per underlying, ``USDC`` the remainder): each account keeps its own equity
  (no money moves between venues). Each account first gets the target's weights on its own equity, in the
  instrument it already holds the asset in (else the venue's: the Hyperliquid perp or spot pair, the Binance
  pair in its quote). An asset an account cannot trade leaves its share to the accounts that can, as far as
  their cash allows; what no account can reach without moving money between venues is reported as
  ``unreachable``, never attempted.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agent.core.domain import CASH, Market, PortfolioState, RebalancingPlan, TargetAllocation
from agent.core.errors import ValidationError
from agent.strategist.holdings import underlying

if TYPE_CHECKING:
    from agent.services.app import Services

EPS = 1e-9


def underlying_of(coin: str, market: Market) -> str:
    info = market.get(coin)
    if info is None:
        return coin
    if info.market == "perp":
        return coin
    base = info.base_token or coin.split("/")[0]
    return underlying(info, market) or base


def instrument_for(asset: str, state: PortfolioState, market: Market) -> str | None:
    """The coin name an account trades ``asset`` with: the one it holds it in, else the perp, else a spot pair."""
    held = [c for c in state.positions if underlying_of(c, market) == asset]
    if held:
        return sorted(held)[0]
    if asset in market.assets:
        return asset
    pairs = sorted(c for c, i in market.assets.items() if i.market == "spot" and underlying_of(c, market) == asset)
    return pairs[0] if pairs else None


@dataclass
class AccountView:
    name: str
    venue: str
    equity: float
    state: PortfolioState
    market: Market
    values: dict[str, float] = field(default_factory=dict)  # underlying → signed USD
    cash: float = 0.0


def account_views(svc: Services) -> list[AccountView]:
    if not svc.settings.accounts:
        raise ValidationError("--all needs [[accounts]] in the config (one per account, any venue)")
    out = []
    for cfg in svc.settings.accounts:
        a = svc.for_account(cfg.name)
        state, market = a.observe()
        equity = state.equity(market)
        view = AccountView(cfg.name, cfg.venue, equity, state, market)
        for coin, w in state.weights(market).items():
            if coin == CASH:
                view.cash += w * equity
            else:
                asset = underlying_of(coin, market)
                view.values[asset] = view.values.get(asset, 0.0) + w * equity
        out.append(view)
    return out


def across(svc: Services) -> dict[str, Any]:
    """The accounts' holdings added up by underlying: value, weight of the whole, and each account's part."""
    views = account_views(svc)
    total = sum(v.equity for v in views)
    per: dict[str, dict[str, float]] = defaultdict(dict)
    for v in views:
        for asset, usd in v.values.items():
            per[asset][v.name] = usd
    cash = sum(v.cash for v in views)
    assets = [
        {
            "asset": a,
            "value_usd": round(sum(parts.values()), 2),
            "weight": sum(parts.values()) / total if total else 0.0,
            "accounts": {k: round(x, 2) for k, x in parts.items()},
        }
        for a, parts in sorted(per.items(), key=lambda kv: -abs(sum(kv[1].values())))
    ]
    return {
        "total_equity_usd": round(total, 2),
        "cash_usd": round(cash, 2),
        "cash_weight": cash / total if total else 0.0,
        "assets": assets,
        "accounts": [
            {"name": v.name, "venue": v.venue, "equity_usd": round(v.equity, 2), "cash_usd": round(v.cash, 2)}
            for v in views
        ],
    }


def split(views: list[AccountView], target: TargetAllocation) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Per-account target weights (instrument names, ``USDC`` the remainder) and what cannot be reached."""
    total = sum(v.equity for v in views)
    if total <= 0:
        raise ValidationError("the accounts hold nothing: no target can be split")
    usd: dict[str, dict[str, float]] = {v.name: {} for v in views}
    names: dict[tuple[str, str], str] = {}
    short: dict[str, float] = defaultdict(float)
    for asset, w in target.weights.items():
        for v in views:
            coin = instrument_for(asset, v.state, v.market)
            want = w * v.equity
            if coin is None or (w < 0 and v.market.assets[coin].market == "spot"):
                short[asset] += want  # this venue cannot hold it: others may take it
                continue
            names[(v.name, asset)] = coin
            usd[v.name][asset] = want
    unreachable = []
    for asset, need in short.items():
        for v in views:
            if abs(need) <= EPS or (v.name, asset) not in names:
                continue
            room = max(0.0, v.equity - sum(abs(x) for x in usd[v.name].values()))
            add = min(abs(need), room) * (1 if need > 0 else -1)
            usd[v.name][asset] += add
            need -= add
        if abs(need) > 0.01:
            unreachable.append(
                f"{asset}: ${abs(need):,.2f} of the target cannot be reached without moving money "
                "between venues (no account with room can trade it)"
            )
    out = {}
    for v in views:
        weights = {names[(v.name, a)]: x / v.equity for a, x in usd[v.name].items() if v.equity > 0}
        weights[CASH] = max(0.0, 1.0 - sum(abs(x) for x in weights.values()))
        out[v.name] = weights
    return out, unreachable


def preview_across(svc: Services, target: TargetAllocation, *, source: str = "cli") -> dict[str, Any]:
    """A target over the whole, split per account; one preview (plan, token) per account that has work."""
    views = account_views(svc)
    targets, unreachable = split(views, target)
    plans: dict[str, RebalancingPlan] = {}
    for v in views:
        t = TargetAllocation(
            allocations=targets[v.name],
            strategy_id=target.strategy_id,
            reasoning=f"share of a portfolio-wide target ({v.venue})",
        )
        plans[v.name] = svc.for_account(v.name).preview(t, source=source, state=v.state, market=v.market)
    return {"targets": targets, "unreachable": unreachable, "plans": plans}
