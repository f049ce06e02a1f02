"""Account modes: how Hyperliquid keeps an account's balances (the ``userAbstraction`` answer).

Hyperliquid docs, "Account abstraction modes" (hyperliquid.gitbook.io/hyperliquid-docs/trading/
account-abstraction-modes): "for API users, unified account and portfolio margin shows all balances and
holds in the spot clearinghouse state. Individual perp dex user states are not meaningful."

=================  ==========================================================================
wire value          what it means here
=================  ==========================================================================
``disabled``        standard: spot USDC and each perp dex's margin are separate pools
``default``         what an account that never chose a mode answers: standard
``dexAbstraction``  standard for spot; USDC perp margin shared by the main dex and HIP-3 dexes
                    that use USDC (being discontinued by Hyperliquid)
``unifiedAccount``  one balance per collateral token, in spot; it margins every perp dex
``portfolioMargin`` unified, plus cross-asset margining (pre-alpha): modelled as unified with
                    buying power bounded by the configured leverage; borrowing against HYPE/BTC
                    is not modelled
=================  ==========================================================================

Anything else is refused with an error that names it.
"""

from __future__ import annotations

from typing import Literal

from agent.core.errors import SnapshotError

Abstraction = Literal["disabled", "default", "dexAbstraction", "unifiedAccount", "portfolioMargin"]
ABSTRACTIONS: tuple[Abstraction, ...] = ("disabled", "default", "dexAbstraction", "unifiedAccount", "portfolioMargin")

#: what each mode is called in plans, reports and doctor.
MODE_NAMES: dict[str, str] = {
    "disabled": "standard account",
    "default": "standard account",
    "dexAbstraction": "dex-abstraction account",
    "unifiedAccount": "unified account",
    "portfolioMargin": "portfolio-margin account",
}


def parse_abstraction(raw: object, where: str = "userAbstraction") -> Abstraction:
    """The ``userAbstraction`` answer (a JSON string) → the mode; anything else is an error naming it."""
    if raw is None:
        return "disabled"
    if not isinstance(raw, str) or raw not in ABSTRACTIONS:
        raise SnapshotError(f"{where}: unknown account mode {raw!r} (expected one of {', '.join(ABSTRACTIONS)})")
    return raw


def is_unified(mode: str) -> bool:
    """Balances live in spot and margin every dex (unified account, portfolio margin)."""
    return mode in ("unifiedAccount", "portfolioMargin")


def mode_name(mode: str) -> str:
    return MODE_NAMES.get(mode, mode)
