"""Price history files → ``PriceTable``: a ``date,BTC,ETH,…`` CSV, or a folder of provider daily files.

The CSV: one row per UTC date, one column per coin of closes; optional ``<COIN>_volume_usd`` columns hold
that day's traded value; a blank cell means no price (or no volume) that day.

The folder: CryptoDataDownload's Binance daily files (``Binance_<COIN>USDT_d.csv``: a provider URL on line
1, then ``Unix,Date,Symbol,Open,High,Low,Close,Volume <COIN>,Volume USDT,tradecount``, newest first), as
in the shared ``crypto-market/binance-daily-cdd``. Closes and ``Volume USDT`` are taken as they are; the
dates of all coins are joined (a coin missing a date gets a blank).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path

import numpy as np

from agent.core.errors import ValidationError
from agent.core.prices import PriceTable

VOLUME_SUFFIX = "_volume_usd"


def _number(cell: str, where: str) -> float:
    cell = cell.strip()
    if not cell:
        return math.nan
    try:
        v = float(cell)
    except ValueError:
        raise ValidationError(f"{where}: {cell!r} is not a number") from None
    if not math.isfinite(v):
        raise ValidationError(f"{where}: {cell!r} is not a finite number")
    return v


def _date(text: str, where: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(f"{where}: {text!r} is not a YYYY-MM-DD date") from None


def read_prices_csv(path: str | Path) -> PriceTable:
    """The ``date,<COIN>…[,<COIN>_volume_usd…]`` table; any problem is one ``ValidationError`` naming it."""
    p = Path(path)
    try:
        with p.open(newline="", encoding="utf-8") as fh:
            rows = [r for r in csv.reader(fh) if r]
    except FileNotFoundError:
        raise ValidationError(f"{p}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ValidationError(f"{p}: cannot read ({e})") from None
    if not rows or rows[0][0].strip().lower() != "date":
        raise ValidationError(f"{p}: expected a header starting with 'date'")
    header = [h.strip() for h in rows[0]]
    coins = [h for h in header[1:] if not h.endswith(VOLUME_SUFFIX)]
    if not coins:
        raise ValidationError(f"{p}: no price columns")
    vol_col = {h.removesuffix(VOLUME_SUFFIX): k for k, h in enumerate(header) if h.endswith(VOLUME_SUFFIX)}
    stray = sorted(set(vol_col) - set(coins))
    if stray:
        raise ValidationError(f"{p}: volume column for {', '.join(stray)} without its price column")
    price_col = {h: k for k, h in enumerate(header) if h in coins}
    dates, close, volume = [], [], []
    for n, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise ValidationError(f"{p}: line {n} has {len(row)} cells, the header {len(header)}")
        dates.append(_date(row[0], f"{p}: line {n}"))
        close.append([_number(row[price_col[c]], f"{p}: line {n}, {c}") for c in coins])
        volume.append(
            [
                _number(row[vol_col[c]], f"{p}: line {n}, {c}{VOLUME_SUFFIX}") if c in vol_col else math.nan
                for c in coins
            ]
        )
    if not dates:
        raise ValidationError(f"{p}: no rows")
    try:
        return PriceTable(tuple(dates), tuple(coins), np.array(close, dtype=float), np.array(volume, dtype=float))
    except ValidationError as e:
        raise ValidationError(f"{p}: {e}") from None


def read_cdd_folder(folder: str | Path, coins: Iterable[str] | None = None) -> PriceTable:
    """CryptoDataDownload Binance daily files in ``folder`` (``Binance_<COIN>USDT_d.csv``), joined on date."""
    d = Path(folder)
    if not d.is_dir():
        raise ValidationError(f"{d}: not a folder")
    files = {f.name.removeprefix("Binance_").removesuffix("USDT_d.csv"): f for f in d.glob("Binance_*USDT_d.csv")}
    wanted = list(coins) if coins is not None else sorted(files)
    missing = [c for c in wanted if c not in files]
    if missing:
        raise ValidationError(f"{d}: no daily file for {', '.join(missing)}")
    series: dict[str, dict[date, tuple[float, float]]] = {}
    for c in wanted:
        lines = files[c].read_text(encoding="utf-8").splitlines()
        body = list(csv.DictReader(lines[1:]))  # line 1 is the provider's URL
        s: dict[date, tuple[float, float]] = {}
        for r in body:
            when = _date(r["Date"][:10], f"{files[c].name}")
            if when in s:
                raise ValidationError(f"{files[c].name}: duplicate date {when}")
            s[when] = (_number(r["Close"], files[c].name), _number(r.get("Volume USDT", ""), files[c].name))
        series[c] = s
    return _join(wanted, series)


def _join(coins: Sequence[str], series: dict[str, dict[date, tuple[float, float]]]) -> PriceTable:
    dates = sorted(set().union(*(s.keys() for s in series.values())))
    close = np.full((len(dates), len(coins)), np.nan)
    volume = np.full((len(dates), len(coins)), np.nan)
    row = {d: i for i, d in enumerate(dates)}
    for j, c in enumerate(coins):
        for d, (px, v) in series[c].items():
            close[row[d], j], volume[row[d], j] = px, v
    return PriceTable(tuple(dates), tuple(coins), close, volume)


def write_prices_csv(table: PriceTable, path: str | Path) -> None:
    """Write ``table`` in the CSV shape ``read_prices_csv`` reads (volumes where any are known)."""
    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        vcols = [j for j in range(len(table.coins)) if np.isfinite(table.volume[:, j]).any()]
        w.writerow(["date", *table.coins, *(table.coins[j] + VOLUME_SUFFIX for j in vcols)])
        for i, d in enumerate(table.dates):
            px = ["" if not np.isfinite(x) else repr(float(x)) for x in table.close[i]]
            vs = ["" if not np.isfinite(table.volume[i, j]) else repr(float(table.volume[i, j])) for j in vcols]
            w.writerow([d.isoformat(), *px, *vs])
