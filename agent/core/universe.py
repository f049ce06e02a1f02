"""A universe that changes over time: which coins a backtest may hold on each day.

``TopByVolume`` is "the N largest coins with history at each date". The price files carry no market
capitalisation, so size is proxied by traded value: on the first trading day of each month the universe is
re-chosen as the ``size`` coins with the highest mean daily quote volume (USD traded) over the last
``window`` days, among the coins that have a close that day and at least ``min_history`` days of closes.
Only rows up to that day are read. A coin enters when it ranks in and leaves when it ranks out (or stops
trading: a coin with no close on the re-choice day is out).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from agent.core.errors import ValidationError
from agent.core.prices import PriceTable


@dataclass
class TopByVolume:
    """The ``size`` coins with the most traded value over ``window`` days, re-chosen monthly."""

    prices: PriceTable
    size: int = 10
    window: int = 30
    min_history: int = 90
    _cache: dict[int, tuple[str, ...]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.size < 1 or self.window < 1 or self.min_history < 1:
            raise ValidationError("universe: size, window and min_history must be at least 1")
        if not np.isfinite(self.prices.volume).any():
            raise ValidationError("universe: the prices carry no traded value (a <COIN>_volume_usd column)")
        self._history = np.cumsum(np.isfinite(self.prices.close), axis=0)

    @property
    def spec(self) -> str:
        return f"top{self.size}-by-{self.window}d-volume"

    def members(self, i: int) -> tuple[str, ...]:
        """The universe in force on day ``i`` (chosen on the first trading day of ``i``'s month, or on day 0)."""
        d = self.prices.dates
        k = i
        while k > 0 and (d[k - 1].year, d[k - 1].month) == (d[i].year, d[i].month):
            k -= 1
        if k not in self._cache:
            self._cache[k] = self.choose(k)
        return self._cache[k]

    def choose(self, i: int) -> tuple[str, ...]:
        """Rank on day ``i`` from rows ``i − window + 1 .. i`` only; ties broken by name."""
        ok = np.isfinite(self.prices.close[i]) & (self._history[i] >= self.min_history)
        v = self.prices.volume[max(0, i - self.window + 1) : i + 1]
        seen = np.isfinite(v).sum(axis=0)
        mean = np.where(seen > 0, np.nansum(v, axis=0) / np.maximum(seen, 1), 0.0)
        ranked = sorted((-mean[j], c) for j, c in enumerate(self.prices.coins) if ok[j] and mean[j] > 0)
        return tuple(sorted(c for _, c in ranked[: self.size]))
