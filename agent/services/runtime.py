"""Composition: settings → store, exchange (stand-in, snapshot or Hyperliquid), executor, services.

``network = "local"`` (the default) starts the Hyperliquid stand-in in-process, seeded with the demo
account (or ``local_snapshot``), and talks to it through the real SDK over loopback: no key, no network,
no real money. Its state lives as long as the process (a demo, an MCP session, a heartbeat).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from agent.services.config import Settings
from agent.core.domain import Market, PortfolioState
from agent.core.errors import ConfigError, ExchangeError
from agent.adapters.hyperliquid.parsing import load_snapshot
from agent.services.app import Clock, Services, utcnow
from agent.adapters.store.db import Store


class SnapshotExchange:
    """A read-only exchange over a snapshot file: for ``status`` / ``decide`` / ``preview --snapshot``."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._state, self._market = load_snapshot(path)

    def account_state(self) -> PortfolioState:
        return self._state

    def market(self, books: Any = None, **_: Any) -> Market:
        return self._market

    def open_orders(self) -> list[Any]:
        return []

    def __getattr__(self, name: str) -> Any:
        if name in ("place_orders", "cancel", "cancel_by_cloid", "order_status", "fills_since", "schedule_cancel"):
            raise ExchangeError(f"a snapshot ({self.path}) is read-only: no orders; use the configured exchange")
        raise AttributeError(name)


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


@contextmanager
def open_runtime(
    settings: Settings,
    *,
    snapshot: str | Path | None = None,
    store: Store | None = None,
    clock: Clock = utcnow,
    standin_snapshot: dict[str, Any] | None = None,
) -> Iterator[Services]:
    """Everything an interface needs, closed cleanly on exit."""
    from agent.adapters.hyperliquid.client import HyperliquidExchange
    from agent.services.executor import Executor

    with ExitStack() as stack:
        store = store or Store(settings.db)
        stack.callback(store.close)
        exchange: Any
        mode = settings.execution_mode
        if snapshot is not None:
            exchange = SnapshotExchange(snapshot)
            mode = "dry-run"
        elif settings.network == "local":
            from agent.standin import DEMO_ACCOUNT_ADDRESS, DEMO_SECRET_KEY, load_demo_snapshot, serve

            seed = standin_snapshot
            if seed is None:
                seed = (
                    json.loads(Path(settings.local_snapshot).read_text())
                    if settings.local_snapshot
                    else load_demo_snapshot()
                )
            server = stack.enter_context(serve(seed))
            key = _secret(settings) or DEMO_SECRET_KEY
            exchange = HyperliquidExchange(
                server.url,
                account_address=settings.account_address or seed.get("user") or DEMO_ACCOUNT_ADDRESS,
                secret_key=key,
            )
        elif settings.is_local:  # a stand-in already running on loopback (`rebalancer exchange serve`)
            from agent.standin import DEMO_ACCOUNT_ADDRESS, DEMO_SECRET_KEY

            exchange = HyperliquidExchange(
                settings.network,
                account_address=settings.account_address or DEMO_ACCOUNT_ADDRESS,
                secret_key=_secret(settings) or DEMO_SECRET_KEY,
            )
        else:
            exchange = HyperliquidExchange(
                settings.network,
                account_address=settings.account_address,
                secret_key=_secret(settings) if settings.live else None,
                vault_address=settings.vault_address,
            )
        executor_exchange = exchange
        if mode == "paper":
            from agent.adapters.paper import PaperExchange

            executor_exchange = PaperExchange(exchange)
        executor = Executor(
            executor_exchange,
            store,
            mode="live" if mode in ("local", "live") else ("paper" if mode == "paper" else "dry-run"),
            is_paused=store.is_paused,
            max_slippage_pct=settings.rebalance.max_slippage,
        )
        services = Services(settings=settings, store=store, exchange=exchange, executor=executor, clock=clock)
        if snapshot is None and mode in ("local", "live"):
            executor.reconcile()
        try:
            from tools.registry import llm_tools

            services.tools = llm_tools(services)
        except ImportError:  # the registry is optional for the core services
            services.tools = []
        yield services


def dump_snapshot(exchange: Any, *, book_coins: list[str] | None = None) -> dict[str, Any]:
    """The account and market as a snapshot: Hyperliquid ``/info`` responses, unchanged (design.md)."""
    ask = exchange._info  # the adapter's rate-budgeted, retried /info call
    user = exchange.user
    snap: dict[str, Any] = {
        "user": user,
        "meta": ask({"type": "meta"}),
        "spotMeta": ask({"type": "spotMeta"}),
        "clearinghouseState": ask({"type": "clearinghouseState", "user": user}),
        "spotClearinghouseState": ask({"type": "spotClearinghouseState", "user": user}),
        "allMids": ask({"type": "allMids"}),
        "metaAndAssetCtxs": ask({"type": "metaAndAssetCtxs"}),
    }
    if book_coins is None:
        state, market = load_snapshot(snap)
        book_coins = [market.assets[c].wire_name for c in state.positions]
    snap["l2Books"] = {c: ask({"type": "l2Book", "coin": c}) for c in book_coins}
    return snap
