"""The account's history views: ``portfolio`` (account value and PnL over time) and ``userFunding``.

Shapes as Hyperliquid answers them (recorded: ``hl-recorded/test_portfolio.yaml`` and
``test_user_funding_history_*.yaml``, SDK cassettes, MIT):

- ``portfolio``: ``[[period, {"accountValueHistory": [[ms, "value"], …], "pnlHistory": [[ms, "pnl"], …],
  "vlm": "…"}], …]`` for ``day``, ``week``, ``month``, ``allTime`` (spot and perp) and ``perpDay``,
  ``perpWeek``, ``perpMonth``, ``perpAllTime`` (the perp account only). PnL is the value's change since the
  period's first sample (the stand-in has no deposits or withdrawals), ``vlm`` the traded notional in it.
- ``userFunding``: ``[{"time": ms, "hash": "0x…", "delta": {"type": "funding", "coin", "usdc", "szi",
  "fundingRate", "nSamples"}}, …]`` between ``startTime`` and ``endTime`` (``usdc`` > 0: received).

The stand-in samples the account value on its own clock: at most once a minute, whenever the account is
asked about (and on every ``portfolio`` request), so the history follows prices, fills and funding.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from agent.standin import unified
from agent.standin.rules import ZERO, fmt

if TYPE_CHECKING:
    from agent.standin.engine import StandIn

SAMPLE_EVERY_MS = 60_000
MAX_SAMPLES = 5_000
MAX_FUNDING = 500
DAY_MS = 86_400_000
PERIODS = (("day", DAY_MS), ("week", 7 * DAY_MS), ("month", 30 * DAY_MS), ("allTime", None))


def values(ex: StandIn) -> tuple[Decimal, Decimal]:
    """(total, perp) account value now: perp account value (every dex) plus spot balances at mid (USDC at 1);
    on a unified or portfolio-margin account, spot balances at mid plus perp unrealized PnL."""
    perp = sum((ex.perp_summary(d).account_value for d in ("", *ex.dexes)), ZERO)
    spot = ZERO
    if ex.account.unified:
        upnl = sum((p.szi * (ex.mark(p.coin) - p.entry_px) for p in ex.account.positions.values()), ZERO)
        spot += unified.usdc_total(ex) + upnl - (ex.account.balances[0].total if 0 in ex.account.balances else ZERO)
    for bal in ex.account.balances.values():
        if bal.token == 0:
            spot += bal.total
            continue
        market = next((m for m in ex.markets_by_coin.values() if m.spot and m.base_token == bal.token), None)
        mid = ex.mids.get(market.coin) if market else None
        if mid is not None:
            spot += bal.total * mid
    return (spot if ex.account.unified else perp + spot), perp  # unified: perp states are not added


def record(ex: StandIn, *, force: bool = False) -> None:
    """Append a value sample when the last one is a minute old (or ``force``)."""
    hist = ex.account.value_history
    now = ex.now_ms()
    if hist and not force and now - hist[-1][0] < SAMPLE_EVERY_MS:
        return
    total, perp = values(ex)
    if hist and hist[-1][0] == now:
        hist[-1] = (now, total, perp)
    else:
        hist.append((now, total, perp))
    if len(hist) > MAX_SAMPLES:
        del hist[: len(hist) - MAX_SAMPLES]


def _volume_since(ex: StandIn, start: int | None) -> Decimal:
    vlm = ZERO
    for f in ex.account.fills:
        if start is None or int(f["time"]) >= start:  # type: ignore[call-overload]
            vlm += Decimal(str(f["px"])) * Decimal(str(f["sz"]))
    return vlm


def portfolio(ex: StandIn, _req: Mapping[str, Any], own: bool) -> list[Any]:
    if own:
        record(ex, force=True)
    hist = ex.account.value_history if own else []
    now = ex.now_ms()
    out: list[Any] = []
    for prefix, col in (("", 1), ("perp", 2)):
        for name, span in PERIODS:
            start = None if span is None else now - span
            rows = [(h[0], h[col]) for h in hist if start is None or h[0] >= start]
            first = Decimal(rows[0][1]) if rows else ZERO
            key = name if not prefix else prefix + name[0].upper() + name[1:]
            out.append(
                [
                    key,
                    {
                        "accountValueHistory": [[t, fmt(Decimal(v), 6)] for t, v in rows],
                        "pnlHistory": [[t, fmt(Decimal(v) - first, 6)] for t, v in rows],
                        "vlm": fmt(_volume_since(ex, start) if own else ZERO, 6),
                    },
                ]
            )
    return out


def user_funding(ex: StandIn, req: Mapping[str, Any], own: bool) -> list[dict[str, Any]]:
    if not own:
        return []
    start = int(req["startTime"])
    end = req.get("endTime")
    picked = [
        dict(e)
        for e in ex.account.funding_events
        if int(e["time"]) >= start and (end is None or int(e["time"]) <= int(end))  # type: ignore[call-overload]
    ]
    return picked[:MAX_FUNDING]


def move_price(ex: StandIn, coin: str, px: Decimal) -> None:
    """Move a coin's mid and mark to ``px`` and shift its book by the same ratio (demos and tests).

    Spot pairs whose base token tracks the coin (``UBTC`` for ``BTC``) move with it.
    """
    with ex.lock:
        names = [coin]
        for m in ex.markets_by_coin.values():
            if m.spot and m.base_token is not None:
                token = ex.tokens.get(m.base_token)
                if token is not None and token.name in (coin, "U" + coin):
                    names.append(m.coin)
        for name in dict.fromkeys(names):
            old = ex.mids.get(name)
            if old is None or old <= 0:
                continue
            ratio = px / old
            ex.mids[name] = px
            ex.marks[name] = px
            book = ex.books.get(name)
            if book is not None:
                for level in (*book.bids, *book.asks):
                    level.px = level.px * ratio
        record(ex, force=True)
