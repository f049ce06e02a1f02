"""Composition: settings → store, exchange (stand-in, snapshot or Hyperliquid), executor, services.

``network = "local"`` (the default) starts the Hyperliquid stand-in in-process, seeded with the demo
account (or ``local_snapshot``), and talks to it through the real SDK over loopback: no key, no network,
no real money. Its state lives as long as the process (a demo, an MCP session, a heartbeat).

Execution modes (``Settings.execution_mode``): ``local`` and ``live`` trade through the SDK; ``paper``
fills against the real books in memory; ``dry-run`` journals every intent and sends nothing. A snapshot
is read-only. Only ``local``, ``live`` and ``paper`` give the services a trade port.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Collection, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from agent.adapters.snapshot import SnapshotExchange, dump_snapshot
from agent.adapters.store import postgres
from agent.adapters.store.db import Store
from agent.core.domain import Market, PortfolioState, RebalancingPlan, TargetAllocation
from agent.core.errors import ConfigError, ExchangeError, ValidationError
from agent.core.orders import Fill, OpenOrder, OrderResult
from agent.services import preferences
from agent.services.app import Clock, Services, utcnow
from agent.services.config import DEFAULT_CONFIG, Settings
from agent.services.fleet.config import account_settings
from agent.services.ports import EndpointPort, TradePort
from agent.services.trading.twaps import TwapExecutor
from agent.strategist.base import ToolSpec

if TYPE_CHECKING:
    pass

#: The database a first run creates by itself (any other path needs ``rebalancer db init``).
DEFAULT_DB = "rebalancer.db"

__all__ = ["init_store", "open_runtime", "open_store", "plan_snapshot", "read_snapshot", "snapshot_of"]


def _secret(settings: Settings) -> str | None:
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    if settings.keystore:
        import eth_account

        if settings.keystore_password is None:
            raise ConfigError("keystore: set REBALANCER_KEYSTORE_PASSWORD to decrypt it")
        try:
            data = json.loads(Path(settings.keystore).read_text())
            return "0x" + bytes(eth_account.Account.decrypt(data, settings.keystore_password.get_secret_value())).hex()
        except (OSError, ValueError) as e:
            raise ConfigError(f"keystore: cannot decrypt {settings.keystore} ({type(e).__name__})") from None
    return None


def _binance(settings: Settings, stack: ExitStack, standin_snapshot: Any) -> Any:
    """Binance spot through ccxt: the in-process local Binance (seeded with the demo account or
    ``local_snapshot``), a Binance stand-in already on loopback, the spot testnet, or Binance itself."""
    from agent.adapters.binance.client import BinanceExchange

    venue, quote = settings.exchange.venue, settings.exchange.quote
    key = settings.binance_api_key.get_secret_value() if settings.binance_api_key else None
    secret = settings.binance_secret.get_secret_value() if settings.binance_secret else None
    timeout = settings.hyperliquid.timeout_s
    if settings.network == "local":
        from agent.standin.binance.seed import DEMO_KEY, DEMO_SECRET, demo_snapshot, from_snapshot
        from agent.standin.binance.server import BinanceServer

        seed = standin_snapshot
        if seed is None:
            local = settings.local_snapshot
            seed = json.loads(Path(local).read_text()) if local else demo_snapshot(venue)
        server = stack.enter_context(BinanceServer(from_snapshot(seed)))
        return BinanceExchange(
            server.url,
            api_key=key or DEMO_KEY,
            secret=secret or DEMO_SECRET,
            venue=venue,
            quote=quote,
            timeout_s=timeout,
            paced=False,  # our own in-process server: ccxt's client-side spacing would only wait
        )
    if settings.is_local:
        from agent.standin.binance.seed import DEMO_KEY, DEMO_SECRET

        return BinanceExchange(
            settings.network,
            api_key=key or DEMO_KEY,
            secret=secret or DEMO_SECRET,
            venue=venue,
            quote=quote,
            timeout_s=timeout,
        )
    testnet = settings.network == "testnet"
    url = None if settings.network in ("testnet", "mainnet") else settings.network
    return BinanceExchange(
        url,
        api_key=key,
        secret=secret if settings.live else None,
        venue=venue,
        quote=quote,
        timeout_s=timeout,
        testnet=testnet,
    )


def _exchange(settings: Settings, stack: ExitStack, standin_snapshot: Any, budget: Any = None) -> Any:
    if settings.exchange.is_binance:
        return _binance(settings, stack, standin_snapshot)
    from agent.adapters.hyperliquid.client import HyperliquidExchange  # the SDK loads only when needed

    kw = settings.hyperliquid.client_kwargs()
    if budget is not None:  # a weight budget shared with other accounts' clients (the fleet)
        kw["budget"] = budget
    if settings.network == "local":
        from agent.standin import DEMO_ACCOUNT_ADDRESS, DEMO_SECRET_KEY, load_demo_snapshot, serve

        seed = standin_snapshot
        if seed is None:
            local = settings.local_snapshot
            seed = json.loads(Path(local).read_text()) if local else load_demo_snapshot()
        server = stack.enter_context(serve(seed))
        return HyperliquidExchange(
            server.url,
            account_address=settings.account_address or server.exchange.account.user or DEMO_ACCOUNT_ADDRESS,
            secret_key=_secret(settings) or DEMO_SECRET_KEY,
            **kw,
        )
    if settings.is_local:  # a stand-in already running on loopback (`rebalancer exchange serve`)
        from agent.standin import DEMO_ACCOUNT_ADDRESS, DEMO_SECRET_KEY

        return HyperliquidExchange(
            settings.network,
            account_address=settings.account_address or DEMO_ACCOUNT_ADDRESS,
            secret_key=_secret(settings) or DEMO_SECRET_KEY,
            vault_address=settings.vault_address,
            **kw,
        )
    return HyperliquidExchange(
        settings.network,
        account_address=settings.account_address,
        secret_key=_secret(settings) if settings.live else None,
        vault_address=settings.vault_address,
        **kw,
    )


@contextmanager
def open_runtime(
    settings: Settings,
    *,
    snapshot: str | Path | None = None,
    store: Store | None = None,
    clock: Clock = utcnow,
    standin_snapshot: Any = None,
    model_tools: Callable[[Services], list[ToolSpec]] | None = None,
    offline: bool = False,
    budget: Any = None,
    fleet_paused: Callable[[], bool] | None = None,
    create_store: bool | None = None,
) -> Iterator[Services]:
    """Everything an interface needs, closed cleanly on exit.

    ``model_tools`` builds the read-only tools the strategist's model may call (the MCP registry's
    ``llm_tools``); the interfaces pass it, so the services never import the layer above them.
    ``standin_snapshot`` seeds the in-process stand-in (a snapshot dict, or a built ``StandIn``, e.g. one
    with its own clock). ``offline`` opens only the store (pause, resume, history, plans): no exchange is
    started or read. ``budget``: a rate budget shared with other accounts' clients (the fleet's per-IP
    weight). With ``[[accounts]]``, ``services.accounts`` opens each one's services by name on first use.
    ``fleet_paused``: for a fleet account, the fleet's kill switch, read with the account's own before every order.
    ``create_store``: whether a missing database may be created (see :func:`open_store`).
    """
    with ExitStack() as stack:
        store = store or open_store(settings, create=create_store)
        stack.callback(store.close)
        configured, settings = settings, preferences.apply(settings, store)  # stored settings take effect
        if offline:
            services = Services(settings=settings, store=store, exchange=NoExchange(), clock=clock)
        elif snapshot is not None:
            services = Services(settings=settings, store=store, exchange=SnapshotExchange(snapshot), clock=clock)
        else:
            exchange = _exchange(settings, stack, standin_snapshot, budget)
            mode = settings.execution_mode
            trade: TradePort | None = exchange
            if mode == "paper":
                from agent.adapters.paper import PaperExchange

                trade = PaperExchange(exchange)
            executor = TwapExecutor(  # the executor, with native TWAP legs (agent.services.trading.twaps)
                trade or exchange,
                store,
                mode="live" if mode in ("local", "live") else ("paper" if mode == "paper" else "dry-run"),
                is_paused=store.records.is_paused,
                max_slippage_pct=settings.rebalance.max_slippage,
                isolated_leverage=settings.rebalance.isolated_leverage,
            )
            if mode == "dry-run":
                trade = None  # dry-run wraps every state-changing call: nothing reaches the exchange
            services = Services(
                settings=settings, store=store, exchange=exchange, executor=executor, trade=trade, clock=clock
            )
            # No start-up reconcile: it runs under the account's lease (each execution, each heartbeat
            # tick), so an order another live process has in flight is never touched, and reads never wait.
        services.model_tools = model_tools
        services.configured = configured
        services.fleet_paused = fleet_paused
        if services.executor is not None and fleet_paused is not None:
            services.executor.is_paused = services.is_paused
        if settings.accounts and not offline and snapshot is None:
            ex = services.exchange
            url = ex.base_url if settings.is_local and isinstance(ex, EndpointPort) else None
            services.accounts = AccountServices(settings, url, stack, clock, fleet_paused=store.records.is_paused)
        yield services


class NoExchange:
    """The exchange of a command that only reads the store: it implements the read port, and every read is
    one clear error (``ExchangeError``: this command does not read the exchange)."""

    order_ttl_s: float | None = None
    clock_offset_s: float | None = None

    @staticmethod
    def _refuse(what: str) -> NoReturn:
        raise ExchangeError(f"this command does not read the exchange ({what})")

    def server_time_ms(self, *, fresh: bool = False) -> int:
        self._refuse("server_time_ms")

    def account_state(self) -> PortfolioState:
        self._refuse("account_state")

    def market(self, books: Collection[str] | None = None, *, with_ctxs: bool = False) -> Market:
        self._refuse("market")

    def order_status(self, cloid: str) -> OrderResult | None:
        self._refuse("order_status")

    def fills_since(self, ms: int, end_ms: int | None = None) -> list[Fill]:
        self._refuse("fills_since")

    def open_orders(self) -> list[OpenOrder]:
        self._refuse("open_orders")


def open_store(settings: Settings, *, create: bool | None = None) -> Store:
    """The history database at ``settings.db``, never created by accident.

    A missing file is created only when ``create`` says so, or (``create=None``) when the path was not
    configured: the default ``rebalancer.db`` (the first run), or a ``Settings`` built in code with its ``db``
    (the caller's own choice). A path configured in a file or ``REBALANCER_DB`` that does not exist is a
    ``ConfigError`` naming ``rebalancer db init``: a mistyped path would otherwise start a fresh database
    without the kill switch, the day's traded total or the journal. ``create=False`` (an autonomous
    heartbeat) never creates. A PostgreSQL URL is held to the same rule: its schema must hold a store
    (``db init`` makes it) unless creating is allowed; an unreachable server is a ``ConfigError`` too.
    """
    path = settings.db
    configured = "db" in settings.model_fields_set and settings.source != "defaults"
    source = settings.source.split(" + ")[0]
    hint = "`rebalancer db init" + ("" if source in ("defaults", DEFAULT_CONFIG) else f" --config {source}") + "`"
    if postgres.is_url(path):
        if not ((not configured) if create is None else create) and not postgres.schema_ready(path):
            schema = postgres.split(path)[1]
            raise ConfigError(
                f"db: schema {schema} at {postgres.redacted(path)} holds no store; {hint} creates it on purpose "
                "(or fix the URL)"
            )
    elif path != ":memory:" and not Path(path).exists():
        default = Path(path) == Path(DEFAULT_DB) or not configured
        if not (default if create is None else create):
            raise ConfigError(f"db: {path} does not exist; {hint} creates it on purpose (or fix the path)")
    return Store(path)


def init_store(settings: Settings) -> tuple[str, int]:
    """Create (or bring up to date) the history database at ``settings.db`` on purpose: its path and schema."""
    store = Store(settings.db, init=True)
    try:
        return store.path, store.schema_version
    finally:
        store.close()


def snapshot_of(services: Services) -> dict[str, Any]:
    """The configured account and market as a snapshot (Hyperliquid ``/info`` answers, unchanged)."""
    return dump_snapshot(services.exchange)


def read_snapshot(path: str | Path | dict[str, Any]) -> SnapshotExchange:
    """A snapshot file checked and opened read-only (``SnapshotError`` naming the problem otherwise)."""
    return SnapshotExchange(path)


def plan_snapshot(snapshot: str | Path, target: TargetAllocation, settings: Settings) -> RebalancingPlan:
    """Offline planning through the one planning use case (:func:`agent.services.trading.planning.plan`):
    the snapshot as a read-only exchange and a throwaway in-memory store, so the config's database is
    neither opened nor written and no exchange is read."""
    with open_runtime(settings, snapshot=snapshot, store=Store(":memory:")) as svc:
        return svc.plan(target)


class AccountServices:
    """``services.accounts``: each ``[[accounts]]`` entry's services, opened on first use and closed with
    the ``stack`` of the runtime that made them (one MCP session, one chat)."""

    def __init__(
        self,
        settings: Settings,
        url: str | None,
        stack: ExitStack,
        clock: Clock = utcnow,
        *,
        fleet_paused: Callable[[], bool] | None = None,
    ) -> None:
        self.settings, self.url, self.stack, self.clock = settings, url, stack, clock
        self.fleet_paused = fleet_paused
        self.by_name = {a.name: a for a in settings.accounts}
        self.opened: dict[str, Services] = {}
        self._lock = threading.Lock()

    def __call__(self, name: str) -> Services:
        cfg = self.by_name.get(name)
        if cfg is None:
            known = ", ".join(self.by_name) or "none"
            raise ValidationError(f"account {name!r} is not configured (accounts: {known})")
        with self._lock:
            if name not in self.opened:
                settings = account_settings(self.settings, cfg, self.url)
                opened = open_runtime(settings, clock=self.clock, fleet_paused=self.fleet_paused, create_store=True)
                self.opened[name] = self.stack.enter_context(opened)
            return self.opened[name]
