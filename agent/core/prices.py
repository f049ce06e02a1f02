"""Daily price history: closes (and optional traded value) per coin, one row per UTC date.

``PriceTable`` is the input of the backtest, the sensitivity analysis and the risk monitors. It is
checked once, here: dates unique and ascending, prices positive and finite (a blank is NaN: no price
that day), volumes non-negative.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from agent.core.errors import ValidationError


@dataclass(frozen=True)
class PriceTable:
    """``dates`` (T), ``coins`` (n), ``close`` (T × n, NaN = no price), ``volume`` (T × n USD, NaN = unknown)."""

    dates: tuple[date, ...]
    coins: tuple[str, ...]
    close: np.ndarray
    volume: np.ndarray

    def __post_init__(self) -> None:
        t, n = len(self.dates), len(self.coins)
        if self.close.shape != (t, n) or self.volume.shape != (t, n):
            raise ValidationError("prices: the close and volume tables must be dates × coins")
        if len(set(self.coins)) != n:
            raise ValidationError("prices: a coin appears twice")
        for a, b in zip(self.dates, self.dates[1:], strict=False):
            if b == a:
                raise ValidationError(f"prices: duplicate date {a.isoformat()}")
            if b < a:
                raise ValidationError(f"prices: dates are not sorted ({a.isoformat()} before {b.isoformat()})")
        bad = np.isfinite(self.close) & (self.close <= 0) | np.isinf(self.close)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise ValidationError(f"prices: {self.coins[j]} on {self.dates[i].isoformat()}: non-positive price")
        if (np.isfinite(self.volume) & (self.volume < 0)).any():
            raise ValidationError("prices: a negative volume")

    # -- slices ---------------------------------------------------------------------------------
    def column(self, coin: str) -> int:
        try:
            return self.coins.index(coin)
        except ValueError:
            raise ValidationError(f"prices: no column for {coin}") from None

    def select(self, coins: Sequence[str]) -> PriceTable:
        """Only these coins (in this order); a coin the table lacks is an error naming it."""
        missing = [c for c in coins if c not in self.coins]
        if missing:
            raise ValidationError(f"prices: no column for {', '.join(missing)}")
        idx = [self.coins.index(c) for c in coins]
        return PriceTable(self.dates, tuple(coins), self.close[:, idx], self.volume[:, idx])

    def index_range(self, start: date | None, end: date | None) -> tuple[int, int]:
        """First and last row index within [start, end] (inclusive)."""
        d = np.array([x.toordinal() for x in self.dates])
        lo = int(np.searchsorted(d, start.toordinal(), "left")) if start else 0
        hi = int(np.searchsorted(d, end.toordinal(), "right")) - 1 if end else len(d) - 1
        if hi < lo:
            raise ValidationError("prices: no dates in the chosen window")
        return lo, hi

    def filled(self) -> np.ndarray:
        """Closes with a blank carried forward from the last close (still NaN before a coin's first)."""
        out = self.close.copy()
        for j in range(out.shape[1]):
            col = out[:, j]
            ok = np.isfinite(col)
            idx = np.where(ok, np.arange(len(col)), 0)
            np.maximum.accumulate(idx, out=idx)
            out[:, j] = np.where(ok | (np.cumsum(ok) > 0), col[idx], np.nan)
        return out

    def log_returns(self) -> np.ndarray:
        """Daily log returns (T × n; row 0 and any row next to a blank are NaN)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.full_like(self.close, np.nan)
            r[1:] = np.log(self.close[1:] / self.close[:-1])
        return r


def rolling_std(x: np.ndarray, window: int) -> np.ndarray:
    """Per column, the sample std of the last ``window`` finite values up to and including each row."""
    t, n = x.shape
    out = np.full((t, n), np.nan)
    for j in range(n):
        col = x[:, j]
        for i in range(t):
            w = col[max(0, i - window + 1) : i + 1]
            w = w[np.isfinite(w)]
            if len(w) >= 2:
                out[i, j] = float(np.std(w, ddof=1))
    return out
