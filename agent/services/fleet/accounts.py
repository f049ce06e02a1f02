"""The fleet: several accounts (a master, its subaccounts, vaults it leads) signed for by one key.

:func:`open_fleet` builds one :class:`~agent.services.app.Services` per ``[[accounts]]`` entry, each with its
own history database (``<db stem>-<name>.db``, or a schema of a PostgreSQL ``db``: its kill switch, stored
target, journal and lease), all
sharing one rate budget (Hyperliquid's weight is per IP), plus the fleet's own store (``db``: allocation
plans, the transfer journal, equity per day) and the master's :class:`MasterAccount` for transfers.

With ``network = "local"`` one stand-in serves the whole fleet: ``local_snapshot`` if set (its
``"subAccounts"`` key seeds the subaccounts), else the demo account with the demo subaccounts. With no
``[[accounts]]`` the fleet is the master plus every subaccount ``subAccounts`` lists (equal weights).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

from agent.adapters.hyperliquid.accounts import MasterAccount
from agent.adapters.hyperliquid.budget import AddressActions, WindowBudget
from agent.adapters.hyperliquid.client import HyperliquidExchange
from agent.adapters.store.db import Store
from agent.core.allocation import AccountBook
from agent.core.errors import ConfigError, ExchangeError
from agent.services.app import Clock, Services, utcnow
from agent.services.config import Settings
from agent.services.fleet.config import AccountConfig, account_settings
from agent.services.fleet.config import account_db as account_db  # where each account's store lives

#: roles ``userRole`` gives an address that can hold its own funds and positions in a fleet.
TRADABLE_ROLES = {"user", "subAccount", "vault"}


@dataclass
class Account:
    config: AccountConfig
    services: Services

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def interval(self) -> timedelta:
        return self.config.interval or self.services.settings.heartbeat.interval

    @property
    def autonomy(self) -> str:
        return self.config.autonomy or self.services.settings.heartbeat.autonomy


@dataclass
class Fleet:
    settings: Settings
    store: Store
    master: MasterAccount
    accounts: dict[str, Account]
    budget: WindowBudget
    actions: AddressActions
    clock: Clock = utcnow
    url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def books(self) -> list[AccountBook]:
        """Each account's equity and what it can free without closing a position: perp ``withdrawable`` on a
        standard account, the free part of the one USDC balance on a unified or portfolio-margin one."""
        out = []
        day = self.clock().date().isoformat()
        for a in self.accounts.values():
            state, market = a.services.observe()
            equity = state.equity(market)
            self.store.equities.observe(a.name, day, equity)
            out.append(
                AccountBook(
                    name=a.name,
                    address=a.config.address or "",
                    equity=equity,
                    freeable=state.unified_free if state.unified else state.perp_free,
                    is_master=a.config.role == "master",
                )
            )
        return out

    def daily_returns(self, name: str) -> list[float]:
        """Daily returns net of our own transfers, from the equity recorded per day (at most lookback_days)."""
        rows = self.store.equities.daily(name, limit=self.settings.allocation.lookback_days + 1)
        out = []
        for (_, e0, _), (_, e1, flows) in pairwise(rows):
            if e0 > 0:
                out.append((e1 - e0 - flows) / e0)
        return out

    def check_roles(self) -> None:
        """The doctor's check for each account: ``userRole`` must say it holds funds (not an agent wallet)."""
        for a in self.accounts.values():
            if a.config.address is None:  # only Hyperliquid accounts are in the capital fleet
                continue
            role = self.master.user_role(a.config.address)
            if role not in TRADABLE_ROLES:
                raise ConfigError(
                    f"accounts.{a.name}: {a.config.address} is {'an agent wallet' if role == 'agent' else role!r}, "
                    "not an account that holds funds (use the account's own address)"
                )


def settings_for(settings: Settings, name: str) -> Settings:
    """The settings of the ``[[accounts]]`` entry ``name`` (its address, store, targets and limits), for a
    command run for one account (``--account NAME``); an unknown name is a one-line ``ValidationError``."""
    from agent.core.errors import ValidationError

    cfg = next((a for a in settings.accounts if a.name == name), None)
    if cfg is None:
        known = ", ".join(a.name for a in settings.accounts) or "none"
        raise ValidationError(f"--account: {name!r} is not configured (accounts: {known})")
    return account_settings(settings, cfg, None)


