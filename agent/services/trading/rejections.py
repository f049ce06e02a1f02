"""Previews the person said no to: recorded with their reason, and shown to the next decision.

One use case for every way in (CLI ``plans reject``, MCP ``reject_plan``, the page's Reject button, "no" or
"reject <reason>" in the chat): :func:`reject` burns a ``previewed`` plan's token and keeps the reason, the
time and the source. A preview left to expire is a rejection too ("expired unconfirmed", by ``expiry``): no
background job notices it; :func:`record_expired` does, whenever previews are next looked at (a listing,
the next preview, the next decision).

The next decision's prompt carries the last few rejections (:func:`recent`): the plan in one line and the
reason, bounded in number, age and length. The reason is the person's own text: it is kept on one line, with
control characters removed, and the prompt renders it inside a delimited data block.

Expiry and the local clock: a token's expiry is on the exchange's clock, and these sweeps may run without an
exchange (``plans`` reads only the store). A plan is recorded as expired only once the local clock is past its
expiry by more than ``[hyperliquid] max_clock_skew``, the most execute lets the clocks differ: a token that the
exchange's clock would still honour is never burnt by a local clock running ahead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from agent.core.domain import RebalancingPlan
from agent.core.errors import ConfirmationError, ValidationError

if TYPE_CHECKING:
    from agent.services.context import AccountContext

#: Longest reason kept (characters); a longer one is refused, not cut, so what is stored is what was said.
MAX_REASON = 500
#: What a preview left to expire is recorded with.
EXPIRED_REASON = "expired unconfirmed"
#: Rejections a decision sees: at most this many, newest first, from the last ``RECENT_DAYS`` days.
RECENT_LIMIT = 3
RECENT_DAYS = 30
#: Trades named in one plan's line before "+N more".
LINE_TRADES = 4

SOURCES = frozenset({"cli", "mcp", "web", "chat", "heartbeat", "strategist"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True)
class Rejection:
    """One rejected preview as the next decision sees it."""

    plan_id: str
    at: str
    by: str
    plan: str  # the plan in one line
    reason: str

    @property
    def day(self) -> str:
        return self.at[:10]


def clean_reason(reason: object) -> str:
    """The reason on one line, or a ``ValidationError`` (empty, only blanks, or longer than ``MAX_REASON``)."""
    if not isinstance(reason, str):
        raise ValidationError("reason: a text is required")
    text = " ".join(_CONTROL.sub(" ", reason).split())
    if not text:
        raise ValidationError("reason: say why the plan is rejected (an empty reason teaches nothing)")
    if len(text) > MAX_REASON:
        raise ValidationError(f"reason: {len(text)} characters; at most {MAX_REASON}")
    return text


def reject(ctx: AccountContext, plan_id: str, reason: str, *, source: str) -> dict[str, Any]:
    """Reject a ``previewed`` plan: its token is spent and the reason kept for the next decision.

    Bad input changes nothing: an empty or oversized reason and an unknown plan id are a ``ValidationError``;
    a plan that is no longer previewed (executed, refused, rejected, expired) a ``ConfirmationError``.
    Returns the plan's summary with its ``rejection``.
    """
    text = clean_reason(reason)
    if not isinstance(plan_id, str) or not plan_id:
        raise ValidationError("plan_id: a plan id is required")
    stored = ctx.store.plans.get(plan_id)
    if stored is None:
        raise ValidationError(f"unknown plan id {plan_id[:80]!r}")
    at = ctx.clock().isoformat(timespec="milliseconds")
    # a still-previewed plan takes the person's reason even when its token has just expired: it says more
    if not ctx.store.plans.reject(plan_id, "rejected", reason=text, by=_source(source), at=at):
        now = ctx.store.plans.get(plan_id)
        status = now.status if now else stored.status
        raise ConfirmationError(f"only a previewed plan can be rejected; plan {plan_id} is {status}")
    _close_cycle(ctx, plan_id, "rejected", f"rejected ({_source(source)}): {text}")
    record_expired(ctx)
    after = ctx.store.plans.get(plan_id)
    assert after is not None
    return after.summary()


def record_expired(ctx: AccountContext) -> list[str]:
    """Record the previews whose token has expired as rejected by expiry; their ids.

    Every account's in this store: expiry is a matter of time only, and a command that reads only the store
    (``plans``) does not know which account the exchange would say it is.
    """
    skew = ctx.settings.hyperliquid.max_clock_skew
    now = ctx.clock()
    done = []
    for stored in ctx.store.plans.previewed():
        if stored.expires_at is None or now - skew <= stored.expires_at:
            continue
        at = stored.expires_at.isoformat(timespec="milliseconds")
        if ctx.store.plans.reject(stored.plan.plan_id, "expired", reason=EXPIRED_REASON, by="expiry", at=at):
            _close_cycle(ctx, stored.plan.plan_id, "expired", f"expired: {EXPIRED_REASON}")
            done.append(stored.plan.plan_id)
    return done


def _close_cycle(ctx: AccountContext, plan_id: str, status: str, reason: str) -> None:
    """A heartbeat cycle waiting for this plan's confirmation ends with it (``history`` shows the reason)."""
    cycle = ctx.store.cycles.for_plan(plan_id)
    if cycle is not None and cycle["status"] == "pending-confirm":
        ctx.store.cycles.finish(cycle["id"], status, reason)


def recent(
    ctx: AccountContext, *, limit: int = RECENT_LIMIT, days: int = RECENT_DAYS, every_account: bool = False
) -> list[Rejection]:
    """This account's last rejections (expired previews included; ``every_account``: the store's, as the
    records people read show them), newest first, within ``days``. Reads only: the decide step records
    expired previews first (:func:`record_expired`), and so does :func:`listed`."""
    since = (ctx.clock() - timedelta(days=days)).isoformat()
    out = []
    account = None if every_account else ctx.account
    for stored in ctx.store.plans.rejected(since=since, account=account, limit=limit):
        r = stored.rejection or {}
        out.append(
            Rejection(
                plan_id=stored.plan.plan_id,
                at=str(r.get("at") or ""),
                by=str(r.get("by") or ""),
                plan=plan_line(stored.plan),
                reason=clean_reason(r.get("reason") or EXPIRED_REASON)[:MAX_REASON],
            )
        )
    return out


def listed(ctx: AccountContext, *, days: int = 60, limit: int = 50) -> list[Rejection]:
    """The rejected previews people read (``history``, the page's history): every account's in this store,
    expired previews recorded first."""
    record_expired(ctx)
    return recent(ctx, limit=limit, days=days, every_account=True)


def plan_line(plan: RebalancingPlan) -> str:
    """A plan in one short line: each trade's coin and weight from → to (in %), then its turnover and where its
    target came from, e.g. ``ETH 30→20%, BTC 10→20% ($2,000, strategist)``."""
    parts = [f"{a.coin} {_pct(a.from_weight)}→{_pct(a.to_weight)}%" for a in plan.actions[:LINE_TRADES]]
    if len(plan.actions) > LINE_TRADES:
        parts.append(f"+{len(plan.actions) - LINE_TRADES} more")
    trades = ", ".join(parts) or "no trades"
    source = f", {plan.target_source}" if plan.target_source else ""
    return f"{trades} (${plan.summary.turnover_usd:,.0f}{source})"


def _pct(w: float) -> str:
    return f"{w * 100:.0f}" if abs(w * 100 - round(w * 100)) < 0.05 else f"{w * 100:.1f}"


def _source(source: str) -> str:
    return source if source in SOURCES else "other"
