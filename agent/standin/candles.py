"""``candleSnapshot`` on the stand-in: the snapshot's own candles, else replayed real daily history.

A coin whose snapshot carries candles for the interval gets exactly those (real Hyperliquid answers); at
``1d``, when they end before the stand-in's today, replayed days bridge them to today's mid. Every
other coin the stand-in lists gets **replayed real history** at ``1d``: the daily closes shipped in
``agent/data/market_history/daily_closes.csv`` (Binance spot via CryptoDataDownload; see that folder's
README), the coin's own column when there is one (a spot pair by its base token, ``UBTC`` → ``BTC``), else
the column a stable hash of its name picks. The series is rescaled so its last close is the coin's mid now,
and dated so its last candle is the stand-in's current UTC day: prices consistent with the mids, ending at
the stand-in's own clock. They are replayed, not the coin's real past: the README and ``source`` say so.

Shape as Hyperliquid answers it: ``{"t", "T", "s", "i", "o", "c", "h", "l", "v", "n"}`` with prices and
volume as strings; the open is the previous close, high/low the larger/smaller of open and close.
"""

from __future__ import annotations

import csv
import math
import zlib
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.standin.engine import StandIn

DAY_MS = 86_400_000
HISTORY_FILE = Path(__file__).resolve().parents[1] / "data" / "market_history" / "daily_closes.csv"
REPLAY_LABEL = "replayed real daily closes (agent/data/market_history), rescaled to the stand-in's mid"


@cache
def _columns() -> dict[str, tuple[float, ...]]:
    with HISTORY_FILE.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], [r for r in rows[1:] if r]
    return {name: tuple(float(r[i]) for r in body) for i, name in enumerate(header) if i > 0}


def replay_column(coin: str, base_token: str | None = None) -> str:
    """The shipped column replayed for ``coin``: its own, its base token's, else one picked by a stable hash."""
    cols = _columns()
    for name in (coin, base_token, base_token[1:] if base_token and base_token.startswith("U") else None):
        if name and name in cols:
            return name
    names = sorted(cols)
    return names[zlib.crc32(coin.encode()) % len(names)]


def replayed_daily(
    coin: str, mid: Decimal, today_ms: int, base_token: str | None = None, closes: tuple[float, ...] | None = None
) -> list[dict[str, Any]]:
    """Every day of ``closes`` (default: the shipped column replayed for ``coin``), rescaled to end at
    ``mid``, the last candle opening today."""
    closes = closes or _columns()[replay_column(coin, base_token)]
    scale = float(mid) / closes[-1]
    first = today_ms - (len(closes) - 1) * DAY_MS
    out = []
    prev = closes[0] * scale
    for k, raw in enumerate(closes):
        c = raw * scale
        t = first + k * DAY_MS
        out.append(
            {
                "t": t,
                "T": t + DAY_MS - 1,
                "s": coin,
                "i": "1d",
                "o": f"{prev:.8g}",
                "c": f"{c:.8g}",
                "h": f"{max(prev, c):.8g}",
                "l": f"{min(prev, c):.8g}",
                "v": "0.0",
                "n": 0,
            }
        )
        prev = c
    out[-1]["c"] = str(mid)  # exactly the mid, not a float's rounding of it
    return out


def candle_snapshot(ex: StandIn, req: Mapping[str, Any], _own: bool) -> list[dict[str, Any]]:
    inner = req["req"]
    coin, interval = str(inner["coin"]), str(inner["interval"])
    start, end = int(inner["startTime"]), int(inner.get("endTime") or 2**63)
    candles = list((ex.snapshot.get("candles") or {}).get(coin, {}).get(interval, []))
    if interval == "1d" and coin in ex.markets_by_coin and ex.mids.get(coin) is not None:
        now = ex.now_ms()
        today = now - now % DAY_MS
        base = _base_name(ex, coin)
        if not candles:
            candles = replayed_daily(coin, ex.mids[coin], today, base)
        elif int(candles[-1]["t"]) < today:  # recorded candles kept; replayed days bridge them to today
            candles += bridge(coin, candles[-1], ex.mids[coin], today, base)
    return [dict(c) for c in candles if start <= int(c["t"]) <= end]


def bridge(
    coin: str, last: Mapping[str, Any], mid: Decimal, today_ms: int, base_token: str | None = None
) -> list[dict[str, Any]]:
    """Daily candles from the day after ``last`` to today: the replayed column's last moves, bent (a linear
    drift in log price) so they start at ``last``'s close and end exactly at ``mid``."""
    closes = _columns()[replay_column(coin, base_token)]
    n = (today_ms - int(last["t"])) // DAY_MS
    if n <= 0:
        return []
    x = [math.log(v) for v in (closes[-(n + 1) :] if n < len(closes) else closes)]
    n = min(n, len(x) - 1)
    start, goal = math.log(float(last["c"])), math.log(float(mid))
    drift = (goal - start - (x[-1] - x[0])) / n
    path = [math.exp(start + (x[k] - x[0]) + drift * k) for k in range(n + 1)]
    out = []
    for k in range(1, n + 1):
        t = today_ms - (n - k) * DAY_MS
        o, c = path[k - 1], path[k]
        out.append(
            {
                "t": t,
                "T": t + DAY_MS - 1,
                "s": coin,
                "i": "1d",
                "o": f"{o:.8g}",
                "c": f"{c:.8g}",
                "h": f"{max(o, c):.8g}",
                "l": f"{min(o, c):.8g}",
                "v": "0.0",
                "n": 0,
            }
        )
    out[-1]["c"] = str(mid)
    return out


def _base_name(ex: StandIn, coin: str) -> str | None:
    market = ex.markets_by_coin[coin]
    if not market.spot or market.base_token is None:
        return None
    token = ex.tokens.get(market.base_token)
    return getattr(token, "name", None)
