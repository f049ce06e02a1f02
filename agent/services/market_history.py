"""Daily closes of the assets a report looks at: the exchange's daily candles, else the shipped history.

A perp is looked up by its name; a spot pair by the perp it tracks (``UBTC/USDC`` → ``BTC``). The
exchange is asked first (``candleSnapshot``, 1d) when it keeps history (Hyperliquid and the stand-in);
if any asset lacks enough candles there, every asset comes from the shipped daily history
(``agent/data/market_history``), so all columns share one calendar. ``source`` says which.

Closed days come from the candles (today's candle is not final); today's row is the market's mids, read with the
question's market (no extra request), so an answer is as of today. Closed days are kept in the store per venue,
coin and day
(:class:`~agent.adapters.store.candles.Candles`) and shared by every account, tick and page load: a coin's
window is asked of the exchange only for the closed days the store has not been asked for yet (after the
first read of a day, none).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

import numpy as np

from agent.core.domain import Market
from agent.core.errors import ExchangeError, SnapshotError, ValidationError
from agent.core.prices import PriceTable
from agent.services.ports import HistoryPort
from agent.strategist.features import DAILY_CLOSES_FILE, HISTORY_DIR, load_daily_closes
from agent.strategist.holdings import underlying

if TYPE_CHECKING:
    from agent.adapters.store.candles import Candles
    from agent.services.context import AccountContext

SHIPPED = "shipped daily closes (agent/data/market_history, Binance spot via CryptoDataDownload)"


@dataclass(frozen=True)
class History:
    table: PriceTable  # columns named as the planner names the assets
    source: str
    missing: tuple[str, ...]  # assets with no history anywhere

    @property
    def as_of(self) -> date | None:
        """The last day of data (None without any)."""
        return self.table.dates[-1] if self.table.dates else None

    def age_days(self, now: datetime) -> int | None:
        """Whole days between the last day of data and ``now``'s UTC day (None without any data)."""
        return (now.astimezone(UTC).date() - self.as_of).days if self.as_of is not None else None


def history_name(coin: str, market: Market) -> str:
    info = market.get(coin)
    if info is not None and info.market == "spot":  # a Binance pair's base is the coin itself ("BTC/USD" → BTC)
        return underlying(info, market) or info.base_token or coin
    return coin


def daily_history(acct: AccountContext | None, coins: list[str], days: int, market: Market) -> History:
    """The last ``days`` daily closes of ``coins`` (+1 row, for ``days`` returns); ``acct`` None: shipped only."""
    if not 2 <= days <= 3650:
        raise ValidationError("days must be between 2 and 3650")
    names = {c: history_name(c, market) for c in coins}
    exchange = acct.exchange if acct is not None else None
    if acct is not None and isinstance(exchange, HistoryPort):
        table = _from_exchange(exchange, acct.store.candles, names, days, acct.clock(), market)
        if table is not None:
            return History(table, exchange_source(acct), ())
    closes = load_daily_closes(coins=set(names.values()))
    have = [c for c in coins if names[c] in closes]
    missing = tuple(c for c in coins if names[c] not in closes)
    if not have:
        return History(PriceTable((), (), np.zeros((0, 0)), np.zeros((0, 0))), SHIPPED, missing)
    n = min(min(len(closes[names[c]]) for c in have), days + 1)
    close = np.column_stack([closes[names[c]][-n:] for c in have])
    dates = _shipped_dates()[-n:]
    return History(PriceTable(dates, tuple(have), close, np.full(close.shape, np.nan)), SHIPPED, missing)


