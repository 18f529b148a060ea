"""Short figures for reports: integers rounded to a few places with integer arithmetic."""

from __future__ import annotations

from fractions import Fraction


def rounded(value: int | Fraction, decimals: int, places: int) -> str:
    """`value` (base units with `decimals`) rounded half up to `places` decimals, e.g. 0.43."""
    scaled = Fraction(value) * 10**places / 10**decimals
    whole = int(scaled + Fraction(1, 2)) if scaled >= 0 else -int(-scaled + Fraction(1, 2))
    sign = "-" if whole < 0 else ""
    integer, frac = divmod(abs(whole), 10**places)
    text = f"{integer:,}" if places == 0 else f"{integer:,}.{frac:0{places}d}"
    return sign + text


def percent(part: int | Fraction, whole: int | Fraction, places: int = 1) -> str:
    """`part / whole` as a percentage."""
    if whole == 0:
        return "n/a"
    return rounded(Fraction(part) / Fraction(whole) * 100, 0, places) + " %"
