"""Daily closes of the assets a report looks at: the exchange's daily candles, else the shipped history.

A perp is looked up by its name; a spot pair by the perp it tracks (``UBTC/USDC`` → ``BTC``). The
exchange is asked first (``candleSnapshot``, 1d) when it keeps history (Hyperliquid and the stand-in);
if any asset lacks enough candles there, every asset comes from the shipped daily history
(``agent/data/market_history``), so all columns share one calendar. ``source`` says which.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from agent.core.domain import Market
from agent.core.errors import ExchangeError, SnapshotError, ValidationError
from agent.core.prices import PriceTable
from agent.services.ports import HistoryPort
from agent.strategist.features import DAILY_CLOSES_FILE, HISTORY_DIR, load_daily_closes
from agent.strategist.holdings import underlying

if TYPE_CHECKING:
    from agent.services.app import Services

SHIPPED = "shipped daily closes (agent/data/market_history, Binance spot via CryptoDataDownload)"


@dataclass(frozen=True)
class History:
    table: PriceTable  # columns named as the planner names the assets
    source: str
    missing: tuple[str, ...]  # assets with no history anywhere


def history_name(coin: str, market: Market) -> str:
    info = market.get(coin)
    if info is not None and info.market == "spot":  # a Binance pair's base is the coin itself ("BTC/USD" → BTC)
        return underlying(info, market) or info.base_token or coin
    return coin


def daily_history(svc: Services | None, coins: list[str], days: int, market: Market) -> History:
    """The last ``days`` daily closes of ``coins`` (+1 row, for ``days`` returns); ``svc`` None: shipped only."""
    if not 2 <= days <= 3650:
        raise ValidationError("days must be between 2 and 3650")
    names = {c: history_name(c, market) for c in coins}
    exchange = svc.exchange if svc is not None else None
    if svc is not None and isinstance(exchange, HistoryPort):
        table = _from_exchange(exchange, names, days, svc.clock())
        if table is not None:
            return History(table, "the exchange's daily candles", ())
    closes = load_daily_closes(coins=set(names.values()))
    have = [c for c in coins if names[c] in closes]
    missing = tuple(c for c in coins if names[c] not in closes)
    if not have:
        return History(PriceTable((), (), np.zeros((0, 0)), np.zeros((0, 0))), SHIPPED, missing)
    n = min(min(len(closes[names[c]]) for c in have), days + 1)
    close = np.column_stack([closes[names[c]][-n:] for c in have])
    dates = _shipped_dates()[-n:]
    return History(PriceTable(dates, tuple(have), close, np.full(close.shape, np.nan)), SHIPPED, missing)


def _shipped_dates() -> tuple[date, ...]:
    with (HISTORY_DIR / DAILY_CLOSES_FILE).open(encoding="utf-8") as fh:
        next(fh)
        return tuple(date.fromisoformat(line.split(",", 1)[0]) for line in fh if line.strip())


def _from_exchange(ex: HistoryPort, names: dict[str, str], days: int, now: datetime) -> PriceTable | None:
    end = int(now.timestamp() * 1000)
    start = int((now - timedelta(days=days + 2)).timestamp() * 1000)
    series: dict[str, dict[date, tuple[float, float]]] = {}
    try:
        for coin, name in names.items():
            rows = ex.daily_candles(name, start, end)
            series[coin] = {datetime.fromtimestamp(t / 1000, UTC).date(): (c, v) for t, c, v in rows}
    except (ExchangeError, SnapshotError):
        return None
    if not series or any(len(s) < max(3, days // 2) for s in series.values()):
        return None
    dates = sorted(set.intersection(*(set(s) for s in series.values())))[-(days + 1) :]
    coins = tuple(names)
    close = np.array([[series[c][d][0] for c in coins] for d in dates])
    volume = np.array([[series[c][d][1] for c in coins] for d in dates])
    return PriceTable(tuple(dates), coins, close, volume)
