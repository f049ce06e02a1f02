"""``doctor`` on Binance: the key can trade spot and cannot withdraw, the clocks agree, the IP restriction.

- ``key``: ``apiRestrictions``: spot trading enabled; withdrawals **disabled** (a trading bot's key never needs
  them). A key that may withdraw fails the check, and the heartbeat refuses autonomy ``auto`` on it unless the
  config says ``[exchange] allow_withdrawal_keys = true``;
- ``ip_restriction``: whether the key is bound to IP addresses (recommended; a warning when not);
- ``clock``: the local clock against Binance's (``/api/v3/time``): a signed request older than its
  ``recvWindow`` (5 s) is refused with ``-1021``;
- ``open_orders``: open orders, ours (journaled) and the user's own (never cancelled).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agent.core.errors import RebalancerError
from agent.services.evidence.checks import Check

if TYPE_CHECKING:
    from agent.services.context import AccountContext

MAX_OFFSET_S = 1.0


def run(acct: AccountContext, ex: Any) -> list[Check]:
    checks: list[Check] = []
    for fn in (_key, _clock, _open_orders):
        try:
            checks.extend(fn(acct, ex))
        except RebalancerError as e:
            checks.append(Check(fn.__name__.strip("_"), False, str(e), "check the network, key and secret"))
    return checks


def withdrawals_enabled(ex: Any) -> bool:
    return bool(ex.api_restrictions().get("enableWithdrawals"))


def _key(acct: AccountContext, ex: Any) -> list[Check]:
    r = ex.api_restrictions()
    out = []
    if not r.get("enableSpotAndMarginTrading"):
        out.append(Check("key", False, "the API key cannot trade spot", "enable Spot & Margin Trading for the key"))
    elif r.get("enableWithdrawals"):
        allowed = acct.settings.exchange.allow_withdrawal_keys
        out.append(
            Check(
                "key",
                False,
                "the API key can withdraw"
                + ("; allowed by [exchange] allow_withdrawal_keys" if allowed else "; autonomy auto is refused on it"),
                "disable withdrawals for this key on Binance (a rebalancer never withdraws)",
            )
        )
    else:
        out.append(Check("key", True, "trades spot; cannot withdraw"))
    if r.get("ipRestrict"):
        out.append(Check("ip_restriction", True, "the key is bound to IP addresses"))
    else:
        out.append(
            Check(
                "ip_restriction",
                False,
                "the key works from any IP address",
                "restrict the key to this machine's IP on Binance",
            )
        )
    return out


def _clock(acct: AccountContext, ex: Any) -> list[Check]:
    ex.server_time_ms(fresh=True)
    offset = ex.clock_offset_s or 0.0
    detail = f"local clock {offset:+.3f} s from Binance's"
    if abs(offset) > MAX_OFFSET_S:
        return [Check("clock", False, detail, "sync the clock (NTP): signed requests carry a 5 s recvWindow")]
    return [Check("clock", True, detail)]


def _open_orders(acct: AccountContext, ex: Any) -> list[Check]:
    orders = ex.open_orders()
    ours = [o for o in orders if o.cloid and acct.store.journal.get(o.cloid.lower()) is not None]
    theirs = len(orders) - len(ours)
    return [Check("open_orders", True, f"{len(ours)} ours, {theirs} the user's own (never cancelled)")]
