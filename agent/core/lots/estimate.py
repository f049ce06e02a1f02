"""What a sale would realise (without changing the book), totals per term, and the German yearly limit."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from agent.core.errors import LotError
from agent.core.lots.book import TOL, Book, Disposal, Jurisdiction, Match, Method
from agent.core.lots.matching import consume, pick


@dataclass(frozen=True)
class SaleEstimate:
    """What selling ``quantity`` at ``price`` now would consume and realise."""

    asset: str
    quantity: float
    proceeds_usd: float
    matches: tuple[Match, ...]

    @property
    def gain_usd(self) -> float:
        return sum(m.gain_usd for m in self.matches)

    def by_term(self) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for m in self.matches:
            out[m.term] += m.gain_usd
        return dict(out)

    @property
    def picks(self) -> tuple[tuple[str, float], ...]:
        return tuple((m.lot_id, m.quantity) for m in self.matches)


def estimate_sale(
    book: Book,
    asset: str,
    quantity: float,
    proceeds_usd: float,
    *,
    now: datetime,
    method: Method,
    jurisdiction: Jurisdiction,
    long_term_preference: bool = False,
) -> SaleEstimate:
    """The lots a sale would consume and its gain, without changing ``book``."""
    if jurisdiction == "uk":
        lots = book.open_lots(asset)
        pool = lots[0] if lots else None
        held = pool.remaining if pool else 0.0
        if quantity > held * (1 + TOL) + 1e-12:
            raise LotError(f"selling {quantity:g} {asset} but the pool holds {held:g}")
        cost = pool.unit_cost * quantity if pool else 0.0
        m = Match(
            "estimate",
            f"s104:{asset}",
            asset,
            pool.acquired if pool else now,
            now,
            quantity,
            proceeds_usd,
            cost,
            "pool",
        )
        return SaleEstimate(asset, quantity, proceeds_usd, (m,))
    copies = [replace(lot) for lot in book.lots.get(asset, [])]
    chosen = pick(
        copies, quantity, method if method != "spec" else "fifo", sold=now, long_term_preference=long_term_preference
    )
    scratch = Book()
    d = Disposal("estimate", asset, now, quantity, proceeds_usd)
    return SaleEstimate(asset, quantity, proceeds_usd, tuple(consume(scratch, d, chosen, jurisdiction)))


def totals(matches: Iterable[Match]) -> dict[str, float]:
    """Proceeds, cost and gain in all, and the gain per term."""
    out: dict[str, float] = defaultdict(float)
    for m in matches:
        out["proceeds_usd"] += m.proceeds_usd
        out["cost_usd"] += m.cost_usd
        out["gain_usd"] += m.gain_usd
        out[f"{m.term}_gain_usd"] += m.gain_usd
    return dict(out)  # unrounded: the report rounds what it shows


def de_taxable(taxable_gain_usd: float, exemption_limit: float) -> float:
    """German private sales: gains within a year are tax-free while their yearly total stays under the limit
    (a *Freigrenze*: at or above it, all of it is taxable)."""
    return 0.0 if taxable_gain_usd < exemption_limit else taxable_gain_usd
