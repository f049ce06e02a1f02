"""Helpers for the fleet tests: a stand-in serving a master and its subaccounts, and configs that point at it."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from clirun import made_db

from agent.standin import DEMO_ACCOUNT_ADDRESS, load_demo_snapshot
from agent.standin.subaccounts import with_subaccounts


def sub_address(name: str) -> str:
    return "0x" + hashlib.sha256(f"fleet test {name}".encode()).hexdigest()[:40]


#: three accounts: the demo master, a subaccount holding BTC, one holding only USDC.
SUBS = (("trend", sub_address("trend"), 6_000.0, 0.03), ("carry", sub_address("carry"), 1_500.0, 0.0))


def fleet_snapshot(subs: Any = SUBS) -> dict[str, Any]:
    return with_subaccounts(load_demo_snapshot(), subs)


def accounts_toml(
    subs: Any = SUBS, *, master_targets: str | None = None, sub_targets: str | None = None, autonomy: str | None = None
) -> str:
    out = [f'[[accounts]]\nname = "core"\naddress = "{DEMO_ACCOUNT_ADDRESS}"\nrole = "master"\n']
    if master_targets:
        out[0] += f"targets = {master_targets}\n"
    for name, address, *_ in subs:
        entry = f'[[accounts]]\nname = "{name}"\naddress = "{address}"\n'
        if sub_targets:
            entry += f"targets = {sub_targets}\n"
        if autonomy:
            entry += f'autonomy = "{autonomy}"\n'
        out.append(entry)
    return "\n".join(out)


def write_config(
    folder: Path, url: str, allocation: str, *, extra: str = "", db: str | None = None, make_db: bool = True, **kw: Any
) -> Path:
    """A fleet config; ``db``: the store (default ``fleet.db`` in ``folder``, created on purpose unless
    ``make_db`` is False; a PostgreSQL URL to share it)."""
    cfg = folder / "rebalancer.toml"
    db = db or str(made_db(folder / "fleet.db") if make_db else folder / "fleet.db")
    cfg.write_text(f'network = "{url}"\ndb = "{db}"\n{extra}\n{accounts_toml(**kw)}\n[allocation]\n{allocation}\n')
    return cfg


def ledger(server: Any) -> list[dict[str, Any]]:
    """Every subAccountTransfer the stand-in applied (each appears once, in the master's ledger)."""
    return list(server.exchange.ledger)
