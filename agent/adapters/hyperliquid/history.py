"""Parsing of the account-history answers: ``portfolio``, ``userFunding`` and daily ``candleSnapshot``.

Shapes from the recorded answers (``hl-recorded/test_portfolio.yaml``, ``test_user_funding_history_*.yaml``,
``test_get_candles_snapshot.yaml``; hyperliquid-python-sdk cassettes, MIT). A malformed answer is a
``SnapshotError`` naming the request, never a silent empty history.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agent.core.errors import SnapshotError
from agent.core.performance import FundingEvent, ValuePoint

if TYPE_CHECKING:
    from agent.adapters.hyperliquid.info import InfoClient


def _num(x: Any, what: str) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise SnapshotError(f"{what}: {x!r} is not a number") from None
    if not math.isfinite(v):
        raise SnapshotError(f"{what}: {x!r} is not finite")
    return v


def parse_portfolio(answer: Any, *, perp_only: bool = False) -> dict[str, list[ValuePoint]]:
    """Each period's value and PnL samples: ``day``, ``week``, ``month``, ``allTime`` (or the ``perp*`` ones,
    renamed to the same keys). PnL differences are exact within a period, not across periods."""
    if not isinstance(answer, list) or not all(isinstance(p, list) and len(p) == 2 for p in answer):
        raise SnapshotError("portfolio: expected a list of [period, {accountValueHistory, pnlHistory}]")
    periods = {str(k): v for k, v in answer}
    out: dict[str, list[ValuePoint]] = {}
    for name in ("day", "week", "month", "allTime"):
        key = "perp" + name[0].upper() + name[1:] if perp_only else name
        data = periods.get(key)
        if data is None:
            continue
        if not isinstance(data, dict):
            raise SnapshotError(f"portfolio {key}: expected an object")
        try:
            values = {int(t): _num(v, f"portfolio {key} value") for t, v in data.get("accountValueHistory") or []}
            pnls = {int(t): _num(v, f"portfolio {key} pnl") for t, v in data.get("pnlHistory") or []}
        except (TypeError, ValueError):
            raise SnapshotError(f"portfolio {key}: expected [time, value] pairs") from None
        out[name] = [ValuePoint(t, values[t], pnls.get(t, 0.0)) for t in sorted(values)]
    if not any(out.values()):
        raise SnapshotError("portfolio: no period with an account value history")
    return out


def parse_user_funding(answer: Any) -> list[FundingEvent]:
    if not isinstance(answer, list):
        raise SnapshotError("userFunding: expected a list")
    out = []
    for e in answer:
        delta = e.get("delta") if isinstance(e, dict) else None
        if not isinstance(delta, dict) or delta.get("type") != "funding" or "time" not in e:
            raise SnapshotError("userFunding: an element without time and a funding delta")
        out.append(FundingEvent(int(e["time"]), str(delta.get("coin")), _num(delta.get("usdc"), "userFunding usdc")))
    return out


def parse_daily_candles(answer: Any) -> list[tuple[int, float, float]]:
    """(open time ms, close, traded value ≈ close × base volume) per candle."""
    if not isinstance(answer, list):
        raise SnapshotError("candleSnapshot: expected a list")
    out = []
    for c in answer:
        if not isinstance(c, dict) or not {"t", "c", "v"} <= c.keys():
            raise SnapshotError("candleSnapshot: a candle without t, c and v")
        close = _num(c["c"], "candle close")
        out.append((int(c["t"]), close, close * _num(c["v"], "candle volume")))
    return out


class HistoryReads:
    """``HistoryReads(info, user, wire_name)``: the account's history (the trading client's ``HistoryPort``).

    ``wire_name`` turns a coin's name into the name its candles are asked for by (``UETH/USDC`` → ``@151``).
    """

    def __init__(self, info: InfoClient, user: str, wire_name: Callable[[str], str]) -> None:
        self.info, self.user, self.wire_name = info, user, wire_name

    def value_history(self) -> dict[str, list[ValuePoint]]:
        """The ``portfolio`` answer: account value and PnL samples per period (day, week, month, allTime)."""
        return parse_portfolio(self.info.post({"type": "portfolio", "user": self.user}))

    def funding_since(self, ms: int) -> list[FundingEvent]:
        return parse_user_funding(self.info.post({"type": "userFunding", "user": self.user, "startTime": int(ms)}))

    def daily_candles(self, coin: str, start_ms: int, end_ms: int) -> list[tuple[int, float, float]]:
        body = {"coin": self.wire_name(coin), "interval": "1d", "startTime": int(start_ms), "endTime": int(end_ms)}
        return parse_daily_candles(self.info.post({"type": "candleSnapshot", "req": body}))
