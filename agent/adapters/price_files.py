"""Price history in the common file shapes → ``PriceTable``; the shape is recognised from the file itself.

=====================  =============================================================================================
shape                  how it is recognised (header line)
=====================  =============================================================================================
the project's own      ``date,BTC,ETH,…[,BTC_volume_usd,…]`` (``agent.adapters.prices.read_prices_csv``)
CryptoDataDownload     line 1 a URL, line 2 ``Unix,Date,Symbol,Open,High,Low,Close,…,Volume USDT,…`` (one coin, its
                       name from ``Binance_<COIN>USDT_d.csv`` or the symbol less ``USDT``); a folder of such files
long                   ``date,symbol,close[,volume|volume_usd]``: one row per date and coin, in any order
wide OHLCV             ``date`` or an unnamed first column (as pandas writes its index), then ``<COIN>:close`` or
                       ``<COIN>_close`` columns, with ``open``/``high``/``low``/``volume`` columns beside them
=====================  =============================================================================================

Dates are ``YYYY-MM-DD``; a date-time at midnight (``2024-01-01 00:00:00[+00:00]``, ``…T00:00:00Z``) is read as its
day, any other time of day is refused (daily closes only). A ``volume`` is in coin units and becomes a traded value
at that day's close; ``volume_usd`` / ``Volume USDT`` is the traded value itself. Anything else — another shape,
a duplicate date for a coin, a cell that is not a number, a file with no rows — is one ``ValidationError`` naming
the file and what is wrong, and nothing is read.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from agent.adapters.prices import _join, _number, read_cdd_folder, read_prices_csv
from agent.core.errors import ValidationError
from agent.core.prices import PriceTable

SHAPES = "the project's date,COIN,… table, CryptoDataDownload, long date,symbol,close or wide COIN:close"
_MIDNIGHT = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T]00:00(?::00(?:\.0+)?)?(?:Z|[+-]00:?00)?)?$")
_WIDE = re.compile(r"^(.+?)[:_](open|high|low|close|volume)$", re.IGNORECASE)

Series = dict[str, dict[date, tuple[float, float]]]


def load_price_history(path: str | Path, coins: Sequence[str] | None = None) -> PriceTable:
    """Any supported shape (table above); ``coins`` limits a CryptoDataDownload folder to those files."""
    p = Path(path)
    if p.is_dir():
        return read_cdd_folder(p, coins)
    rows = _rows(p)
    head = [h.strip() for h in rows[0]]
    low = [h.lower() for h in head]
    if head[0].lower().startswith(("http://", "https://")) and len(rows) > 1:
        return _cdd_file(p, rows[1:])
    if {"date", "symbol", "close"} <= set(low):
        return _long(p, head, rows[1:])
    if low[0] in ("", "date", "datetime", "timestamp", "time") and any(_WIDE.match(h) for h in head[1:]):
        return _wide(p, head, rows[1:])
    if low[0] == "date":
        return read_prices_csv(p)
    raise ValidationError(f"{p}: not a price file this tool reads (header {','.join(head[:4])!r}…; it reads {SHAPES})")


def _rows(p: Path) -> list[list[str]]:
    try:
        with p.open(newline="", encoding="utf-8-sig") as fh:
            rows = [r for r in csv.reader(fh) if r and any(c.strip() for c in r)]
    except FileNotFoundError:
        raise ValidationError(f"{p}: no such file") from None
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise ValidationError(f"{p}: cannot read ({e})") from None
    if not rows:
        raise ValidationError(f"{p}: empty file")
    return rows


def _day(text: str, where: str) -> date:
    m = _MIDNIGHT.match(text.strip())
    try:
        if m is None:
            raise ValueError
        return date.fromisoformat(m.group(1))
    except ValueError:
        raise ValidationError(f"{where}: {text!r} is not a YYYY-MM-DD date (daily closes only)") from None


def _put(series: Series, coin: str, when: date, close: float, vol: float, where: str) -> None:
    s = series.setdefault(coin, {})
    if when in s:
        raise ValidationError(f"{where}: a second row for {coin} on {when}")
    s[when] = (close, vol)


def _table(p: Path, series: Series) -> PriceTable:
    if not series or not any(series.values()):
        raise ValidationError(f"{p}: no rows")
    try:
        return _join(list(series), series)
    except ValidationError as e:
        raise ValidationError(f"{p}: {e}") from None


def _cdd_file(p: Path, rows: list[list[str]]) -> PriceTable:
    head = [h.strip() for h in rows[0]]
    col = {h.lower(): k for k, h in enumerate(head)}
    if not {"date", "close"} <= set(col):
        raise ValidationError(f"{p}: a CryptoDataDownload file needs Date and Close columns")
    named = re.fullmatch(r"(?:\w+_)?([A-Z0-9]+?)USDT?_d\.csv", p.name)
    series: Series = {}
    for n, r in enumerate(rows[1:], start=3):
        where = f"{p}: line {n}"
        if len(r) != len(head):
            raise ValidationError(f"{where} has {len(r)} cells, the header {len(head)}")
        sym = r[col["symbol"]].strip() if "symbol" in col else ""
        coin = named.group(1) if named else re.sub(r"(USDT|USD|/USDT|-USDT)$", "", sym)
        if not coin:
            raise ValidationError(f"{where}: no coin name (neither Binance_<COIN>USDT_d.csv nor a Symbol)")
        close = _number(r[col["close"]], f"{where}, Close")
        vol = _number(r[col["volume usdt"]], f"{where}, Volume USDT") if "volume usdt" in col else math.nan
        _put(series, coin, _day(r[col["date"]][:10], where), close, vol, where)
    return _table(p, series)


def _long(p: Path, head: list[str], rows: list[list[str]]) -> PriceTable:
    col = {h.lower(): k for k, h in enumerate(head)}
    usd = col.get("volume_usd", col.get("quote_volume"))
    units = col.get("volume")
    series: Series = {}
    for n, r in enumerate(rows, start=2):
        where = f"{p}: line {n}"
        if len(r) != len(head):
            raise ValidationError(f"{where} has {len(r)} cells, the header {len(head)}")
        coin = r[col["symbol"]].strip()
        if not coin:
            raise ValidationError(f"{where}: empty symbol")
        close = _number(r[col["close"]], f"{where}, close")
        vol = math.nan
        if usd is not None:
            vol = _number(r[usd], f"{where}, {head[usd]}")
        elif units is not None:
            vol = _number(r[units], f"{where}, volume") * close
        _put(series, coin, _day(r[col["date"]], where), close, vol, where)
    return _table(p, series)


def _wide(p: Path, head: list[str], rows: list[list[str]]) -> PriceTable:
    fields: dict[str, dict[str, int]] = {}
    for k, h in enumerate(head[1:], start=1):
        m = _WIDE.match(h)
        if m is None:
            raise ValidationError(f"{p}: column {h!r} is not COIN:field or COIN_field (open, high, low, close, volume)")
        fields.setdefault(m.group(1), {})[m.group(2).lower()] = k
    no_close = sorted(c for c, f in fields.items() if "close" not in f)
    if no_close:
        raise ValidationError(f"{p}: no close column for {', '.join(no_close)}")
    series: Series = {c: {} for c in fields}
    for n, r in enumerate(rows, start=2):
        where = f"{p}: line {n}"
        if len(r) != len(head):
            raise ValidationError(f"{where} has {len(r)} cells, the header {len(head)}")
        when = _day(r[0], where)
        for c, f in fields.items():
            close = _number(r[f["close"]], f"{where}, {head[f['close']]}")
            vol = _number(r[f["volume"]], f"{where}, {head[f['volume']]}") * close if "volume" in f else math.nan
            if not math.isfinite(close):
                continue  # a blank close: no price that day
            _put(series, c, when, close, vol, where)
    return _table(p, series)
