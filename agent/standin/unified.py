"""Unified-account and portfolio-margin balances: one USDC balance, reported in spot.

Hyperliquid docs, "Account abstraction modes": "for API users, unified account and portfolio margin shows
all balances and holds in the spot clearinghouse state. Individual perp dex user states are not meaningful."

The stand-in keeps its two ledgers (the spot token balances and the perp ``raw_usd``) and pools them in
what it reports and checks:

- spot USDC ``total`` = the spot USDC ledger + the perp cash (``raw_usd`` + Σ szi·entryPx: deposits,
  realised PnL, fees, funding; unrealised PnL is not in it);
- spot USDC ``hold`` = what resting spot buys lock + the margin used by perp positions and resting perp
  orders (assumed: a recorded unified answer shows ``hold`` = ``total`` with positions open);
- orders of either kind may spend the free collateral, equity − margin used with equity = the USDC
  ``total`` + unrealised PnL (a peer that checked a live unified account; not in the official docs),
  capped by ``total − hold``: with losing positions that is less than ``total − hold``;
- each perp dex's ``clearinghouseState`` lists the positions as usual, with ``accountValue`` = margin used
  + unrealised PnL and ``withdrawable`` 0 (an assumed shape, "not meaningful": nothing should add it).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from agent.standin import accounting
from agent.standin.rules import ZERO

if TYPE_CHECKING:
    from agent.standin.engine import StandIn


def perp_cash(ex: StandIn) -> Decimal:
    """The perp ledger's cash: raw USD plus the entry notional of every position (no unrealised PnL)."""
    raw = ex.account.raw_usd + sum(ex.account.dex_raw_usd.values(), ZERO)
    return raw + sum((p.szi * p.entry_px for p in ex.account.positions.values()), ZERO)


def margin_used(ex: StandIn) -> Decimal:
    return sum((accounting.margin_used(p, ex.mark(p.coin)) for p in ex.account.positions.values()), ZERO)


def usdc_total(ex: StandIn) -> Decimal:
    bal = ex.account.balances.get(0)
    return (bal.total if bal else ZERO) + perp_cash(ex)


def usdc_hold(ex: StandIn) -> Decimal:
    bal = ex.account.balances.get(0)
    return (bal.hold if bal else ZERO) + margin_used(ex) + ex.order_margin()


def unrealized_pnl(ex: StandIn) -> Decimal:
    return sum((p.szi * (ex.mark(p.coin) - p.entry_px) for p in ex.account.positions.values()), ZERO)


def usdc_available(ex: StandIn) -> Decimal:
    """What a new order (spot buy or perp open) may spend: equity − margin used (and what orders lock),
    never more than ``total − hold``."""
    free = usdc_total(ex) - usdc_hold(ex)
    return max(ZERO, min(free, free + unrealized_pnl(ex)))


def seed(ex: StandIn) -> None:
    """Turn a unified snapshot (all USDC in spot, holds included) into the two ledgers.

    The snapshot's USDC ``total`` is the whole balance: the perp ledger starts with no cash of its own
    (``raw_usd`` = −Σ szi·entryPx) and the spot ledger's hold keeps only what resting spot buys lock.
    """
    acct = ex.account
    acct.raw_usd = -sum((p.szi * p.entry_px for p in acct.positions.values() if ":" not in p.coin), ZERO)
    for dex in acct.dex_raw_usd:
        mine = (p for c, p in acct.positions.items() if c.startswith(dex + ":"))
        acct.dex_raw_usd[dex] = -sum((p.szi * p.entry_px for p in mine), ZERO)
    bal = acct.balances.get(0)
    if bal is not None:
        bal.hold = sum(
            (o.locked for o in acct.orders.values() if o.status == "open" and o.is_buy and o.locked > ZERO), ZERO
        )
