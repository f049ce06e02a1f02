"""Daily candles of closed days, per venue and coin, shared by every account, tick and page load.

A day's candle no longer changes once the day has closed, so it is read from the exchange once and kept.
``spans`` records which closed days were asked for (a coin with no candle on a day asked for has none: asking
again would get none again), so a window inside a span is answered here without any request.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from agent.adapters.store.db import now_iso

if TYPE_CHECKING:
    from agent.adapters.store.db import Store


class Candles:
    def __init__(self, store: Store) -> None:
        self.store = store

    def span(self, venue: str, coin: str) -> tuple[date, date] | None:
        """The first and last closed day asked for and kept, or None."""
        rows = self.store.query(
            "SELECT first_day, last_day FROM daily_candle_spans WHERE venue = ? AND coin = ?", (venue, coin)
        )
        return (date.fromisoformat(rows[0]["first_day"]), date.fromisoformat(rows[0]["last_day"])) if rows else None

    def between(self, venue: str, coin: str, first: date, last: date) -> list[tuple[date, float, float]]:
        """(day, close, traded value) of each kept candle from ``first`` to ``last``, in day order."""
        rows = self.store.query(
            "SELECT day, close, value FROM daily_candles WHERE venue = ? AND coin = ? AND day BETWEEN ? AND ? "
            "ORDER BY day",
            (venue, coin, first.isoformat(), last.isoformat()),
        )
        return [(date.fromisoformat(r["day"]), float(r["close"]), float(r["value"])) for r in rows]

    def keep(self, venue: str, coin: str, first: date, last: date, candles: list[tuple[date, float, float]]) -> None:
        """Keep the closed days ``first``…``last`` as asked (``candles`` may leave days out: there were none).

        The span grows to cover both the old one and this one when they touch or overlap; otherwise it is
        replaced (the days outside it stay kept but are asked for again when needed).
        """
        old = self.span(venue, coin)
        touching = old is not None and old[0] <= last + timedelta(days=1) and first <= old[1] + timedelta(days=1)
        if old is not None and touching:
            first, last = min(first, old[0]), max(last, old[1])
        at = now_iso()
        with self.store.tx() as c:
            for d, close, value in candles:  # one statement each: the PostgreSQL store has no executemany
                c.execute(
                    "INSERT INTO daily_candles (venue, coin, day, close, value, at) VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT(venue, coin, day) DO UPDATE SET close = excluded.close, value = excluded.value, "
                    "at = excluded.at",
                    (venue, coin, d.isoformat(), close, value, at),
                )
            c.execute(
                "INSERT INTO daily_candle_spans (venue, coin, first_day, last_day, at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(venue, coin) DO UPDATE SET first_day = excluded.first_day, "
                "last_day = excluded.last_day, at = excluded.at",
                (venue, coin, first.isoformat(), last.isoformat(), at),
            )
