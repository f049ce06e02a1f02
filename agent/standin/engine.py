"""``StandIn``: the in-memory exchange (one account, a frozen market, consumable books).

Built from a snapshot (see :mod:`agent.standin.snapshot` for accepted shapes). Every public method
takes the single lock, so the HTTP server may call it from many threads. Order execution lives in
:mod:`agent.standin.orders`, response shapes in :mod:`agent.standin.views`.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from agent.standin import accounting, orders, subaccounts, twap, unified, views
from agent.standin import clock as market_clock
from agent.standin.accounting import PerpSummary, summarize
from agent.standin.dexes import Dex, parse_dexes
from agent.standin.rules import ZERO, dec
from agent.standin.snapshot import (
    DEFAULT_LEVERAGE,
    EMPTY_SPOT_META,
    parse_all_mids,
    parse_candles,
    parse_clearinghouse_state,
    parse_fills,
    parse_funding,
    parse_l2_book,
    parse_meta,
    parse_open_orders,
    parse_spot_clearinghouse_state,
    parse_spot_meta,
)
from agent.standin.state import Account, Book, Market, OrderRecord, Token

SCHEDULE_CANCEL_MIN_DELAY_MS = 5_000
AGENT_VALIDITY_MS = 180 * 86_400_000  # an API wallet approved without valid_until: 180 days
ABSTRACTIONS = ("disabled", "default", "dexAbstraction", "unifiedAccount", "portfolioMargin")


@dataclass(frozen=True)
class Fees:
    """Base-tier fee rates (Hyperliquid docs, "Fees")."""

    perp_taker: Decimal = Decimal("0.00045")
    perp_maker: Decimal = Decimal("0.00015")
    spot_taker: Decimal = Decimal("0.0007")
    spot_maker: Decimal = Decimal("0.0004")


class StandIn:
    """A faithful-enough local Hyperliquid for one account. Build it with :meth:`from_snapshot`."""

    def __init__(
        self,
        *,
        snapshot: Mapping[str, Any],
        markets: list[Market],
        tokens: dict[int, Token],
        account: Account,
        books: dict[str, Book],
        mids: dict[str, Decimal],
        marks: dict[str, Decimal],
        approved_agents: Iterable[str],
        fees: Fees,
        clock: Callable[[], float],
    ) -> None:
        self.lock = threading.RLock()
        self.snapshot = snapshot
        self.markets_by_asset = {m.asset: m for m in markets}
        self.markets_by_coin = {m.coin: m for m in markets}
        for m in markets:
            if m.spot and m.display:
                self.markets_by_coin.setdefault(m.display, m)
        self.tokens = tokens
        self.account = account
        self.books = books
        self.mids = mids
        self.marks = marks
        #: approved API wallets: address → (name, validUntil ms); a snapshot's are named agent0, agent1 …
        self.agents: dict[str, tuple[str, int]] = {}
        #: L1 signatures are checked for this chain only (testnet-style "b" by default, mainnet "a" with
        #: ``exchange serve --mainnet-signatures``), and user-signed actions must name it in ``hyperliquidChain``.
        self.mainnet = False
        self.fees = fees
        self.clock = clock
        for a in approved_agents:
            self.approve_agent(a)
        self.used_nonces: dict[str, set[int]] = {}
        existing = [o.oid for o in account.orders.values()]
        self.next_oid = max([*existing, 1_000_000_000]) + 1
        self.next_tid = 1
        self.dexes: dict[str, Dex] = {}
        self.book_seed: dict[str, Book] = {}  # the snapshot's books: a TWAP suborder finds them replenished
        self.twaps: dict[int, twap.TwapRun] = {}
        self.next_twap_id = 1
        #: how much faster than the wall clock TWAP suborders, funding and replayed prices run (``--time-scale N``).
        self.time_scale = 1.0
        self.started_ms = self.now_ms()  # the market clock's origin (agent.standin.clock)
        self.funding_rates: dict[str, Decimal] = {}
        self.funding_hours = 0
        #: charge funding every hour of the market clock (on for ``exchange serve``; tests opt in)
        self.charges_funding = False
        self.replay: market_clock.Replay | None = None
        #: until then only post-only (ALO) orders are accepted, as right after a network upgrade.
        self.post_only_until_ms = 0
        self.subaccounts: dict[str, StandIn] = {}  # a master's subaccounts (see :mod:`agent.standin.subaccounts`)
        self.master: StandIn | None = None
        self.name = ""
        self.ledger: list[dict[str, Any]] = []  # userNonFundingLedgerUpdates, oldest first

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_snapshot(
        cls,
        snapshot: Mapping[str, Any],
        *,
        approved_agents: Iterable[str] = (),
        fees: Fees | None = None,
        clock: Callable[[], float] = time.time,
    ) -> StandIn:
        """Build the exchange state from a snapshot dict (Hyperliquid /info responses keyed by type)."""
        if not isinstance(snapshot, Mapping) or "user" not in snapshot or "meta" not in snapshot:
            raise ValueError("snapshot must be an object with at least 'user' and 'meta'")
        perp_markets = parse_meta(snapshot["meta"])
        dexes = parse_dexes(snapshot)
        for dex in dexes.values():
            perp_markets += dex.markets
        tokens, spot_markets = parse_spot_meta(snapshot.get("spotMeta") or EMPTY_SPOT_META)
        max_lev = {m.coin: m.max_leverage for m in perp_markets}
        mids = parse_all_mids(snapshot.get("allMids") or {})
        marks = dict(mids)
        mac = snapshot.get("metaAndAssetCtxs")
        ctx_lists = [(perp_markets, mac[1] if mac else None)] + [(d.markets, d.ctxs) for d in dexes.values()]
        for markets_, ctxs in ctx_lists:
            for market, ctx in zip(markets_, ctxs or [], strict=False):
                if ctx and ctx.get("markPx") is not None:
                    marks[market.coin] = dec(ctx["markPx"])
                if ctx and ctx.get("midPx") is not None and market.dex:
                    mids.setdefault(market.coin, dec(ctx["midPx"]))
        user = str(snapshot["user"]).lower()
        perp = parse_clearinghouse_state(
            snapshot.get("clearinghouseState") or {"marginSummary": {"accountValue": "0"}}, max_lev
        )
        account = Account(user=user, raw_usd=perp.raw_usd)
        mode = snapshot.get("userAbstraction") or "disabled"
        if mode not in ABSTRACTIONS:
            raise ValueError(f"userAbstraction: unknown account mode {mode!r}")
        account.abstraction = str(mode)
        for pos in perp.positions:
            if pos.coin not in max_lev:
                raise ValueError(f"clearinghouseState: position in unknown coin {pos.coin}")
            account.positions[pos.coin] = pos
            account.leverage[pos.coin] = (pos.leverage_type, pos.leverage)
            marks.setdefault(pos.coin, pos.entry_px)
        for dex in dexes.values():
            account.dex_raw_usd[dex.name] = dex.state.raw_usd if dex.state else ZERO
            for pos in dex.state.positions if dex.state else []:
                if pos.coin not in max_lev:
                    raise ValueError(f"dexes.{dex.name}.clearinghouseState: position in unknown coin {pos.coin}")
                account.positions[pos.coin] = pos
                account.leverage[pos.coin] = (pos.leverage_type, pos.leverage)
                marks.setdefault(pos.coin, pos.entry_px)
        spot_state = snapshot.get("spotClearinghouseState") or {"balances": []}
        for bal in parse_spot_clearinghouse_state(spot_state):
            account.balances[bal.token] = bal
        markets = perp_markets + spot_markets
        by_coin = {m.coin: m for m in markets}
        for record in parse_open_orders(snapshot.get("openOrders") or snapshot.get("frontendOpenOrders") or []):
            account.orders[record.oid] = record
            if record.coin in by_coin and by_coin[record.coin].spot:
                # The snapshot's balance ``hold`` already contains what this order locks.
                record.locked = record.sz * record.limit_px if record.is_buy else record.sz
            if record.cloid:
                account.cloids[record.cloid] = record.oid
        account.fills = list(reversed(parse_fills(snapshot.get("userFills") or [])))
        books = {str(coin): parse_l2_book(book) for coin, book in (snapshot.get("l2Books") or {}).items()}
        agents = [*approved_agents, *(snapshot.get("approvedAgents") or [])]
        for per_interval in (snapshot.get("candles") or {}).values():
            for candles in per_interval.values():
                parse_candles(candles)
        for history in (snapshot.get("fundingHistory") or {}).values():
            parse_funding(history)
        standin = cls(
            snapshot=snapshot,
            markets=markets,
            tokens=tokens,
            account=account,
            books=books,
            mids=mids,
            marks=marks,
            approved_agents=agents,
            fees=fees or Fees(),
            clock=clock,
        )
        standin.dexes = dexes
        # trade ids are unique per exchange: new fills number on from the seeded history's
        standin.next_tid = 1 + max((int(str(f.get("tid") or 0)) for f in account.fills), default=0)
        standin.book_seed = {coin: copy.deepcopy(book) for coin, book in books.items()}
        standin.funding_rates = market_clock.funding_rates(snapshot, dexes)
        if account.unified:
            unified.seed(standin)
        subaccounts.attach(standin, snapshot.get("subAccounts"))
        return standin

    # ----------------------------------------------------------------- helpers
    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def is_user(self, address: object) -> bool:
        return isinstance(address, str) and address.lower() == self.account.user

    def is_authorized(self, signer: str) -> bool:
        address = signer.lower()
        if address == self.account.user:
            return True
        agent = self.agents.get(address)
        return agent is not None and agent[1] > self.now_ms()

    def approve_agent(self, address: str, name: str | None = None, valid_until_ms: int | None = None) -> None:
        """Approve an API wallet. Hyperliquid keeps one unnamed wallet and named ones: approving another
        unnamed one (``name`` "") or one under a name already used replaces the previous one."""
        with self.lock:
            address = address.lower()
            if name is None:
                name = self.agents[address][0] if address in self.agents else f"agent{len(self.agents)}"
            for other, (other_name, _) in list(self.agents.items()):
                if other_name == name and other != address:
                    del self.agents[other]
            until = valid_until_ms if valid_until_ms is not None else self.now_ms() + AGENT_VALIDITY_MS
            self.agents[address] = (name, until)

    def max_leverage(self) -> dict[str, int]:
        return {m.coin: m.max_leverage for m in self.markets_by_asset.values() if not m.spot}

    def leverage_for(self, coin: str) -> tuple[str, int]:
        market = self.markets_by_coin[coin]
        kind = "isolated" if market.only_isolated else "cross"
        return self.account.leverage.get(coin, (kind, min(DEFAULT_LEVERAGE, market.max_leverage)))

    def dex(self, name: object) -> str:
        """A request's ``dex`` ("" or absent: the main dex); an unknown dex is refused."""
        if name in (None, ""):
            return ""
        if name not in self.dexes:
            raise ValueError(f"unknown dex {name!r}")
        return str(name)

    def mark(self, coin: str) -> Decimal:
        return self.marks.get(coin) or self.mids.get(coin) or ZERO

    def book(self, coin: str) -> Book:
        return self.books.setdefault(coin, Book(coin=coin))

    def open_orders(self) -> list[OrderRecord]:
        return sorted((o for o in self.account.orders.values() if o.status == "open"), key=lambda o: -o.oid)

    def order_margin(self, dex: str | None = None) -> Decimal:
        """Margin of resting perp orders (of one dex, or of all with None)."""
        total = ZERO
        for o in self.open_orders():
            market = self.markets_by_coin.get(o.coin)
            if market and not market.spot and not o.reduce_only and (dex is None or market.dex == dex):
                total += o.sz * o.limit_px / Decimal(self.leverage_for(o.coin)[1])
        return total

    def perp_available(self, dex: str = "") -> Decimal:
        """What a new perp position may use: its dex's withdrawable, or the unified USDC available."""
        return unified.usdc_available(self) if self.account.unified else self.perp_summary(dex).withdrawable

    def perp_summary(self, dex: str = "") -> PerpSummary:
        marks = {c: self.mark(c) for c in self.account.positions}
        return summarize(self.account, marks, self.max_leverage(), self.order_margin(dex), dex)

    def new_oid(self) -> int:
        oid = self.next_oid
        self.next_oid += 1
        return oid

    def start_replay(self) -> None:
        """Prices follow the snapshot's candles from now on (``--replay``; agent.standin.clock)."""
        with self.lock:
            self.replay = market_clock.Replay(self)
            if not self.replay.series:
                raise ValueError("--replay: the snapshot has no candles to replay")

    def new_twap_id(self) -> int:
        twap_id = self.next_twap_id
        self.next_twap_id += 1
        return twap_id

    def place_twap(self, wire: Mapping[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.tick()
            return twap.place(self, wire)

    def cancel_twap(self, asset: int, twap_id: int) -> Any:
        with self.lock:
            self.tick()
            return twap.cancel(self, asset, twap_id)

    def new_tid(self) -> int:
        tid = self.next_tid
        self.next_tid += 1
        return tid

    def tick(self) -> None:
        """Run due TWAP suborders, liquidate isolated positions whose margin is gone, and fire the dead-man
        switch when its time has come (lazily, per request)."""
        market_clock.tick(self)
        twap.tick(self)
        max_lev = self.max_leverage()
        for pos in list(self.account.positions.values()):
            if accounting.isolated_liquidated(pos, self.mark(pos.coin), max_lev[pos.coin]):
                orders.liquidate(self, pos)
        due = self.account.scheduled_cancel_ms
        if due is not None and self.now_ms() >= due:
            self.account.scheduled_cancel_ms = None
            for order in self.open_orders():
                orders.close_order(self, order, "scheduledCancel")
            # Running TWAPs go on: whether a fired switch stops them is not documented, so the stand-in
            # takes the case a client must survive (it cancels them by id itself).

    # ----------------------------------------------------------------- /exchange entry points
    def check_nonce(self, signer: str, nonce: int) -> str | None:
        """Record a nonce for a signer; return Hyperliquid's error text when it was already used."""
        with self.lock:
            used = self.used_nonces.setdefault(signer.lower(), set())
            if nonce in used:
                return f"Invalid nonce: duplicate nonce {nonce}"
            used.add(nonce)
            return None

    def place_orders(self, wires: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Execute an ``order`` action's orders in sequence; one status per order."""
        with self.lock:
            self.tick()
            return [orders.place(self, wire) for wire in wires]

    def cancel(self, cancels: list[Mapping[str, Any]], *, by_cloid: bool) -> list[Any]:
        with self.lock:
            self.tick()
            statuses: list[Any] = []
            for item in cancels:
                asset = int(item["asset"] if by_cloid else item["a"])
                oid = self.account.cloids.get(str(item["cloid"]).lower()) if by_cloid else int(item["o"])
                order = self.account.orders.get(oid) if oid is not None else None
                market = self.markets_by_asset.get(asset)
                if order is None or order.status != "open" or market is None or market.coin != order.coin:
                    statuses.append({"error": f"Order was never placed, already canceled, or filled. asset={asset}"})
                    continue
                orders.close_order(self, order, "canceled")
                statuses.append("success")
            return statuses

    def schedule_cancel(self, at_ms: int | None) -> str | None:
        """Set (or with None clear) the dead-man switch; return an error text when refused."""
        with self.lock:
            self.tick()
            if at_ms is None:
                self.account.scheduled_cancel_ms = None
                return None
            if at_ms < self.now_ms() + SCHEDULE_CANCEL_MIN_DELAY_MS:
                return "Scheduled cancel time too early, must be at least 5 seconds after current time."
            self.account.scheduled_cancel_ms = at_ms
            return None

    def update_leverage(self, asset: int, *, is_cross: bool, leverage: int) -> str | None:
        with self.lock:
            self.tick()
            market = self.markets_by_asset.get(asset)
            if market is None or market.spot:
                return f"Invalid asset {asset}"
            if not 1 <= leverage <= market.max_leverage:
                return "Invalid leverage value"
            if is_cross and market.only_isolated:
                return "Stand-in: cross margin is not allowed for this isolated-only asset."
            kind = "cross" if is_cross else "isolated"
            pos = self.account.positions.get(market.coin)
            if pos is not None and pos.leverage_type != kind:
                return "Cannot switch leverage type with open position."
            if pos is not None and kind == "isolated":  # the ring-fenced margin follows the new leverage
                needed = accounting.opening_margin(abs(pos.szi), pos.entry_px, leverage) - pos.isolated_margin
                if needed > self.perp_available(market.dex):
                    return "Stand-in: insufficient margin to lower the leverage of this isolated position."
                pos.isolated_margin += needed
            self.account.leverage[market.coin] = (kind, leverage)
            if pos is not None:
                pos.leverage = leverage
            return None

    # ----------------------------------------------------------------- /info
    def info(self, request: Mapping[str, Any]) -> Any:
        """Answer one /info request body (already validated to have a known ``type``)."""
        with self.lock:
            self.tick()
            if request["type"] in subaccounts.INFO_KINDS:
                return subaccounts.info(self, request)
            engine = subaccounts.engine_for(self, request.get("user"))
            if engine.is_user(request.get("user")):
                engine.account.n_requests += 1
            return views.answer(engine, request)
