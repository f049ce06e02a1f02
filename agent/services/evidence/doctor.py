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

``doctor`` always asks afresh and keeps what it found in the store. ``status`` (:func:`kept`) shows the
doctor's verdict without spending more than one more account read on it:

- the account's wiring (``account``, ``signer``, ``dexes``: the address's role, the key's approval, the dexes
  listed) changes only when someone changes it, and ``userRole`` alone weighs 60. ``status`` never reads it: it
  shows what ``doctor`` last found for the same wiring (network, addresses, dexes) and, once that is older than a
  day or was never found, names those checks as unchecked, pointing at ``rebalancer doctor``. A failing verdict
  stays shown whatever its age (a problem the doctor knows is never hidden by time; ``doctor`` clears it);
- the rest (``mode``, ``open_orders``, ``dead_man_switch``, ``rate_budget``: what trading changes) is asked again
  once per heartbeat interval.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from agent.adapters.hyperliquid import account_info
from agent.core.accounts import mode_name, parse_abstraction
from agent.core.errors import RebalancerError
from agent.services.evidence.checks import Check
from agent.services.ports import InfoPort, KeyRestrictionsPort, SimulatedPort
from agent.services.trading.deadman import ARMED, MAX_TRIGGERS_PER_DAY, DeadManSwitch

if TYPE_CHECKING:
    from agent.services.app import Services

#: below this many actions left, the address is close to being throttled.
RATE_BUDGET_MIN = 200


def _exchange_reads(svc: Services) -> InfoPort | None:
    """The exchange that answers /info (a paper exchange reads through its source)."""
    ex = svc.exchange
    for candidate in (ex, ex.source if isinstance(ex, SimulatedPort) else None):
        if isinstance(candidate, InfoPort):
            return candidate
    return None


#: the checks of how the account is wired, read by ``doctor`` only (``status`` shows them for a day).
WIRING = ("account", "signer", "dexes")
#: how long ``status`` takes the doctor's wiring verdict as current.
WIRING_FRESH = timedelta(days=1)


@dataclass(frozen=True)
class Kept:
    """What ``status`` shows of the doctor: the checks known (in the doctor's order) and the wiring checks
    with no verdict younger than a day for this wiring (run ``rebalancer doctor``)."""

    checks: list[Check]
    unchecked: list[str] = field(default_factory=list)

    @property
    def failing(self) -> list[str]:
        return [c.check for c in self.checks if not c.ok]


def _key(svc: Services) -> str:
    return f"doctor:{svc.account}"


def _wiring_key(svc: Services) -> str:
    return f"doctor-wiring:{svc.account}"


def _wiring_of(svc: Services, ex: InfoPort) -> dict[str, Any]:
    """What the wiring verdict is about: another address, key, vault, network or dex list is another wiring."""
    return {
        "network": svc.settings.network,
        "user": ex.user.lower(),
        "account": (ex.account_address or "").lower(),
        "signer": (ex.signer_address or "").lower(),
        "vault": (ex.vault_address or "").lower(),
        "dexes": list(ex.dexes),
    }


def _age(svc: Services, kept: Any) -> timedelta | None:
    if isinstance(kept, dict) and isinstance(kept.get("at"), str):
        age = svc.clock() - datetime.fromisoformat(kept["at"])
        return age if age >= timedelta(0) else None
    return None


def kept(svc: Services) -> Kept:
    """The doctor's verdict for ``status``: the wiring as ``doctor`` last found it (never read here), the other
    checks from the store while younger than ``[heartbeat] interval``, else asked again (and kept)."""
    ex = None if svc.settings.exchange.is_binance else _exchange_reads(svc)
    live = svc.store.records.get(_key(svc))
    age = _age(svc, live)
    if age is not None and age < svc.settings.heartbeat.interval:
        checks = [Check(**c) for c in live.get("checks", [])]
    elif ex is None:  # Binance (every check is cheap and live) or no exchange to read
        return Kept(run(svc))
    else:
        checks = _steps(svc, ex, [n for n in _ORDER if n not in WIRING])
        svc.store.records.set(_key(svc), {"at": svc.clock().isoformat(), "checks": [c.to_public() for c in checks]})
    if ex is None:
        return Kept(checks)
    checks = [c for c in checks if c.check not in WIRING]  # the wiring: only as found for this wiring
    wiring = svc.store.records.get(_wiring_key(svc))
    found: list[Check] = []
    unchecked = list(WIRING)
    if isinstance(wiring, dict) and wiring.get("of") == _wiring_of(svc, ex):
        found = [Check(**c) for c in wiring.get("checks", [])]
        wiring_age = _age(svc, wiring)
        if wiring_age is not None and wiring_age < WIRING_FRESH:
            unchecked = []
        else:  # an old verdict: its failures still shown, its passes no longer vouched for
            found = [c for c in found if not c.ok]
    by_name = {c.check: c for c in [*checks, *found]}
    return Kept([by_name[n] for n in _ORDER if n in by_name], unchecked)


