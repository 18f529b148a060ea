"""Integer amounts to and from decimal strings; never through floats."""

from __future__ import annotations

import re

POINT_DECIMALS = 18
PRICE_DECIMALS = 18
_DECIMAL = re.compile(r"(\d+)(?:\.(\d+))?")


def format_units(value: int, decimals: int) -> str:
    """`value` base units as an exact decimal string: format_units(38571427, 6) == "38.571427"."""
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), 10**decimals)
    if decimals == 0 or frac == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{str(frac).rjust(decimals, '0').rstrip('0')}"


def parse_units(text: str, decimals: int) -> int:
    """An exact, non-negative decimal string as base units; refuses more fractional digits than `decimals`.

    Parsed digit by digit: `Decimal` arithmetic would round beyond its 28-digit context.
    """
    match = _DECIMAL.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a non-negative decimal number: {text!r}")
    whole, frac = match.group(1), match.group(2) or ""
    frac = frac.rstrip("0")
    if len(frac) > decimals:
        raise ValueError(f"{text!r} has more than {decimals} decimal places")
    return int(whole) * 10**decimals + int(frac.ljust(decimals, "0") or "0")
