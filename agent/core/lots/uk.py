"""UK matching: per asset and day, the same day, then the next 30 days (earliest first), then the section 104 pool."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from agent.core.errors import LotError
from agent.core.lots.book import TOL, Acquisition, Book, Event, Lot, Match, Term


@dataclass
class _Day:
    quantity: float = 0.0
    usd: float = 0.0  # cost (acquisitions) or proceeds (disposals)
    left: float = 0.0
    first: datetime | None = None
    ids: list[str] = field(default_factory=list)

    def add(self, q: float, usd: float, t: datetime, id_: str) -> None:
        self.quantity += q
        self.usd += usd
        self.left += q
        self.first = t if self.first is None or t < self.first else self.first
        self.ids.append(id_)


def run_uk(events: Iterable[Event]) -> Book:
    """HMRC's matching rules per asset; the pool is one open lot per asset (id ``s104:<asset>``)."""
    book = Book()
    by_asset: dict[str, list[Event]] = defaultdict(list)
    for e in events:
        by_asset[e.asset].append(e)
    for asset, evs in sorted(by_asset.items()):
        buys: dict[date, _Day] = defaultdict(_Day)
        sells: dict[date, _Day] = defaultdict(_Day)
        for e in evs:
            if isinstance(e, Acquisition):
                buys[e.time.date()].add(e.quantity, e.cost_usd, e.time, e.id)
            else:
                sells[e.time.date()].add(e.quantity, e.proceeds_usd, e.time, e.id)

        def match(day: date, s: _Day, b: _Day, q: float, term: Term, lot_id: str, asset: str = asset) -> None:
            assert s.first is not None and b.first is not None
            book.matches.append(
                Match(
                    disposal_id=f"{asset}:{day.isoformat()}",
                    lot_id=lot_id,
                    asset=asset,
                    acquired=b.first,
                    sold=s.first,
                    quantity=q,
                    proceeds_usd=s.usd * q / s.quantity,
                    cost_usd=b.usd * q / b.quantity,
                    term=term,
                )
            )
            s.left -= q
            b.left -= q

        for day in sorted(sells):  # 1. same day
            same = buys.get(day)
            if same is not None and same.left > 0:
                match(
                    day,
                    sells[day],
                    same,
                    min(sells[day].left, same.left),
                    "same-day",
                    f"same-day:{asset}:{day.isoformat()}",
                )
        for day in sorted(sells):  # 2. the next 30 days, earliest first
            s = sells[day]
            for later in sorted(d for d in buys if day < d <= day + timedelta(days=30)):
                if s.left <= TOL * s.quantity:
                    break
                b = buys[later]
                if b.left > 0:
                    match(day, s, b, min(s.left, b.left), "30-day", f"30-day:{asset}:{later.isoformat()}")
        pool_q = pool_cost = 0.0  # 3. the section 104 pool, in time order
        first: datetime | None = None
        for day in sorted(set(buys) | set(sells)):
            bought = buys.get(day)
            if bought is not None and bought.left > TOL * bought.quantity:
                pool_cost += bought.usd * bought.left / bought.quantity
                pool_q += bought.left
                first = first or bought.first
                bought.left = 0.0
            sold = sells.get(day)
            if sold is not None and sold.left > TOL * sold.quantity:
                s = sold
                if s.left > pool_q * (1 + TOL) + 1e-12:
                    raise LotError(f"selling {s.left:g} {asset} on {day} but the pool holds {pool_q:g}")
                q = min(s.left, pool_q)
                assert s.first is not None
                cost = pool_cost * q / pool_q
                book.matches.append(
                    Match(
                        f"{asset}:{day.isoformat()}",
                        f"s104:{asset}",
                        asset,
                        first or s.first,
                        s.first,
                        q,
                        s.usd * q / s.quantity,
                        cost,
                        "pool",
                    )
                )
                pool_q -= q
                pool_cost -= cost
                s.left = 0.0
        if pool_q > TOL:
            assert first is not None
            book.lots[asset].append(Lot(f"s104:{asset}", asset, first, pool_q, pool_cost, pool_q, "pool"))
    return book