def cached(svc: Services) -> list[Check]:
    """The checks :func:`kept` shows (the wiring as last found; the rest at most a heartbeat interval old)."""
    return kept(svc).checks


def run(svc: Services) -> list[Check]:
    """Every check afresh, in order (kept in the store for :func:`kept`); a check that raises becomes a failing
    line."""
    if svc.settings.exchange.is_binance and isinstance(svc.exchange, KeyRestrictionsPort):
        from agent.services.evidence import doctor_binance

        checks = doctor_binance.run(svc.context, svc.exchange)
    else:
        ex = _exchange_reads(svc)
        if ex is None:
            return [Check("exchange", False, "no live exchange to check (a snapshot?)", "run without --snapshot")]
        checks = _steps(svc, ex, _ORDER)
        wiring = [c.to_public() for c in checks if c.check in WIRING]
        svc.store.records.set(
            _wiring_key(svc), {"at": svc.clock().isoformat(), "of": _wiring_of(svc, ex), "checks": wiring}
        )
    svc.store.records.set(_key(svc), {"at": svc.clock().isoformat(), "checks": [c.to_public() for c in checks]})
    return checks


_ORDER = ("account", "signer", "mode", "dexes", "open_orders", "dead_man_switch", "rate_budget")


def _steps(svc: Services, ex: InfoPort, names: tuple[str, ...] | list[str]) -> list[Check]:
    steps: dict[str, Callable[[], Check]] = {
        "account": lambda: _account(svc, ex),
        "signer": lambda: _signer(ex),
        "mode": lambda: _mode(ex),
        "dexes": lambda: _dexes(ex),
        "open_orders": lambda: _open_orders(svc, ex),
        "dead_man_switch": lambda: _dead_man(svc),
        "rate_budget": lambda: _rate_budget(ex),
    }
    out = []
    for name in names:
        try:
            out.append(steps[name]())
        except RebalancerError as exc:
            out.append(Check(name, False, f"could not check: {exc}", "check the network and try again"))
    return out


def _account(svc: Services, ex: InfoPort) -> Check:
    role = account_info.user_role(ex.ask, ex.user)
    vault = (ex.vault_address or "").lower()
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


def _signer(ex: InfoPort) -> Check:
    signer = (ex.signer_address or "").lower()
    if not signer:
        return Check("signer", True, "no signing key configured: read-only")
    master = (ex.account_address or ex.user).lower()
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


def _mode(ex: InfoPort) -> Check:
    mode = parse_abstraction(ex.ask({"type": "userAbstraction", "user": ex.user}))
    detail = f"{mode_name(mode)} ({mode})"
    if mode == "portfolioMargin":
        detail += ": planned as unified with buying power bounded by max_gross_leverage (pre-alpha mode)"
    if mode == "dexAbstraction":
        detail += ": being discontinued by Hyperliquid"
    return Check("mode", True, detail)


def _dexes(ex: InfoPort) -> Check:
    dexes = ex.dexes
    if not dexes:
        return Check("dexes", True, "main dex only (no HIP-3 dex configured)")
    listed = ex.ask({"type": "perpDexs"})
    names = {d.get("name") for d in listed if isinstance(d, dict)} if isinstance(listed, list) else set()
    unknown = [d for d in dexes if d not in names]
    if unknown:
        return Check("dexes", False, f"not listed by perpDexs: {', '.join(unknown)}", "fix [hyperliquid] dexes")
    return Check("dexes", True, f"HIP-3 dexes read: {', '.join(dexes)}")


def _open_orders(svc: Services, ex: InfoPort) -> Check:
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


def _rate_budget(ex: InfoPort) -> Check:
    used, cap = account_info.rate_limit(ex.ask, ex.user)
    left = cap - used
    detail = f"{left:,} of {cap:,} actions left"
    if left < RATE_BUDGET_MIN:
        return Check("rate_budget", False, detail, "each $1 traded adds one action; wait or trade volume in")
    return Check("rate_budget", True, detail)
