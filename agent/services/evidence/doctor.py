"""``doctor``: is this account wired the way trading on it needs? One check per line, each with a fix.

Checks (a wrongly wired account, not the code, is the commonest reason trading fails):

- ``account``: the account address is a master account, not an API (agent) wallet (``userRole``); a
  vault or subaccount must be traded with ``vault_address`` set and the master's key;
- ``signer``: the signing key is the account's own or an agent approved for it (``extraAgents``);
- ``mode``: the account mode (``userAbstraction``) is one the planner models;
- ``dexes``: every configured HIP-3 dex is listed by ``perpDexs``;
- ``open_orders``: open orders and running TWAPs, ours (journaled) and not ours;
- ``dead_man_switch``: not left armed by us, and triggers today within Hyperliquid's 10 a day;
- ``rate_budget``: the address's action budget left (``userRateLimit``).

Every check reads; nothing is changed at the exchange. A check that cannot run (a snapshot, the exchange
down) fails with what went wrong.

The answers are kept in the store (:func:`cached`): ``status`` shows the last ones while they are younger
than a heartbeat interval instead of asking the exchange the same questions on every call; ``doctor``
itself always asks afresh (and keeps what it found).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from agent.adapters.hyperliquid import account_info
from agent.core.accounts import mode_name, parse_abstraction
from agent.core.errors import RebalancerError
from agent.services.trading.deadman import ARMED, MAX_TRIGGERS_PER_DAY, DeadManSwitch

if TYPE_CHECKING:
    from agent.services.app import Services

#: below this many actions left, the address is close to being throttled.
RATE_BUDGET_MIN = 200


@dataclass(frozen=True)
class Check:
    check: str
    ok: bool
    detail: str
    fix: str = ""

    def to_public(self) -> dict[str, Any]:
        return asdict(self)


def _exchange_reads(svc: Services) -> Any:
    """The exchange that answers /info (a paper exchange reads through its source)."""
    ex = svc.exchange
    for candidate in (ex, getattr(ex, "source", None)):
        if candidate is not None and hasattr(candidate, "ask"):
            return candidate
    return None


def _key(svc: Services) -> str:
    return f"doctor:{svc.account}"


def cached(svc: Services) -> list[Check]:
    """The last checks of this account while younger than ``[heartbeat] interval``, else :func:`run` afresh."""
    kept = svc.store.records.get(_key(svc))
    if isinstance(kept, dict) and isinstance(kept.get("at"), str):
        age = svc.clock() - datetime.fromisoformat(kept["at"])
        if timedelta(0) <= age < svc.settings.heartbeat.interval:
            return [Check(**c) for c in kept.get("checks", [])]
    return run(svc)


def run(svc: Services) -> list[Check]:
    """Every check, in order (kept in the store for :func:`cached`); a check that raises becomes a failing line."""
    checks = _run(svc)
    if checks is None:
        return [Check("exchange", False, "no live exchange to check (a snapshot?)", "run without --snapshot")]
    svc.store.records.set(_key(svc), {"at": svc.clock().isoformat(), "checks": [c.to_public() for c in checks]})
    return checks


def _run(svc: Services) -> list[Check] | None:
    if svc.settings.exchange.is_binance and hasattr(svc.exchange, "api_restrictions"):
        from agent.services.evidence import doctor_binance

        return doctor_binance.run(svc, svc.exchange)
    ex = _exchange_reads(svc)
    if ex is None:
        return None
    steps: list[tuple[str, Callable[[], Check]]] = [
        ("account", lambda: _account(svc, ex)),
        ("signer", lambda: _signer(ex)),
        ("mode", lambda: _mode(ex)),
        ("dexes", lambda: _dexes(ex)),
        ("open_orders", lambda: _open_orders(svc, ex)),
        ("dead_man_switch", lambda: _dead_man(svc)),
        ("rate_budget", lambda: _rate_budget(ex)),
    ]
    out = []
    for name, step in steps:
        try:
            out.append(step())
        except RebalancerError as exc:
            out.append(Check(name, False, f"could not check: {exc}", "check the network and try again"))
    return out


def _account(svc: Services, ex: Any) -> Check:
    role = account_info.user_role(ex.ask, ex.user)
    vault = (getattr(ex, "vault_address", None) or "").lower()
    if role.role == "agent":
        return Check(
            "account",
            False,
            f"{ex.user} is an API (agent) wallet of {role.master}, not an account: its balances are empty",
            f"set account_address (REBALANCER_ACCOUNT_ADDRESS) to the master {role.master}; keep the agent's key",
        )
    if role.role in ("vault", "subAccount"):
        if vault != ex.user:
            return Check(
                "account",
                False,
                f"{ex.user} is a {role.role}: it is traded by its master, with vaultAddress set",
                f"set vault_address = {ex.user!r} and account_address to the master"
                + (f" {role.master}" if role.master else ""),
            )
        return Check("account", True, f"{ex.user} is a {role.role}, traded through vault_address")
    if role.role == "missing":
        return Check(
            "account",
            False,
            f"{ex.user} is unknown on this network (no deposits)",
            "check account_address and the network (testnet and mainnet are separate)",
        )
    return Check("account", True, f"{ex.user} is a {role.role} account")


def _signer(ex: Any) -> Check:
    signer = (getattr(ex, "signer_address", None) or "").lower()
    if not signer:
        return Check("signer", True, "no signing key configured: read-only")
    master = (getattr(ex, "account_address", None) or ex.user).lower()
    if signer == master:
        return Check("signer", True, "the key is the account's own (an API wallet is safer for a bot)")
    agents = account_info.extra_agents(ex.ask, master)
    if signer in agents:
        return Check("signer", True, f"the key is an API wallet approved for {master}")
    return Check(
        "signer",
        False,
        f"the key's address {signer} is neither {master} nor one of its {len(agents)} approved API wallets",
        "approve the key as an API wallet on app.hyperliquid.xyz (More → API), or use the right key",
    )


def _mode(ex: Any) -> Check:
    mode = parse_abstraction(ex.ask({"type": "userAbstraction", "user": ex.user}))
    detail = f"{mode_name(mode)} ({mode})"
    if mode == "portfolioMargin":
        detail += ": planned as unified with buying power bounded by max_gross_leverage (pre-alpha mode)"
    if mode == "dexAbstraction":
        detail += ": being discontinued by Hyperliquid"
    return Check("mode", True, detail)


def _dexes(ex: Any) -> Check:
    dexes = tuple(getattr(ex, "dexes", ()))
    if not dexes:
        return Check("dexes", True, "main dex only (no HIP-3 dex configured)")
    listed = ex.ask({"type": "perpDexs"})
    names = {d.get("name") for d in listed if isinstance(d, dict)} if isinstance(listed, list) else set()
    unknown = [d for d in dexes if d not in names]
    if unknown:
        return Check("dexes", False, f"not listed by perpDexs: {', '.join(unknown)}", "fix [hyperliquid] dexes")
    return Check("dexes", True, f"HIP-3 dexes read: {', '.join(dexes)}")


def _open_orders(svc: Services, ex: Any) -> Check:
    orders = ex.open_orders()
    ours = [o for o in orders if o.cloid and svc.store.journal.get(o.cloid.lower()) is not None]
    twaps = account_info.active_twaps(account_info.twap_history(ex.ask, ex.user))
    detail = f"{len(orders)} open orders ({len(ours)} ours, {len(orders) - len(ours)} not ours)"
    detail += f"; {len(twaps)} TWAPs running"
    unresolved = svc.store.journal.open_rows()
    if unresolved:
        return Check(
            "open_orders",
            False,
            detail + f"; {len(unresolved)} journaled orders unresolved",
            "run any execute or heartbeat tick: it reconciles the journal with the exchange first",
        )
    return Check("open_orders", True, detail)


def _dead_man(svc: Services) -> Check:
    switch = DeadManSwitch(None, svc.store.records, lambda: svc.clock().timestamp())
    armed = svc.store.records.get(ARMED)
    triggers = switch.triggers_today()
    if armed:
        return Check(
            "dead_man_switch",
            False,
            f"left armed (until {armed} ms) by an execution that did not finish: it cancels every open order",
            "run `rebalancer cancel` or an execute: the executor disarms it when nothing of ours rests",
        )
    if triggers >= MAX_TRIGGERS_PER_DAY:
        return Check("dead_man_switch", False, f"{triggers} triggers today (Hyperliquid allows 10)", "wait a day")
    return Check(
        "dead_man_switch", True, f"not armed (armed only while a TWAP of ours runs); {triggers} triggers today"
    )


def _rate_budget(ex: Any) -> Check:
    used, cap = account_info.rate_limit(ex.ask, ex.user)
    left = cap - used
    detail = f"{left:,} of {cap:,} actions left"
    if left < RATE_BUDGET_MIN:
        return Check("rate_budget", False, detail, "each $1 traded adds one action; wait or trade volume in")
    return Check("rate_budget", True, detail)