def trailing_closes(acct: AccountContext, coins: list[str], days: int, market: Market) -> dict[str, np.ndarray]:
    """Each coin's own run of daily closes up to ``days`` + 1 long, ending with the last closed day and, when
    the mids were read today, today's mid (so every array ends on the same day). Coins listed later have
    shorter arrays. Closed days come from the store's cache, asking the exchange only for days it never asked
    for. Empty when the exchange keeps no candles or cannot be read (the caller keeps what it has)."""
    ex = acct.exchange
    if not isinstance(ex, HistoryPort):
        return {}
    today = acct.clock().astimezone(UTC).date()
    last = today - timedelta(days=1)
    first = last - timedelta(days=days)
    with_today = market.timestamp.astimezone(UTC).date() == today
    out: dict[str, np.ndarray] = {}
    for coin in coins:
        try:
            got = _closed_days(ex, acct.store.candles, history_name(coin, market), first, last)
        except (ExchangeError, SnapshotError):
            return {}
        run: list[float] = []
        d = last
        while d in got and d >= first:  # the coin's unbroken run back from the last closed day
            run.append(got[d][0])
            d -= timedelta(days=1)
        run.reverse()
        info = market.assets.get(coin)
        if with_today and info is not None:
            run.append(info.mid)
        if len(run) >= 3:
            out[coin] = np.array(run)
    return out


def exchange_source(acct: AccountContext) -> str:
    """Where the exchange's candles come from: the venue, or the local stand-in's replayed history."""
    if acct.settings.network == "local":
        return "the local stand-in's daily candles (real history replayed, rescaled to its mids) and today's mids"
    return f"the exchange's daily candles (candleSnapshot 1d, {acct.settings.network}) and today's mids"


def _shipped_dates() -> tuple[date, ...]:
    with (HISTORY_DIR / DAILY_CLOSES_FILE).open(encoding="utf-8") as fh:
        next(fh)
        return tuple(date.fromisoformat(line.split(",", 1)[0]) for line in fh if line.strip())


def _closed_days(ex: HistoryPort, kept: Candles, name: str, first: date, last: date) -> dict[date, tuple[float, float]]:
    """The candles of the closed days ``first``…``last``: from the store, asking the exchange only for the
    days it was never asked for (then kept)."""
    span = kept.span(ex.base_url, name)
    ask_from = first
    if span is not None and span[0] <= first and span[1] >= first - timedelta(days=1):
        ask_from = span[1] + timedelta(days=1)  # the store knows up to span[1]: ask only for what follows
    if ask_from <= last:
        start = int(datetime.combine(ask_from, time(), UTC).timestamp() * 1000)
        end = int(datetime.combine(last, time(23, 59, 59), UTC).timestamp() * 1000)
        rows = ex.daily_candles(name, start, end)
        candles = [(datetime.fromtimestamp(t / 1000, UTC).date(), c, v) for t, c, v in rows]
        kept.keep(ex.base_url, name, ask_from, last, [c for c in candles if ask_from <= c[0] <= last])
    return {d: (c, v) for d, c, v in kept.between(ex.base_url, name, first, last)}


def _from_exchange(
    ex: HistoryPort, kept: Candles, names: dict[str, str], days: int, now: datetime, market: Market
) -> PriceTable | None:
    today = now.astimezone(UTC).date()
    last = today - timedelta(days=1)  # the last closed day
    first = last - timedelta(days=days + 1)
    series: dict[str, dict[date, tuple[float, float]]] = {}
    try:
        for coin, name in names.items():
            series[coin] = _closed_days(ex, kept, name, first, last)
    except (ExchangeError, SnapshotError):
        return None
    if not series or any(len(s) < max(3, days // 2) for s in series.values()):
        return None
    mids = {c: market.assets[c].mid for c in names if c in market.assets}
    read_on = market.timestamp.astimezone(UTC).date()  # the day the mids were read (not the local clock's)
    if len(mids) == len(names) and read_on == today:  # today so far: the mids this question already read
        for c, s in series.items():
            s[read_on] = (mids[c], float("nan"))
    dates = sorted(set.intersection(*(set(s) for s in series.values())))[-(days + 1) :]
    coins = tuple(names)
    close = np.array([[series[c][d][0] for c in coins] for d in dates])
    volume = np.array([[series[c][d][1] for c in coins] for d in dates])
    return PriceTable(tuple(dates), coins, close, volume)
