"""The Hyperliquid adapter on ``hyperliquid-python-sdk``: real API, testnet, or any base URL (the stand-in).

- **No network at construction.** The SDK's ``Info``/``Exchange`` constructors call ``meta`` and
  ``spotMeta`` unless both are passed in; we fetch both ourselves on first use and only then build the
  SDK's ``Exchange`` (``skip_ws=True``).
- **Addresses.** State is read for the account (``vault_address`` if trading a vault/subaccount, else
  ``account_address``, else the signer's own address), never for the API (agent) wallet that signs.
- **Secrets.** The key is held in :class:`SecretKey` (redacted ``repr``/``str``); the adapter's
  ``repr`` names only the network and the account.
- **By concept.** One :class:`~agent.adapters.hyperliquid.info.InfoClient` (rate budget, retries, ``post``)
  is composed into this trading client and into its parts: ``history`` (:class:`HistoryReads`), ``dex_reads``
  (:class:`DexReads`, the HIP-3 dexes) and ``twaps`` (:class:`TwapOrders`); none of them reaches into this one.
- **Rate budget.** A client-side token bucket below Hyperliquid's 1200 weight/minute per IP: ``l2Book``,
  ``allMids``, ``clearinghouseState``, ``spotClearinghouseState``, ``orderStatus`` weigh 2, other info
  20 (fills requests more), ``/exchange`` 1 + floor(batch/40). Inside a question
  (:mod:`agent.adapters.readscope`) an /info body is asked once, except what polls for change (``POLLED``);
  every /exchange action forgets what the question read.
- **Classification.** ``/info``: 429, 5xx, timeouts, connection errors and unparseable bodies are retried
  with backoff, then raise :class:`TemporaryExchangeError`. ``/exchange``: the same faults raise
  :class:`OrderOutcomeUnknown` (the order may exist); a parsed answer becomes one :class:`OrderResult`
  per order (``resting``, ``filled``/``partial`` with ``totalSz``/``avgPx``/``oid``, ``rejected``); a
  whole-request ``status: "err"`` rejects every order of the batch. Nothing is retried on /exchange.
- **Expiry on the exchange's clock.** Order actions carry ``expiresAfter`` = the exchange's time +
  ``order_ttl_s`` (the intent's own ``expires_after_ms`` when the executor set one): once the exchange's
  clock has passed it, an order that ``orderStatus`` does not know can no longer appear, so a resend is
  safe. The exchange's time is the ``time`` of its ``clearinghouseState`` answers; the local clock only
  measures the offset to it (``clock_offset_s``), so a skewed local clock neither stretches an order's
  life nor makes a resend look safe early.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

import requests
from hyperliquid.utils.error import ClientError, ServerError
from hyperliquid.utils.types import Cloid

from agent.adapters import readscope
from agent.adapters.hyperliquid import transport
from agent.adapters.hyperliquid.answers import (
    _unparseable,
    classify_order_answer,
    classify_order_lookup,
    parse_fill,
    parse_open_order,
)
from agent.adapters.hyperliquid.budget import RateBudget
from agent.adapters.hyperliquid.constants import FILLS_WEIGHT, exchange_weight, resolve_base_url
from agent.adapters.hyperliquid.dex_reads import DexReads
from agent.adapters.hyperliquid.dexes import dex_of
from agent.adapters.hyperliquid.history import HistoryReads
from agent.adapters.hyperliquid.info import InfoClient
from agent.adapters.hyperliquid.margin import Margin
from agent.adapters.hyperliquid.parsing import answers_checked, parse_market, parse_state, spot_pair_names
from agent.adapters.hyperliquid.secret import SecretKey
from agent.adapters.hyperliquid.twaps import TwapOrders, TwapStatus
from agent.core.accounts import parse_abstraction
from agent.core.domain import Market, MarketType, PortfolioState
from agent.core.errors import ConfigError, ExchangeError, OrderOutcomeUnknown, SnapshotError, TemporaryExchangeError
from agent.core.orders import Fill, OpenOrder, OrderIntent, OrderResult
from agent.core.performance import FundingEvent, ValuePoint
from agent.core.rules import is_valid_price, is_valid_size, round_price, round_size_down

log = logging.getLogger(__name__)


@answers_checked  # an answer we cannot trust (a mid of 0, a negative balance) is an exchange error
class HyperliquidExchange:
    """The :class:`~agent.core.orders.Exchange` on Hyperliquid (or anything that speaks its API)."""

    supports_schedule_cancel = True

    def __init__(
        self,
        network: str = "testnet",
        *,
        account_address: str | None = None,
        secret_key: str | SecretKey | None = None,
        vault_address: str | None = None,
        timeout: float = 10.0,
        rate_limit_per_minute: float = 1000.0,
        info_retries: int = 2,
        backoff_s: float = 0.25,
        order_ttl_s: float | None = 30.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        dexes: Collection[str] = (),
        budget: RateBudget | Any | None = None,
        actions: Any = None,
    ) -> None:
        self.base_url = resolve_base_url(network)
        self.network = network
        self._key = SecretKey(secret_key) if secret_key is not None else None
        self.signer_address: str | None = None
        if self._key is not None:
            import eth_account

            try:
                self.signer_address = eth_account.Account.from_key(self._key.reveal()).address
            except Exception:
                raise ConfigError("secret key: not a valid private key") from None
        self.account_address = account_address or self.signer_address
        if self.account_address is None:
            raise ConfigError("account_address: needed when no signing key is given")
        self.vault_address = vault_address
        self.user = (vault_address or self.account_address).lower()
        self.timeout = timeout
        self.order_ttl_s = order_ttl_s
        self.budget = budget or RateBudget(rate_limit_per_minute, sleep=sleep)  # a fleet shares one per IP
        self.actions = actions  # per-address /exchange actions shared by a fleet (``AddressActions``), or None
        self._clock = clock
        self.info = InfoClient(
            self.base_url,
            budget=self.budget,
            timeout=timeout,
            retries=info_retries,
            backoff_s=backoff_s,
            sleep=sleep,
            clock=clock,
        )
        self.history = HistoryReads(self.info, self.user, self._wire_name)
        self.dex_reads = DexReads(self.info, dexes)
        self.twaps = TwapOrders(self.info, self.user, self.post_signed)
        self.margin = Margin(self.post_signed, self._wire_name)
        self._meta: Any = None
        self._spot_meta: Any = None
        self._sdk: Any = None
        self._market: Market | None = None
        self._offset_ms: int | None = None
        self._abstraction: str | None = None
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return (
            f"HyperliquidExchange(network={self.network!r}, account={self.account_address!r}, "
            f"vault={self.vault_address!r}, signer={'set' if self._key else 'none'})"
        )

    __str__ = __repr__

    @property
    def dexes(self) -> tuple[str, ...]:
        """HIP-3 dexes read besides the main dex (the ones the account uses or a target names)."""
        return self.dex_reads.dexes

    # ------------------------------------------------------------------ /info
    def ask(self, body: dict[str, Any]) -> Any:
        """One rate-budgeted, retried /info request (for :mod:`account_info`'s reads)."""
        return self.info.post(body)

    def ensure_meta(self) -> None:
        """Read ``meta`` and ``spotMeta`` (and each used dex's meta) unless they were read already."""
        self._ensure_meta()

    def share_meta(self, other: HyperliquidExchange) -> None:
        """Use ``other``'s ``meta`` and ``spotMeta`` (one read for a whole fleet, not one per account)."""
        other.ensure_meta()
        with self._lock:
            self._meta, self._spot_meta = other._meta, other._spot_meta

    def _ensure_meta(self) -> None:
        with self._lock:
            if self._meta is None or self._spot_meta is None:
                meta = self.info.post({"type": "meta"})
                spot = self.info.post({"type": "spotMeta"})
                if not isinstance(meta, Mapping) or "universe" not in meta:
                    raise SnapshotError("meta: missing 'universe'")
                if not isinstance(spot, Mapping) or "universe" not in spot:
                    raise SnapshotError("spotMeta: missing 'universe'")
                self._meta, self._spot_meta = meta, spot
            self._ensure_dexes()

    def _ensure_dexes(self) -> None:
        self.dex_reads.ensure()
        if self._sdk is not None:  # HIP-3 assets: 100000 + dex index × 10000 + index in the dex's meta
            for meta, offset in self.dex_reads.asset_offsets().values():
                self._sdk.info.set_perp_meta(meta, offset)

    def use_dexes(self, dexes: Collection[str]) -> None:
        """Also read these HIP-3 dexes (a target names them); one not listed by ``perpDexs`` is refused."""
        with self._lock:
            if self.dex_reads.use(dexes):
                self._ensure_dexes()

    def market(self, books: Collection[str] | None = None, *, with_ctxs: bool = False) -> Market:
        self._ensure_meta()
        mids = self.info.post({"type": "allMids"})
        if not isinstance(mids, Mapping):
            raise SnapshotError("allMids: expected an object")
        ctxs = None
        if with_ctxs:
            mac = self.info.post({"type": "metaAndAssetCtxs"})
            ctxs = mac[1] if isinstance(mac, list) and len(mac) == 2 else None
        raw_books: dict[str, Any] = {}
        if books:
            plain = parse_market(self._meta, self._spot_meta, mids)
            for coin in books:
                info = plain.get(coin)
                if dex_of(coin):
                    continue  # a HIP-3 book: read with its dex
                if info is None and coin not in mids:
                    continue  # not listed: there is no book to ask for
                wire = info.wire_name if info else coin
                book = self.info.post({"type": "l2Book", "coin": wire})
                if book:
                    raw_books[wire] = book
        main = parse_market(self._meta, self._spot_meta, mids, raw_books, ctxs)
        market = self.dex_reads.market(main, self._spot_meta, books, with_ctxs)
        self._market = market
        return market

    def server_time_ms(self, *, fresh: bool = False) -> int:
        """The exchange's clock, in ms.

        ``fresh``: read it now (the ``time`` of a ``clearinghouseState`` answer, weight 2). That is the
        exchange's time when it answered, so a lower bound of its time now: what a resend decision needs.
        Otherwise the local clock plus the offset last measured (measured first if it never was).
        """
        if fresh or self._offset_ms is None:
            t0, answer, t1 = self.info.post_at({"type": "clearinghouseState", "user": self.user}, fresh=fresh)
            server = self._note_time(answer, t0, t1)
            if server is None:
                raise SnapshotError("clearinghouseState: no 'time' (the exchange's clock)")
            return server
        return int(self._clock() * 1000) + self._offset_ms

    @property
    def clock_offset_s(self) -> float | None:
        """The exchange's clock minus the local clock, in seconds, as last measured (None: not yet)."""
        return None if self._offset_ms is None else self._offset_ms / 1000

    def _note_time(self, answer: Any, t0: float, t1: float) -> int | None:
        t = answer.get("time") if isinstance(answer, Mapping) else None
        if not isinstance(t, int) or isinstance(t, bool) or t <= 0:
            return None
        self._offset_ms = t - round((t0 + t1) * 500)
        return t

    def abstraction(self) -> str:
        """The account's mode (``userAbstraction``); read once per adapter, as it rarely changes."""
        with self._lock:
            if self._abstraction is None:
                self._abstraction = parse_abstraction(self.info.post({"type": "userAbstraction", "user": self.user}))
            return self._abstraction

    def account_state(self) -> PortfolioState:
        mode = self.abstraction()
        market = self.market()
        t0, ch, t1 = self.info.post_at({"type": "clearinghouseState", "user": self.user})
        self._note_time(ch, t0, t1)
        spot = self.info.post({"type": "spotClearinghouseState", "user": self.user})
        dex_states = {
            dex: self.info.post({"type": "clearinghouseState", "user": self.user, "dex": dex}) for dex in self.dexes
        }
        return parse_state(ch, spot, market, user=self.user, abstraction=mode, dex_states=dex_states)

    def order_status(self, cloid: str) -> OrderResult | None:
        answer = self.info.post({"type": "orderStatus", "user": self.user, "oid": cloid.lower()})
        result = classify_order_lookup(answer, cloid.lower())
        if result is not None and result.filled_sz > 0 and result.oid is not None:
            # The fills give the real average price (and catch fills the order view lags behind).
            since = int(answer["order"].get("statusTimestamp") or answer["order"]["order"].get("timestamp", 0))
            fills = self.fills_since(max(0, since - 3_600_000))
            result = classify_order_lookup(answer, cloid.lower(), fills)
        return result

    def fills_since(self, ms: int, end_ms: int | None = None) -> list[Fill]:
        req: dict[str, Any] = {"type": "userFillsByTime", "user": self.user, "startTime": int(ms)}
        req |= {"endTime": int(end_ms)} if end_ms is not None else {}
        answer = self.info.post(req, FILLS_WEIGHT)
        if not isinstance(answer, list):
            raise SnapshotError("userFillsByTime: expected a list")
        return [parse_fill(f) for f in answer]

    def open_orders(self) -> list[OpenOrder]:
        answer = self.info.post({"type": "frontendOpenOrders", "user": self.user})
        for dex in self.dexes:
            more = self.info.post({"type": "frontendOpenOrders", "user": self.user, "dex": dex})
            answer = [*answer, *more] if isinstance(answer, list) and isinstance(more, list) else None
        if not isinstance(answer, list):
            raise SnapshotError("frontendOpenOrders: expected a list")
        self._ensure_meta()
        human = {wire: name for name, (wire, *_rest) in spot_pair_names(self._spot_meta).items()}
        orders = [parse_open_order(o) for o in answer]
        return [o.model_copy(update={"coin": human.get(o.coin, o.coin)}) for o in orders]  # '@151' → 'UETH/USDC'

    # ------------------------------------------------------------------ /exchange
    def _exchange_sdk(self) -> Any:
        """The SDK's signing client, built on first use from meta we fetched (no hidden requests)."""
        with self._lock:
            if self._key is None:
                raise ExchangeError("no signing key configured: this exchange is read-only")
            if self._sdk is None:
                import eth_account
                from hyperliquid.exchange import Exchange as SdkExchange

                self._ensure_meta()
                wallet = eth_account.Account.from_key(self._key.reveal())
                self._sdk = SdkExchange(
                    wallet,
                    self.base_url,
                    meta=self._meta,
                    vault_address=self.vault_address,
                    account_address=self.account_address,
                    spot_meta=self._spot_meta,
                    timeout=self.timeout,
                )
                transport.install(self._sdk, getattr(self._sdk, "info", None))
                for meta, offset in self.dex_reads.asset_offsets().values():  # HIP-3 assets
                    self._sdk.info.set_perp_meta(meta, offset)
            return self._sdk

    def post_signed(
        self,
        call: Callable[[Any], Any],
        what: str,
        weight: int,
        *,
        expires_after_ms: int | None = None,
        n_actions: int = 1,
    ) -> Any:
        """Run one signed SDK call (``call(sdk)``, as the master's transfers and the TWAPs do); transport
        faults → OrderOutcomeUnknown (never retried here). Spends the IP's weight and the address's actions."""
        sdk = self._exchange_sdk()
        if expires_after_ms is None and self.order_ttl_s:
            expires_after_ms = self.server_time_ms() + int(self.order_ttl_s * 1000)
        if self.actions is not None:  # a batch of n counts n for the address (1 weight for the IP)
            self.actions.acquire(self.user, n_actions)
        self.budget.acquire(weight)
        sdk.set_expires_after(expires_after_ms)
        readscope.forget()  # the action may change what this question has read
        try:
            return call(sdk)
        except ClientError as exc:
            if exc.status_code == 429:
                raise OrderOutcomeUnknown(f"/exchange {what}: HTTP 429 (rate limited)") from None
            raise ExchangeError(f"/exchange {what}: HTTP {exc.status_code}: {str(exc.error_message)[:200]}") from None
        except ServerError as exc:
            raise OrderOutcomeUnknown(f"/exchange {what}: HTTP {exc.status_code}") from None
        except requests.exceptions.Timeout:
            raise OrderOutcomeUnknown(f"/exchange {what}: timed out after {self.timeout}s") from None
        except requests.exceptions.RequestException as exc:
            raise OrderOutcomeUnknown(f"/exchange {what}: {type(exc).__name__}") from None

    def _wire_order(self, sdk: Any, o: OrderIntent) -> dict[str, Any] | str:
        """An SDK order request on the exchange's grids, or the reason it cannot be sent."""
        try:
            asset = sdk.info.name_to_asset(o.wire_name)
        except KeyError:
            return f"unknown market {o.wire_name}"
        if asset != o.asset:
            return f"asset id mismatch for {o.wire_name}: plan {o.asset}, exchange {asset}"
        market_type: MarketType = "spot" if o.is_spot else "perp"
        szd = sdk.info.asset_to_sz_decimals[asset]
        size = round_size_down(o.size, szd)
        px = round_price(o.limit_px, market_type, szd, up=not o.is_buy)
        if size <= 0 or not is_valid_size(size, szd):
            return f"size {o.size} rounds to nothing at {szd} decimals"
        if not is_valid_price(px, market_type, szd):
            return f"price {o.limit_px} cannot be put on the price grid"
        return {
            "coin": o.wire_name,
            "is_buy": o.is_buy,
            "sz": size,
            "limit_px": px,
            "order_type": {"limit": {"tif": o.tif}},
            "reduce_only": o.reduce_only,
            "cloid": Cloid.from_str(o.cloid),
        }

    def place_orders(self, orders: list[OrderIntent]) -> list[OrderResult]:
        if not orders:
            return []
        sdk = self._exchange_sdk()
        results: list[OrderResult | None] = [None] * len(orders)
        wires: list[dict[str, Any]] = []
        sent: list[tuple[int, OrderIntent]] = []
        for i, o in enumerate(orders):
            wire = self._wire_order(sdk, o)
            if isinstance(wire, str):
                results[i] = OrderResult(cloid=o.cloid, status="rejected", error=wire, requested_sz=o.size)
                continue
            wires.append(wire)
            sent.append((i, o.model_copy(update={"size": wire["sz"], "limit_px": wire["limit_px"]})))
        if wires:
            expiries = [o.expires_after_ms for _, o in sent if o.expires_after_ms is not None]
            answer = self.post_signed(
                lambda s: s.bulk_orders(wires),
                f"order x{len(wires)}",
                exchange_weight(len(wires)),
                expires_after_ms=min(expiries) if expiries else None,
                n_actions=len(wires),
            )
            for (i, _), r in zip(sent, classify_order_answer(answer, [o for _, o in sent]), strict=True):
                results[i] = r
        return [r for r in results if r is not None]

    def _cancel_answer(self, answer: Any, what: str) -> bool:
        if _unparseable(answer) or not isinstance(answer, Mapping):
            raise TemporaryExchangeError(f"{what}: unreadable answer")
        if answer.get("status") != "ok":
            return False
        statuses = ((answer.get("response") or {}).get("data") or {}).get("statuses") or []
        return bool(statuses) and statuses[0] == "success"

    def cancel(self, coin: str, oid: int) -> bool:
        wire = self._wire_name(coin)
        try:
            answer = self.post_signed(lambda s: s.cancel(wire, int(oid)), "cancel", 1)
        except OrderOutcomeUnknown as exc:
            raise TemporaryExchangeError(str(exc)) from None
        return self._cancel_answer(answer, "cancel")

    def cancel_by_cloid(self, coin: str, cloid: str) -> bool:
        wire = self._wire_name(coin)
        try:
            answer = self.post_signed(lambda s: s.cancel_by_cloid(wire, Cloid.from_str(cloid.lower())), "cancel", 1)
        except OrderOutcomeUnknown as exc:
            raise TemporaryExchangeError(str(exc)) from None
        return self._cancel_answer(answer, "cancelByCloid")

    # ------------------------------------------------------------------ the TwapPort and HistoryPort
    def place_twap(self, intent: OrderIntent, minutes: int) -> TwapStatus:
        return self.twaps.place(intent, minutes)

    def twap_status(self, twap_id: int) -> TwapStatus | None:
        return self.twaps.status(twap_id)

    def find_twap(self, coin: str, is_buy: bool, size: float, since_ms: int) -> TwapStatus | None:
        return self.twaps.find(self._wire_name(coin), is_buy, size, since_ms)

    def update_leverage(self, coin: str, leverage: int, *, is_cross: bool) -> str | None:
        """``updateLeverage`` (:class:`~agent.adapters.hyperliquid.margin.Margin`): None when applied, else why not."""
        return self.margin.update_leverage(coin, leverage, is_cross=is_cross)

    def cancel_twap(self, asset: int, twap_id: int) -> bool:
        try:
            return self.twaps.cancel(asset, twap_id)
        except OrderOutcomeUnknown as exc:
            raise TemporaryExchangeError(str(exc)) from None

    def value_history(self) -> dict[str, list[ValuePoint]]:
        return self.history.value_history()

    def funding_since(self, ms: int) -> list[FundingEvent]:
        return self.history.funding_since(ms)

    def daily_candles(self, coin: str, start_ms: int, end_ms: int) -> list[tuple[int, float, float]]:
        return self.history.daily_candles(coin, start_ms, end_ms)

    def schedule_cancel(self, at_ms: int | None) -> bool:
        try:
            answer = self.post_signed(lambda s: s.schedule_cancel(at_ms), "scheduleCancel", 1)
        except OrderOutcomeUnknown as exc:
            raise TemporaryExchangeError(str(exc)) from None
        return isinstance(answer, Mapping) and answer.get("status") == "ok"

    def _wire_name(self, coin: str) -> str:
        if self._market is None:
            self.market()
        assert self._market is not None
        info = self._market.get(coin)
        return info.wire_name if info else coin
