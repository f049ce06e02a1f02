"""Perp margin arithmetic: account value, margin, withdrawable, liquidation price, cross and isolated.

The account keeps one USDC ledger per dex, ``raw_usd`` (Hyperliquid's ``totalRawUsd``): buying ``sz`` at
``px`` debits ``sz*px`` plus the fee, selling credits ``sz*px`` minus the fee. Then
``accountValue = raw_usd + sum(szi * markPx)``, which makes realized and unrealized PnL fall out of the
same identity.

An isolated position is ring-fenced (docs, "Margining": isolated margin is allocated to one position and
does not share the cross balance): it carries its own margin, ``isolated_margin`` (notional at entry /
leverage, moved out of the cross balance when it opens or grows, released pro rata when it shrinks), and
its equity is that margin plus its unrealized PnL. Its ``rawUsd`` is ``isolated_margin − szi·entryPx``
(so that equity = rawUsd + szi·markPx). The cross account is what is left: cross value = account value
− the isolated positions' equity; withdrawable = cross value − cross margin used − resting order margin.
An isolated position is liquidated on its own margin: when its equity falls to its maintenance margin.
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
    """One dex's figures: ``account_value``, ``total_*`` over every position (``marginSummary``), the
    ``cross_*`` over the cross ones (``crossMarginSummary``); ``maintenance_margin`` is the cross one."""

    account_value: Decimal
    total_ntl_pos: Decimal
    total_margin_used: Decimal
    maintenance_margin: Decimal
    order_margin: Decimal
    cross_value: Decimal
    cross_ntl_pos: Decimal
    cross_margin_used: Decimal
    isolated_raw_usd: Decimal = ZERO

    @property
    def withdrawable(self) -> Decimal:
        return max(ZERO, self.cross_value - self.cross_margin_used - self.order_margin)


def position_value(pos: Position, mark: Decimal) -> Decimal:
    return abs(pos.szi) * mark


def isolated(pos: Position) -> bool:
    return pos.leverage_type == "isolated"


def isolated_equity(pos: Position, mark: Decimal) -> Decimal:
    """An isolated position's own margin plus its unrealized PnL."""
    return pos.isolated_margin + pos.szi * (mark - pos.entry_px)


def isolated_raw_usd(pos: Position) -> Decimal:
    return pos.isolated_margin - pos.szi * pos.entry_px


def margin_used(pos: Position, mark: Decimal) -> Decimal:
    """Cross: notional at mark / leverage. Isolated: the position's equity (its margin and uPnL)."""
    if isolated(pos):
        return max(ZERO, isolated_equity(pos, mark))
    return position_value(pos, mark) / Decimal(pos.leverage)


def opening_margin(sz: Decimal, px: Decimal, leverage: int) -> Decimal:
    return sz * px / Decimal(leverage)


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
    """One perp dex's margin summary: its own ledger and positions (each dex is its own cross account,
    each isolated position its own margin)."""
    value = raw_usd(account, dex)
    ntl = used = maint = cross_ntl = cross_used = iso_equity = iso_raw = ZERO
    for pos in account.positions.values():
        if dex_of(pos.coin) != dex:
            continue
        mark = marks[pos.coin]
        value += pos.szi * mark
        ntl += position_value(pos, mark)
        used += margin_used(pos, mark)
        if isolated(pos):
            iso_equity += isolated_equity(pos, mark)
            iso_raw += isolated_raw_usd(pos)
            continue
        cross_ntl += position_value(pos, mark)
        cross_used += margin_used(pos, mark)
        maint += position_value(pos, mark) * maintenance_rate(max_leverage[pos.coin])
    return PerpSummary(value, ntl, used, maint, order_margin, value - iso_equity, cross_ntl, cross_used, iso_raw)


def liquidation_px(pos: Position, summary: PerpSummary, mark: Decimal, max_leverage: int) -> Decimal | None:
    """Liquidation price; None when there is no positive one.

    Isolated: on its own margin, solving margin + szi·(p − entry) = |szi|·p·mmr. Cross (rough): other
    cross positions held at their marks, solving crossValue(p) = maintenance(p).
    """
    mmr = maintenance_rate(max_leverage)
    denom = pos.szi - abs(pos.szi) * mmr
    if denom == ZERO:
        return None
    if isolated(pos):
        px = (pos.szi * pos.entry_px - pos.isolated_margin) / denom
        return px if px > ZERO else None
    other_maint = summary.maintenance_margin - position_value(pos, mark) * mmr
    px = (other_maint - summary.cross_value + pos.szi * mark) / denom
    return px if px > ZERO else None


def isolated_liquidated(pos: Position, mark: Decimal, max_leverage: int) -> bool:
    """An isolated position whose equity has fallen to its maintenance margin."""
    return isolated(pos) and isolated_equity(pos, mark) <= position_value(pos, mark) * maintenance_rate(max_leverage)
