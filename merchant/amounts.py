"""Sale amounts given by a merchant, as exact base units of the reserve asset.

An amount is a decimal string ("12000.00") or a `decimal.Decimal` in the asset's whole units.
Floats are refused (0.1 + 0.2 is not 0.3), and so are ints: 12000 could mean 12,000 units or
12,000 base units, and guessing wrong mints a thousand times too much.
"""

from __future__ import annotations

from decimal import Decimal

from greenpoints.units import parse_units
from merchant.errors import InputError

# A sale beyond 10**60 whole units is nonsense; refusing early keeps Decimal formatting bounded.
MAX_DIGITS = 60


def parse_amount(value: object, decimals: int) -> int:
    """`value` (a decimal string or Decimal of whole units) as base units of a `decimals` asset."""
    if isinstance(value, bool | float | int):
        kind = type(value).__name__
        raise InputError(f"an amount must be a decimal string or Decimal, not {kind} (got {value!r}): pass '{value}'")
    if isinstance(value, Decimal):
        if not value.is_finite() or value.is_signed():
            raise InputError(f"an amount must be a finite, non-negative number (got {value})")
        if value.adjusted() >= MAX_DIGITS:
            raise InputError(f"an amount must have fewer than {MAX_DIGITS} digits (got {value})")
        text = format(value, "f")
    elif isinstance(value, str):
        text = value
    else:
        raise InputError(f"an amount must be a decimal string or Decimal (got {type(value).__name__})")
    if len(text.strip()) > MAX_DIGITS + decimals + 1:
        raise InputError(f"an amount must have fewer than {MAX_DIGITS} digits")
    try:
        return parse_units(text, decimals)
    except ValueError as exc:
        raise InputError(f"bad amount: {exc}") from None
