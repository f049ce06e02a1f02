"""``candleSnapshot`` on the stand-in: the snapshot's own candles, else replayed real daily history.

A coin whose snapshot carries candles for the interval gets exactly those (real Hyperliquid answers). Every
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
    candles = (ex.snapshot.get("candles") or {}).get(coin, {}).get(interval, [])
    if interval == "1d" and coin in ex.markets_by_coin and ex.mids.get(coin) is not None:
        now = ex.now_ms()
        today = now - now % DAY_MS
        if not candles or int(candles[-1]["t"]) < today:  # none, or ending before the stand-in's today
            own = tuple(float(c["c"]) for c in candles) if len(candles) >= 2 else None
            candles = replayed_daily(coin, ex.mids[coin], today, _base_name(ex, coin), own)
    return [dict(c) for c in candles if start <= int(c["t"]) <= end]


def _base_name(ex: StandIn, coin: str) -> str | None:
    market = ex.markets_by_coin[coin]
    if not market.spot or market.base_token is None:
        return None
    token = ex.tokens.get(market.base_token)
    return getattr(token, "name", None)
