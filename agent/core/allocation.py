"""Capital across accounts (one strategy per Hyperliquid subaccount): weights, drift, transfers.

Pure maths, no I/O. ``w`` are account weights (shares of total equity, summing to 1), ``e`` equities in USD,
``r`` daily returns per account.

- :func:`fixed_weights`: the configured weights.
- :func:`risk_parity_weights`: inverse volatility of each account's realised daily returns, so each
  account contributes about the same risk (the naive risk-parity of uncorrelated books).
- :func:`adaptive_weights`: by trailing Sharpe ratio (negative Sharpe gets nothing), the adaptive
  method; all non-positive → equal weights.
- :func:`bounded`: any weights brought into ``[min_weight, max_weight]`` per account, still summing to 1
  (water-filling: each gets the floor, the rest in proportion, capped at the ceiling).
- :func:`plan_transfers`: drift of each account's share, then master ↔ subaccount USDC moves: withdrawals
  first (never more than the account can free without closing positions), deposits after (never more
  than the withdrawals plus what the master itself can spare).

Sharpe and correlation follow :mod:`agent.core.metrics` (365 periods, risk-free 0, ddof 1), as the
single-account ``risk``/``performance`` services do.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from agent.core import metrics
from agent.core.errors import ValidationError

WEIGHT_TOLERANCE = 1e-6
TRADING_DAYS = 365  # crypto trades every day


def fixed_weights(weights: Mapping[str, float]) -> dict[str, float]:
    total = sum(weights.values())
    if not math.isclose(total, 1.0, abs_tol=0.001):
        raise ValidationError(f"allocation weights sum to {total:.4f}, not 1")
    return {k: float(v) for k, v in weights.items()}


def _stdev(xs: Sequence[float]) -> float:
    if len(xs) < 2:
        return 0.0
    mean = sum(xs) / len(xs)
    return math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1))


def sharpe(returns: Sequence[float]) -> float:
    """Annualised Sharpe ratio of daily returns (risk-free 0); 0 when there is no variance to measure."""
    sd = _stdev(returns)
    if sd <= 0:
        return 0.0
    return (sum(returns) / len(returns)) / sd * math.sqrt(TRADING_DAYS)


def risk_parity_weights(returns: Mapping[str, Sequence[float]]) -> dict[str, float]:
    """w_i ∝ 1/σ_i; an account with no measurable volatility (new, or all cash) gets the mean of the others'."""
    inv = {k: 1 / sd for k, r in returns.items() if (sd := _stdev(r)) > 0}
    if not inv:
        return {k: 1 / len(returns) for k in returns}
    fill = sum(inv.values()) / len(inv)
    raw = {k: inv.get(k, fill) for k in returns}
    total = sum(raw.values())
    return {k: v / total for k, v in raw.items()}


def adaptive_weights(returns: Mapping[str, Sequence[float]]) -> dict[str, float]:
    """w_i ∝ max(Sharpe_i, 0); equal weights when no account has a positive Sharpe ratio."""
    raw = {k: max(sharpe(r), 0.0) for k, r in returns.items()}
    total = sum(raw.values())
    if total <= 0:
        return {k: 1 / len(returns) for k in returns}
    return {k: v / total for k, v in raw.items()}


def bounded(weights: Mapping[str, float], min_weight: float = 0.0, max_weight: float = 1.0) -> dict[str, float]:
    """``weights`` moved into [min_weight, max_weight] each, summing to 1 (infeasible bounds raise).

    Each account gets the floor, then the rest in proportion to its weight, capped at the ceiling (what a
    capped account cannot take goes to the others): w_i = min(max, min + λ·v_i) with λ found by bisection
    so that Σ w_i = 1. Without bounds this is the plain normalisation.
    """
    n = len(weights)
    if n == 0:
        return {}
    if n * min_weight > 1 + WEIGHT_TOLERANCE or n * max_weight < 1 - WEIGHT_TOLERANCE:
        raise ValidationError(f"allocation bounds [{min_weight}, {max_weight}] cannot hold {n} accounts summing to 1")
    v = {k: max(x, 0.0) for k, x in weights.items()}
    total = sum(v.values())
    v = {k: (x / total if total > 0 else 1 / n) + 1e-12 for k, x in v.items()}  # all positive: λ can reach any sum

    def filled(lam: float) -> dict[str, float]:
        return {k: min(max_weight, min_weight + lam * x) for k, x in v.items()}

    lo, hi = 0.0, 1.0
    while sum(filled(hi).values()) < 1 and hi < 1e15:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        if sum(filled(mid).values()) < 1:
            lo = mid
        else:
            hi = mid
    w = filled(hi)
    scale = sum(w.values())
    return {k: x / scale for k, x in w.items()}