@contextmanager
def open_account(settings: Settings, name: str, *, offline: bool = False, **kw: Any) -> Iterator[Services]:
    """The services of the ``[[accounts]]`` entry ``name`` for one command (``--account NAME``): its own store,
    with the fleet's kill switch (the configured store's) read before every order as well."""
    from agent.services.runtime import open_runtime, open_store

    own = settings_for(settings, name)
    fleet = None if offline else open_store(settings)
    try:
        paused = fleet.records.is_paused if fleet is not None else None
        # the account's database sits beside the fleet's and is created with it
        with open_runtime(own, offline=offline, fleet_paused=paused, create_store=True, **kw) as svc:
            yield svc
    finally:
        if fleet is not None:
            fleet.close()


def _standin_seed(settings: Settings) -> Any:
    from agent.standin.subaccounts import demo_fleet_snapshot

    if settings.local_snapshot:
        try:
            return json.loads(Path(settings.local_snapshot).read_text())
        except (OSError, ValueError) as e:
            raise ConfigError(f"local_snapshot: cannot read {settings.local_snapshot} ({e})") from None
    return demo_fleet_snapshot()


def _secret(settings: Settings) -> str | None:
    from agent.services.runtime import _secret as runtime_secret

    return runtime_secret(settings)


@contextmanager
def open_fleet(
    settings: Settings,
    *,
    clock: Clock = utcnow,
    standin: Any = None,
    budget: WindowBudget | None = None,
    actions: AddressActions | None = None,
) -> Iterator[Fleet]:
    """The fleet the config describes, closed cleanly on exit (``standin``: a snapshot dict or StandIn;
    ``budget``/``actions``: the shared per-IP weight and per-address actions, default from ``[fleet]``)."""
    from agent.services.runtime import open_runtime, open_store

    with ExitStack() as stack:
        budget = budget or WindowBudget(settings.fleet.rate_limit_per_minute)
        actions = actions or AddressActions(settings.fleet.actions_per_minute_per_address)
        url = settings.network
        key = _secret(settings)
        master_address = settings.account_address
        if settings.network == "local":
            from agent.standin import DEMO_ACCOUNT_ADDRESS, DEMO_SECRET_KEY, serve

            server = stack.enter_context(serve(standin if standin is not None else _standin_seed(settings)))
            url = server.url
            master_address = master_address or server.exchange.account.user or DEMO_ACCOUNT_ADDRESS
            key = key or DEMO_SECRET_KEY
        elif settings.is_local:
            from agent.standin import DEMO_ACCOUNT_ADDRESS, DEMO_SECRET_KEY

            master_address = master_address or DEMO_ACCOUNT_ADDRESS
            key = key or DEMO_SECRET_KEY
        if master_address is None:
            raise ConfigError("account_address: the fleet needs the master's address")
        base = settings.model_copy(update={"account_address": master_address})
        master_client = HyperliquidExchange(
            url,
            account_address=master_address,
            secret_key=key if (settings.is_local or settings.live) else None,
            budget=budget,
            actions=actions,
            **{k: v for k, v in settings.hyperliquid.client_kwargs().items() if k != "rate_limit_per_minute"},
        )
        master = MasterAccount(master_client)
        # the capital fleet is the Hyperliquid accounts (transfers need the master's key); another venue's
        # accounts are in the portfolio view (agent.services.fleet.portfolio), never in a transfer
        configs = [a for a in settings.accounts if a.on_hyperliquid] or _discovered(master)
        master_client.ensure_meta()  # one meta/spotMeta read (40 weight) for the whole fleet, not per account
        store = open_store(settings)
        stack.callback(store.close)
        accounts: dict[str, Account] = {}
        for cfg in configs:
            acc_settings = account_settings(base, cfg, url if settings.is_local else None)
            # an account's database sits beside the fleet's (checked above) and is created with it
            opened = open_runtime(
                acc_settings, clock=clock, budget=budget, fleet_paused=store.records.is_paused, create_store=True
            )
            svc = stack.enter_context(opened)
            if isinstance(svc.exchange, HyperliquidExchange):
                svc.exchange.actions = actions
                svc.exchange.share_meta(master_client)
            accounts[cfg.name] = Account(cfg, svc)
        yield Fleet(base, store, master, accounts, budget, actions, clock, url)


def _discovered(master: MasterAccount) -> list[AccountConfig]:
    """No ``[[accounts]]``: the master and every subaccount it has."""
    try:
        subs = master.sub_accounts()
    except ExchangeError as e:
        raise ExchangeError(f"cannot list the master's subaccounts: {e}") from None
    found = [AccountConfig(name="master", address=master.address, role="master")]
    found += [AccountConfig(name=s.name or s.address[:10], address=s.address, role="subaccount") for s in subs]
    return found


def day_of(at: datetime) -> str:
    return at.astimezone(UTC).date().isoformat()
