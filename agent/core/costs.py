"""Trading cost model: fees by market type plus slippage from walking the L2 book.

Fees (Hyperliquid base tier, taker, since our orders are IOC): perps 4.5 bp, spot 7 bp.
Slippage: when the market carries a book, walk it for the order's size and charge
|avg fill − mid| × size; otherwise a configurable fallback in basis points of notional.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.core.domain import L2Book, MarketType


@dataclass(frozen=True, kw_only=True)
class CostModel:
    """Cost parameters, e.g. ``CostModel(perp_taker_fee=0.00045, fallback_slippage_bps=5)``."""

    perp_taker_fee: float = 0.00045
    spot_taker_fee: float = 0.0007
    fallback_slippage_bps: float = 5.0

    def fee_rate(self, market: MarketType) -> float:
        return self.perp_taker_fee if market == "perp" else self.spot_taker_fee

    def slippage_usd(self, book: L2Book | None, mid: float, size: float, is_buy: bool, limit_px: float) -> float:
        """Expected cost against the mid of taking ``size`` now.

        Levels beyond the IOC limit would not fill; the unfilled rest is priced at the limit, which
        is the worst the order can do (a conservative estimate).
        """
        if size <= 0:
            return 0.0
        if book is None or not (book.asks if is_buy else book.bids):
            return size * mid * self.fallback_slippage_bps / 10_000
        levels = book.asks if is_buy else book.bids
        remaining, cost = size, 0.0
        for level in levels:
            if (is_buy and level.px > limit_px) or (not is_buy and level.px < limit_px):
                break
            take = min(remaining, level.sz)
            cost += take * abs(level.px - mid)
            remaining -= take
            if remaining <= 0:
                break
        if remaining > 0:
            cost += remaining * abs(limit_px - mid)
        return cost
