"""Hyperliquid's tick and lot rules, and the decimal formatting its API uses.

Sizes must be multiples of 10^-szDecimals. Prices have at most 5 significant figures (integers are
always allowed) and at most ``6 - szDecimals`` decimals on perps, ``8 - szDecimals`` on spot.
Source: the Hyperliquid API docs, "Tick and lot size".
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_UP, Decimal, InvalidOperation

ZERO = Decimal(0)
MAX_SIG_FIGS = 5
PERP_MAX_DECIMALS = 6
SPOT_MAX_DECIMALS = 8


def dec(value: object) -> Decimal:
    """Parse an API number (string, int or float) into a Decimal; raise ValueError when it is not one."""
    try:
        out = Decimal(str(value))
    except (InvalidOperation, TypeError) as exc:
        raise ValueError(f"not a number: {value!r}") from exc
    if not out.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return out


def fmt(value: Decimal, places: int = 8) -> str:
    """Format like Hyperliquid's API: plain notation, no trailing zeros, at least one decimal ("1.0")."""
    q = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN) if places >= 0 else value
    text = format(q.normalize(), "f")
    if text in ("-0", "-0.0"):
        text = "0"
    if "." not in text:
        text += ".0"
    return text


def decimals_of(value: Decimal) -> int:
    """Number of decimal places of a normalized decimal (0 for integers)."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def sig_figs(value: Decimal) -> int:
    """Significant figures of a decimal, ignoring trailing zeros."""
    return len(value.normalize().as_tuple().digits)


def max_price_decimals(sz_decimals: int, *, spot: bool) -> int:
    return (SPOT_MAX_DECIMALS if spot else PERP_MAX_DECIMALS) - sz_decimals


def size_ok(sz: Decimal, sz_decimals: int) -> bool:
    """A size is valid when positive and a multiple of 10^-szDecimals."""
    return sz > ZERO and decimals_of(sz) <= sz_decimals


def price_decimals_ok(px: Decimal, sz_decimals: int, *, spot: bool) -> bool:
    return px > ZERO and decimals_of(px) <= max_price_decimals(sz_decimals, spot=spot)


def price_sig_figs_ok(px: Decimal) -> bool:
    """At most 5 significant figures, except that integer prices are always allowed."""
    return px == px.to_integral_value() or sig_figs(px) <= MAX_SIG_FIGS


def round_price(px: Decimal, sz_decimals: int, *, spot: bool, up: bool) -> Decimal:
    """Round a price onto the valid grid (5 significant figures, max decimals), up or down."""
    rounding = ROUND_UP if up else ROUND_DOWN
    places = max_price_decimals(sz_decimals, spot=spot)
    if px >= Decimal(10) ** MAX_SIG_FIGS:
        return px.to_integral_value(rounding=rounding)
    adjusted = px.adjusted()  # exponent of the leading digit
    sig_places = MAX_SIG_FIGS - 1 - adjusted
    return px.quantize(Decimal(1).scaleb(-min(places, sig_places)), rounding=rounding)


def round_size(sz: Decimal, sz_decimals: int) -> Decimal:
    return sz.quantize(Decimal(1).scaleb(-sz_decimals), rounding=ROUND_DOWN)