def correlation_matrix(returns: Mapping[str, Sequence[float]]) -> dict[str, dict[str, float | None]]:
    """Pearson correlation of each pair of accounts' daily returns over their common (latest) days
    (:func:`agent.core.metrics.correlation`, the one the single-account risk monitor uses); None where an
    account has too few days or no variance to say."""
    names = list(returns)
    n = min((len(r) for r in returns.values()), default=0)
    if n < 3:
        return {a: {b: (1.0 if a == b else None) for b in names} for a in names}
    columns = np.column_stack([np.asarray(list(returns[k])[-n:], dtype=float) for k in names])
    live = columns.std(axis=0, ddof=1) > 0
    c = metrics.correlation(columns)
    return {
        a: {
            b: (1.0 if i == j else (float(np.clip(c[i, j], -1, 1)) if live[i] and live[j] else None))
            for j, b in enumerate(names)
        }
        for i, a in enumerate(names)
    }


@dataclass(frozen=True)
class Transfer:
    """One ``subAccountTransfer``: USDC between the master and a subaccount (``deposit``: into the sub)."""

    account: str  # the subaccount's name
    sub_account_user: str
    is_deposit: bool
    usd: float

    @property
    def usd_micro(self) -> int:
        """The wire amount: USD × 1e6, an integer (the SDK's ``usd`` argument)."""
        return round(self.usd * 1_000_000)


@dataclass(frozen=True)
class AccountBook:
    """One account as the allocation sees it."""

    name: str
    address: str
    equity: float
    freeable: float  # USDC it can give up without closing a position (perp ``withdrawable``)
    is_master: bool = False


@dataclass
class AllocationPlan:
    total_equity: float
    shares: dict[str, float]
    targets: dict[str, float]
    drift: dict[str, float]
    portfolio_drift: float
    rebalance_needed: bool
    reason: str
    transfers: list[Transfer] = field(default_factory=list)
    shortfalls: dict[str, float] = field(default_factory=dict)  # USD an account could not free


def plan_transfers(
    books: Sequence[AccountBook],
    targets: Mapping[str, float],
    *,
    threshold: float = 0.05,
    min_transfer_usd: float = 10.0,
) -> AllocationPlan:
    """Transfers that move each account's share toward its target.

    Needed when any account's share is ``threshold`` or more off its target. Every move goes through the
    master (Hyperliquid moves USDC master ↔ subaccount only). Withdrawals come first, each capped by what
    that account can free; the master's own surplus (capped by what it can free) joins them; deposits
    share that pool, largest deficit first. Amounts are floored to the cent; moves under
    ``min_transfer_usd`` are dropped. ``shortfalls`` names accounts whose surplus is locked in positions:
    their own plan must raise the cash first.
    """
    names = [b.name for b in books]
    if set(names) != set(targets):
        raise ValidationError("allocation targets must name exactly the configured accounts")
    total = sum(max(b.equity, 0.0) for b in books)
    shares = {b.name: (max(b.equity, 0.0) / total if total > 0 else 0.0) for b in books}
    drift = {n: shares[n] - targets[n] for n in names}
    portfolio_drift = 0.5 * sum(abs(d) for d in drift.values())
    worst = max(names, key=lambda n: abs(drift[n])) if names else None
    if total <= 0 or worst is None or abs(drift[worst]) < threshold:
        why = "no equity" if total <= 0 else f"every account within {threshold:.1%} of its target share"
        return AllocationPlan(total, shares, dict(targets), drift, portfolio_drift, False, why)
    reason = f"{worst} is {drift[worst]:+.1%} off its target share (threshold {threshold:.1%})"

    def cents(x: float) -> float:
        return math.floor(max(x, 0.0) * 100) / 100

    transfers: list[Transfer] = []
    shortfalls: dict[str, float] = {}
    pool = 0.0
    for b in sorted(books, key=lambda b: drift[b.name], reverse=True):  # largest surplus first
        surplus = b.equity - targets[b.name] * total
        if surplus <= 0:
            continue
        give = cents(min(surplus, max(b.freeable, 0.0)))
        if surplus - give >= min_transfer_usd:
            shortfalls[b.name] = round(surplus - give, 2)
        if give < min_transfer_usd:
            continue
        pool += give
        if not b.is_master:
            transfers.append(Transfer(b.name, b.address, False, give))
    for b in sorted(books, key=lambda b: drift[b.name]):  # largest deficit first
        need = targets[b.name] * total - b.equity
        if need <= 0 or b.is_master:
            continue  # the master keeps what it received
        give = cents(min(need, pool))
        if give < min_transfer_usd:
            continue
        pool -= give
        transfers.append(Transfer(b.name, b.address, True, give))
    return AllocationPlan(
        total, shares, dict(targets), drift, portfolio_drift, bool(transfers), reason, transfers, shortfalls
    )
