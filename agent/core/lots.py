"""Tax lots: which acquisitions a disposal consumes, for how long each was held, and the gain it realises.

Pure: events in, lots and matches out. An **acquisition** is a quantity of an asset bought (or imported) at a
cost in USD, fees included; a **disposal** is a quantity sold for proceeds in USD, fees deducted. Events of one
account are matched on their own (US basis is tracked per wallet or account since 2025).

Lot selection (``us`` and ``de``):

- ``fifo`` oldest first, ``lifo`` newest first, ``hifo`` highest unit cost first;
- ``spec`` the lots named with the disposal (specific identification, made no later than the sale);
- ``long_term_preference`` takes lots past the long-term boundary first, each group in the method's order.

Holding period: a lot is long-term (``us``) or tax-free (``de``) when held *more than one year*: sold after the
anniversary of its acquisition date (bought 2024-03-10: sold 2025-03-10 is short, 2025-03-11 long). A lot
acquired on 29 February has its anniversary on 28 February.

UK (``uk``, no lot choice): per asset and day, disposals match acquisitions of the same day, then acquisitions of
the next 30 days (earliest first), then the section 104 pool at its average cost.

Simplifications, said once: quantities are floats compared with a relative tolerance; the DE exemption is a
yearly limit applied to the year's taxable total as a whole (:func:`de_taxable`); no currency other than USD.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Literal

from agent.core.errors import LotError

Method = Literal["fifo", "lifo", "hifo", "spec"]
Jurisdiction = Literal["none", "us", "de", "uk"]
Term = Literal["short", "long", "taxable", "exempt", "same-day", "30-day", "pool"]
METHODS: tuple[str, ...] = ("fifo", "lifo", "hifo", "spec")
JURISDICTIONS: tuple[str, ...] = ("none", "us", "de", "uk")
#: relative tolerance on quantities (float sizes from the exchange)
TOL = 1e-9


@dataclass(frozen=True)
class Acquisition:
    id: str
    asset: str
    time: datetime
    quantity: float
    cost_usd: float
    source: str = "fill"

    def __post_init__(self) -> None:
        if not self.quantity > 0:
            raise LotError(f"acquisition {self.id}: quantity must be positive, got {self.quantity}")
        if self.cost_usd < 0:
            raise LotError(f"acquisition {self.id}: cost must not be negative, got {self.cost_usd}")


@dataclass(frozen=True)
class Disposal:
    id: str
    asset: str
    time: datetime
    quantity: float
    proceeds_usd: float
    #: specific identification: (lot id, quantity) chosen no later than the sale
    picks: tuple[tuple[str, float], ...] | None = None

    def __post_init__(self) -> None:
        if not self.quantity > 0:
            raise LotError(f"disposal {self.id}: quantity must be positive, got {self.quantity}")
        if self.proceeds_usd < 0:
            raise LotError(f"disposal {self.id}: proceeds must not be negative, got {self.proceeds_usd}")


Event = Acquisition | Disposal


@dataclass
class Lot:
    """An acquisition and what is left of it."""

    id: str
    asset: str
    acquired: datetime
    quantity: float
    cost_usd: float
    remaining: float
    source: str = "fill"

    @property
    def unit_cost(self) -> float:
        return self.cost_usd / self.quantity

    @property
    def remaining_cost(self) -> float:
        return self.unit_cost * self.remaining


@dataclass(frozen=True)
class Match:
    """One disposal (or part of it) matched to one lot: the unit a tax report lists."""

    disposal_id: str
    lot_id: str
    asset: str
    acquired: datetime
    sold: datetime
    quantity: float
    proceeds_usd: float
    cost_usd: float
    term: Term

    @property
    def gain_usd(self) -> float:
        return self.proceeds_usd - self.cost_usd


@dataclass
class Book:
    """Open lots and every match, after a run of events."""

    lots: dict[str, list[Lot]] = field(default_factory=lambda: defaultdict(list))
    matches: list[Match] = field(default_factory=list)

    def open_lots(self, asset: str | None = None) -> list[Lot]:
        assets = [asset] if asset is not None else sorted(self.lots)
        return [lot for a in assets for lot in self.lots.get(a, []) if lot.remaining > 0]

    def held(self, asset: str) -> float:
        return sum(lot.remaining for lot in self.lots.get(asset, []))


# -- holding period ---------------------------------------------------------------------------------


def anniversary(d: date) -> date:
    try:
        return d.replace(year=d.year + 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year + 1, day=28)


def held_over_a_year(acquired: datetime, sold: datetime) -> bool:
    return sold.date() > anniversary(acquired.date())


def days_to_long_term(acquired: datetime, now: datetime) -> int:
    """Days until a lot bought at ``acquired`` is held more than a year (0 when it already is)."""
    first_long = anniversary(acquired.date()) + timedelta(days=1)
    return max(0, (first_long - now.date()).days)


def term_of(acquired: datetime, sold: datetime, jurisdiction: Jurisdiction) -> Term:
    long = held_over_a_year(acquired, sold)
    if jurisdiction == "de":
        return "exempt" if long else "taxable"
    return "long" if long else "short"


# -- lot choice -------------------------------------------------------------------------------------


def order_lots(lots: Iterable[Lot], method: Method, *, sold: datetime, long_term_preference: bool = False) -> list[Lot]:
    """The open lots in the order ``method`` consumes them (``spec`` keeps FIFO order as a fallback view)."""
    open_ = [lot for lot in lots if lot.remaining > 0]
    if method == "lifo":
        open_.sort(key=lambda lot: (lot.acquired, lot.id), reverse=True)
    elif method == "hifo":
        open_.sort(key=lambda lot: (-lot.unit_cost, lot.acquired, lot.id))
    else:
        open_.sort(key=lambda lot: (lot.acquired, lot.id))
    if long_term_preference:
        open_.sort(key=lambda lot: not held_over_a_year(lot.acquired, sold))  # stable: long-term lots first
    return open_


def pick(
    lots: Sequence[Lot],
    quantity: float,
    method: Method,
    *,
    sold: datetime,
    long_term_preference: bool = False,
    picks: Sequence[tuple[str, float]] | None = None,
) -> list[tuple[Lot, float]]:
    """Which lots a disposal of ``quantity`` consumes, and how much of each. Raises when they do not cover it."""
    if not quantity > 0:
        raise LotError(f"quantity must be positive, got {quantity}")
    if method == "spec" or picks is not None:
        if not picks:
            raise LotError("specific identification needs the lots to sell")
        by_id = {lot.id: lot for lot in lots}
        chosen: list[tuple[Lot, float]] = []
        for lot_id, q in picks:
            lot = by_id.get(lot_id)
            if lot is None:
                raise LotError(f"lot {lot_id} is not an open lot of this asset")
            if q <= 0 or q > lot.remaining * (1 + TOL) + 1e-12:
                raise LotError(f"lot {lot_id} holds {lot.remaining:g}, cannot sell {q:g} of it")
            chosen.append((lot, min(q, lot.remaining)))
        total = sum(q for _, q in chosen)
        if abs(total - quantity) > TOL * max(1.0, quantity):
            raise LotError(f"the chosen lots add up to {total:g}, the sale is {quantity:g}")
        return chosen
    out: list[tuple[Lot, float]] = []
    left = quantity
    for lot in order_lots(lots, method, sold=sold, long_term_preference=long_term_preference):
        if left <= TOL * max(1.0, quantity):
            break
        q = min(lot.remaining, left)
        out.append((lot, q))
        left -= q
    if left > TOL * max(1.0, quantity):
        held = sum(lot.remaining for lot in lots)
        asset = lots[0].asset if lots else "the asset"
        raise LotError(f"selling {quantity:g} {asset} but the lots hold {held:g}")
    return out


def _consume(book: Book, d: Disposal, chosen: list[tuple[Lot, float]], jurisdiction: Jurisdiction) -> list[Match]:
    out = []
    for lot, q in chosen:
        share = q / d.quantity
        out.append(
            Match(
                disposal_id=d.id,
                lot_id=lot.id,
                asset=d.asset,
                acquired=lot.acquired,
                sold=d.time,
                quantity=q,
                proceeds_usd=d.proceeds_usd * share,
                cost_usd=lot.unit_cost * q,
                term=term_of(lot.acquired, d.time, jurisdiction),
            )
        )
        lot.remaining = max(0.0, lot.remaining - q)
        if lot.remaining <= TOL * lot.quantity:
            lot.remaining = 0.0
    book.matches.extend(out)
    return out


def _sorted(events: Iterable[Event]) -> list[Event]:
    # Same instant: acquisitions first (a buy and a sell in one second: the sale may use the buy).
    return sorted(events, key=lambda e: (e.time, 0 if isinstance(e, Acquisition) else 1))


def run(
    events: Iterable[Event],
    *,
    method: Method = "fifo",
    jurisdiction: Jurisdiction = "us",
    long_term_preference: bool = False,
) -> Book:
    """Every event in time order: lots from acquisitions, matches from disposals. UK matching for ``uk``."""
    if method not in METHODS:
        raise LotError(f"unknown lot selection {method!r} (one of {', '.join(METHODS)})")
    if jurisdiction not in JURISDICTIONS:
        raise LotError(f"unknown jurisdiction {jurisdiction!r} (one of {', '.join(JURISDICTIONS)})")
    if jurisdiction == "uk":
        return run_uk(events)
    book = Book()
    for e in _sorted(events):
        if isinstance(e, Acquisition):
            book.lots[e.asset].append(Lot(e.id, e.asset, e.time, e.quantity, e.cost_usd, e.quantity, e.source))
            continue
        lots = book.lots.get(e.asset, [])
        chosen = pick(
            lots,
            e.quantity,
            "spec" if e.picks else method,
            sold=e.time,
            long_term_preference=long_term_preference,
            picks=e.picks,
        )
        _consume(book, e, chosen, jurisdiction)
    return book


# -- UK: same day, the next 30 days, the section 104 pool -------------------------------------------


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


# -- estimates and totals ---------------------------------------------------------------------------


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
    return SaleEstimate(asset, quantity, proceeds_usd, tuple(_consume(scratch, d, chosen, jurisdiction)))


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
