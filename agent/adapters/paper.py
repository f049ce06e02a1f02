"""A paper exchange: real market data from any exchange (or a fixed :class:`Market`), simulated fills.

An IOC order walks the asset's L2 book up to its limit (the book is read fresh for every order, so
paper orders never deplete it); without a book it fills in full at its limit when the limit is on the
right side of the mid, else it is rejected like an IOC that could not match. Taker fees are charged
as Hyperliquid does (``CostModel`` rates): perps in USDC, spot buys in the base token, spot sells in
USDC. Balances and positions are the paper account's own, seeded from the source's account (or a
given ``PortfolioState``). Perp margin is modelled at 1x unless the seeded position says otherwise.
The account keeps its mode: on a unified or portfolio-margin account one USDC balance (reported in spot,
perp margin on hold) pays for spot buys and perp margin alike, as on Hyperliquid.
Rejections follow the exchange's rules: $10 minimum (except a reduce-only close), spot balance,
perp margin (withdrawable), reduce-only that would increase.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Protocol

from agent.core.costs import CostModel
from agent.core.domain import Market, MarketInfo, PortfolioState, Position
from agent.core.errors import ExchangeError
from agent.core.orders import Fill, OpenOrder, OrderIntent, OrderResult
from agent.core.rules import MIN_ORDER_VALUE

_EPS = 1e-12


@dataclass
class _Perp:
    szi: float
    entry_px: float
    leverage: float = 1.0


class Source(Protocol):
    """Where the paper exchange reads the market (and, once, the starting account)."""

    def account_state(self) -> PortfolioState: ...

    def market(self, books: Collection[str] | None = None, *, with_ctxs: bool = False) -> Market: ...


class PaperExchange:
    """``PaperExchange(source, state=None)``: the Exchange port with simulated execution."""

    order_ttl_s: float | None = None
    supports_schedule_cancel = False

    def __init__(
        self,
        source: Source | Market,
        state: PortfolioState | None = None,
        *,
        costs: CostModel | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.source = source
        self.costs = costs or CostModel()
        self._clock = clock
        self._lock = threading.RLock()
        if state is None:
            if isinstance(source, Market):
                raise ExchangeError("paper exchange on a fixed market needs a starting PortfolioState")
            state = source.account_state()
        market = self.market()
        self.user = state.user or "paper"
        self.usdc = state.usdc_spot_total
        self.spot: dict[str, float] = {}
        self.perps: dict[str, _Perp] = {}
        for coin, p in state.positions.items():
            if p.market == "spot":
                self.spot[coin] = p.size
            else:
                self.perps[coin] = _Perp(p.size, p.entry_px or market.mid(coin), p.leverage or 1.0)
        self.abstraction = state.abstraction
        if state.unified:  # all USDC is in spot: the perp ledger holds no cash of its own
            self.raw_usd = -sum(p.szi * p.entry_px for p in self.perps.values())
        else:
            self.raw_usd = state.perp_account_value - sum(p.szi * market.mid(c) for c, p in self.perps.items())
        self.orders: dict[str, OrderResult] = {}
        self.fills: list[Fill] = []
        self._oids = itertools.count(1)

    def __repr__(self) -> str:
        return f"PaperExchange(source={type(self.source).__name__}, usdc={self.usdc:.2f})"

    def use_dexes(self, dexes: Collection[str]) -> None:
        """Read these HIP-3 dexes from the source too (when it can)."""
        use = getattr(self.source, "use_dexes", None)
        if use is not None:
            use(dexes)

    # ------------------------------------------------------------------ reads
    def server_time_ms(self, *, fresh: bool = False) -> int:
        """The source exchange's clock where it has one (real market data), else the local clock."""
        read = getattr(self.source, "server_time_ms", None)
        return int(read(fresh=fresh)) if read is not None else int(self._clock() * 1000)

    @property
    def clock_offset_s(self) -> float | None:
        offset = getattr(self.source, "clock_offset_s", None)
        return offset if isinstance(offset, float) else None

    def market(self, books: Collection[str] | None = None, *, with_ctxs: bool = False) -> Market:
        if isinstance(self.source, Market):
            return self.source
        return self.source.market(books, with_ctxs=with_ctxs) if with_ctxs else self.source.market(books)

    def account_state(self) -> PortfolioState:
        with self._lock:
            market = self.market()
            value = self.raw_usd + sum(p.szi * market.mid(c) for c, p in self.perps.items())
            positions: dict[str, Position] = {
                c: Position(
                    coin=c,
                    market="perp",
                    size=p.szi,
                    entry_px=p.entry_px,
                    leverage=p.leverage,
                    margin_used=abs(p.szi) * market.mid(c) / p.leverage,
                    unrealized_pnl=p.szi * (market.mid(c) - p.entry_px),
                )
                for c, p in self.perps.items()
                if abs(p.szi) > _EPS
            }
            positions.update({c: Position(coin=c, market="spot", size=s) for c, s in self.spot.items() if s > _EPS})
            if self.abstraction in ("unifiedAccount", "portfolioMargin"):
                margin = self._margin(market)
                upnl = sum(p.unrealized_pnl for p in positions.values() if p.market == "perp")
                return PortfolioState(
                    user=self.user,
                    abstraction=self.abstraction,
                    perp_account_value=margin + upnl,
                    perp_withdrawable=0.0,
                    usdc_spot_total=max(0.0, self._unified_usdc()),
                    usdc_spot_hold=min(max(0.0, self._unified_usdc()), margin),
                    positions=positions,
                )
            return PortfolioState(
                user=self.user,
                abstraction=self.abstraction,
                perp_account_value=value,
                perp_withdrawable=max(0.0, value - self._margin(market)),
                usdc_spot_total=max(0.0, self.usdc),
                positions=positions,
            )

    def _unified(self) -> bool:
        return self.abstraction in ("unifiedAccount", "portfolioMargin")

    def _unified_usdc(self) -> float:
        """Spot USDC plus the perp ledger's cash (no unrealised PnL): the unified USDC balance."""
        return self.usdc + self.raw_usd + sum(p.szi * p.entry_px for p in self.perps.values())

    def _margin(self, market: Market) -> float:
        return sum(abs(p.szi) * market.mid(c) / p.leverage for c, p in self.perps.items())

    def order_status(self, cloid: str) -> OrderResult | None:
        return self.orders.get(cloid.lower())

    def fills_since(self, ms: int, end_ms: int | None = None) -> list[Fill]:
        return [f for f in self.fills if f.time >= ms and (end_ms is None or f.time <= end_ms)]

    def open_orders(self) -> list[OpenOrder]:
        return []  # every paper order is immediate-or-cancel: nothing rests

    def cancel(self, coin: str, oid: int) -> bool:
        return False

    def cancel_by_cloid(self, coin: str, cloid: str) -> bool:
        return False

    def schedule_cancel(self, at_ms: int | None) -> bool:
        return False

    # ------------------------------------------------------------------ orders
    def place_orders(self, orders: list[OrderIntent]) -> list[OrderResult]:
        results = []
        for o in orders:
            with self._lock:
                if o.cloid in self.orders:  # the exchange refuses a duplicate cloid
                    results.append(OrderResult(cloid=o.cloid, status="rejected", error="duplicate cloid"))
                    continue
                result = self._place(o)
                self.orders[o.cloid] = result
                results.append(result)
        return results

    def _place(self, o: OrderIntent) -> OrderResult:
        market = self.market(books=[o.coin])
        info = market.get(o.coin)
        base = {"cloid": o.cloid, "requested_sz": o.size}
        if info is None:
            return OrderResult(**base, status="rejected", error=f"unknown market {o.coin}")
        oid = next(self._oids)
        size = o.size
        if info.market == "perp" and o.reduce_only:
            szi = self.perps.get(o.coin, _Perp(0.0, 0.0)).szi
            if szi == 0 or (szi > 0) == o.is_buy:
                return OrderResult(
                    **base, oid=oid, status="rejected", error="Reduce only order would increase position."
                )
            size = min(size, abs(szi))
        closes_all = info.market == "perp" and o.reduce_only and size >= abs(self.perps[o.coin].szi) - _EPS
        if size * o.limit_px < MIN_ORDER_VALUE and not closes_all:
            return OrderResult(**base, oid=oid, status="rejected", error="Order must have minimum value of $10.")
        problem = self._check_funds(o, info, size, market)
        if problem:
            return OrderResult(**base, oid=oid, status="rejected", error=problem)
        trades = self._walk(info, o.is_buy, o.limit_px, size)
        if not trades:
            return OrderResult(
                **base,
                oid=oid,
                status="rejected",
                error="Order could not immediately match against any resting orders.",
            )
        for px, sz in trades:
            self._settle(o, info, px, sz, oid)
        filled = sum(sz for _, sz in trades)
        avg = sum(px * sz for px, sz in trades) / filled
        status = "filled" if filled >= o.size - _EPS else "partial"
        return OrderResult(**base, status=status, oid=oid, filled_sz=filled, avg_px=avg)

    def _check_funds(self, o: OrderIntent, info: MarketInfo, size: float, market: Market) -> str | None:
        unified_free = 0.0
        if self._unified():  # the lower of equity − margin used (equity includes uPnL) and total − hold
            upnl = sum(p.szi * (market.mid(c) - p.entry_px) for c, p in self.perps.items())
            unified_free = self._unified_usdc() - self._margin(market) + min(0.0, upnl)
        if info.market == "spot":
            cash = unified_free if self._unified() else self.usdc
            if o.is_buy and cash < size * o.limit_px - _EPS:
                return "Insufficient spot balance"
            if not o.is_buy and self.spot.get(o.coin, 0.0) < size - _EPS:
                return "Insufficient spot balance"
            return None
        pos = self.perps.get(o.coin)
        szi = pos.szi if pos else 0.0
        new = szi + (size if o.is_buy else -size)
        increase = abs(new) - abs(szi) if (szi >= 0) == (new >= 0) else abs(new)
        if increase > _EPS:
            lev = pos.leverage if pos else 1.0
            value = self.raw_usd + sum(p.szi * market.mid(c) for c, p in self.perps.items())
            needed = increase * o.limit_px / lev + size * o.limit_px * self.costs.perp_taker_fee
            free = unified_free if self._unified() else value - self._margin(market)
            if needed > free + _EPS:
                return "Insufficient margin to place order."
        return None

    @staticmethod
    def _walk(info: MarketInfo, is_buy: bool, limit: float, size: float) -> list[tuple[float, float]]:
        book = info.book
        levels = (book.asks if is_buy else book.bids) if book is not None else ()
        if not levels:
            crosses = limit >= info.mid if is_buy else limit <= info.mid
            return [(limit, size)] if crosses else []
        out: list[tuple[float, float]] = []
        left = size
        for lv in levels:
            if left <= _EPS or (is_buy and lv.px > limit) or (not is_buy and lv.px < limit):
                break
            take = min(left, lv.sz)
            out.append((lv.px, take))
            left -= take
        return out

    def _settle(self, o: OrderIntent, info: MarketInfo, px: float, sz: float, oid: int) -> None:
        notional = px * sz
        if info.market == "spot":
            rate = self.costs.spot_taker_fee
            if o.is_buy:
                fee, token = sz * rate, info.base_token or o.coin
                self.usdc -= notional
                self.spot[o.coin] = self.spot.get(o.coin, 0.0) + sz - fee
            else:
                fee, token = notional * rate, "USDC"
                self.spot[o.coin] = self.spot.get(o.coin, 0.0) - sz
                self.usdc += notional - fee
        else:
            fee, token = notional * self.costs.perp_taker_fee, "USDC"
            signed = sz if o.is_buy else -sz
            pos = self.perps.get(o.coin)
            old = pos.szi if pos else 0.0
            new = old + signed
            self.raw_usd -= signed * px + fee
            if abs(new) < _EPS:
                self.perps.pop(o.coin, None)
            elif pos is None or old == 0 or (old > 0) != (new > 0):
                self.perps[o.coin] = _Perp(new, px, pos.leverage if pos else 1.0)
            else:
                if abs(new) > abs(old):
                    pos.entry_px = (abs(old) * pos.entry_px + sz * px) / abs(new)
                pos.szi = new
        self.fills.append(
            Fill(
                coin=info.wire_name,
                px=px,
                sz=sz,
                side="B" if o.is_buy else "A",
                time=int(self._clock() * 1000),
                fee=fee,
                fee_token=token,
                oid=oid,
                tid=f"paper-{uuid.uuid4().hex}",
                cloid=o.cloid,
            )
        )
