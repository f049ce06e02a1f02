"""Perp cross-margin arithmetic: account value, margin, withdrawable, liquidation price.

The account keeps one USDC ledger, ``raw_usd`` (Hyperliquid's ``totalRawUsd``): buying ``sz`` at
``px`` debits ``sz*px`` plus the fee, selling credits ``sz*px`` minus the fee. Then
``accountValue = raw_usd + sum(szi * markPx)``, which makes realized and unrealized PnL fall out of the
same identity. All positions are margined as cross (isolated leverage is reported but not ring-fenced).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from agent.standin.rules import ZERO
from agent.standin.state import Account, Position, dex_of

TWO = Decimal(2)


@dataclass(frozen=True)
class PerpSummary:
    account_value: Decimal
    total_ntl_pos: Decimal
    total_margin_used: Decimal
    maintenance_margin: Decimal
    order_margin: Decimal

    @property
    def withdrawable(self) -> Decimal:
        return max(ZERO, self.account_value - self.total_margin_used - self.order_margin)


def position_value(pos: Position, mark: Decimal) -> Decimal:
    return abs(pos.szi) * mark


def margin_used(pos: Position, mark: Decimal) -> Decimal:
    return position_value(pos, mark) / Decimal(pos.leverage)


def maintenance_rate(max_leverage: int) -> Decimal:
    """Hyperliquid: maintenance margin rate = initial margin rate at max leverage / 2."""
    return Decimal(1) / (TWO * Decimal(max_leverage))


def raw_usd(account: Account, dex: str = "") -> Decimal:
    """The perp USDC ledger of one dex (the main dex's, or a HIP-3 dex's own)."""
    return account.raw_usd if not dex else account.dex_raw_usd.get(dex, ZERO)


def summarize(
    account: Account,
    marks: Mapping[str, Decimal],
    max_leverage: Mapping[str, int],
    order_margin: Decimal,
    dex: str = "",
) -> PerpSummary:
    """One perp dex's margin summary: its own ledger and positions (each dex is its own cross account)."""
    value = raw_usd(account, dex)
    ntl = used = maint = ZERO
    for pos in account.positions.values():
        if dex_of(pos.coin) != dex:
            continue
        mark = marks[pos.coin]
        value += pos.szi * mark
        ntl += position_value(pos, mark)
        used += margin_used(pos, mark)
        maint += position_value(pos, mark) * maintenance_rate(max_leverage[pos.coin])
    return PerpSummary(value, ntl, used, maint, order_margin)


def liquidation_px(pos: Position, summary: PerpSummary, mark: Decimal, max_leverage: int) -> Decimal | None:
    """Rough cross-margin liquidation price: other positions held at their marks.

    Solves accountValue(p) = maintenance(p) for this coin's price p; None when no positive solution.
    """
    mmr = maintenance_rate(max_leverage)
    other_maint = summary.maintenance_margin - position_value(pos, mark) * mmr
    denom = pos.szi - abs(pos.szi) * mmr
    if denom == ZERO:
        return None
    px = (other_maint - summary.account_value + pos.szi * mark) / denom
    return px if px > ZERO else None
