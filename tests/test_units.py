"""Exact conversion between integer base units and decimal strings."""

import pytest

from greenpoints.units import format_units, parse_units


@pytest.mark.parametrize(
    ("value", "decimals", "text"),
    [
        (38_571_427, 6, "38.571427"),
        (108_857_145, 6, "108.857145"),
        (435_428_580_000_000_000, 18, "0.43542858"),
        (350 * 10**18, 18, "350"),
        (1, 18, "0.000000000000000001"),
        (0, 6, "0"),
        (2**256 - 1, 18, "115792089237316195423570985008687907853269984665640564039457.584007913129639935"),
    ],
)
def test_round_trip(value: int, decimals: int, text: str) -> None:
    assert format_units(value, decimals) == text
    assert parse_units(text, decimals) == value


@pytest.mark.parametrize("text", ["1.0000001", "abc", "NaN", "Infinity", "", "-1", "1e6", ".5"])
def test_parse_refuses_inexact_or_invalid(text: str) -> None:
    with pytest.raises(ValueError):
        parse_units(text, 6)
