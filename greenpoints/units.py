"""Integer amounts to and from decimal strings; never through floats."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

POINT_DECIMALS = 18
PRICE_DECIMALS = 18


def format_units(value: int, decimals: int) -> str:
    """`value` base units as an exact decimal string: format_units(38571427, 6) == "38.571427"."""
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), 10**decimals)
    if decimals == 0 or frac == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{str(frac).rjust(decimals, '0').rstrip('0')}"


def parse_units(text: str, decimals: int) -> int:
    """An exact decimal string as base units; refuses more fractional digits than `decimals`."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"not a decimal number: {text!r}") from None
    if not value.is_finite():
        raise ValueError(f"not a finite number: {text!r}")
    scaled = value.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{text!r} has more than {decimals} decimal places")
    return int(scaled)
