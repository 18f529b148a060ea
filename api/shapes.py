"""How values look in JSON: amounts and prices as decimal strings (raw units and a human decimal),
addresses EIP-55 checksummed, times as ISO-8601 UTC plus unix seconds. Never through floats."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from eth_hash.auto import keccak

from greenpoints.units import POINT_DECIMALS, PRICE_DECIMALS, format_units

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def amount(raw: int, decimals: int) -> dict[str, str]:
    """`{"raw": "42857142", "value": "42.857142"}`."""
    return {"raw": str(raw), "value": format_units(raw, decimals)}


def points(raw: int) -> dict[str, str]:
    return amount(raw, POINT_DECIMALS)


def price(raw: int) -> dict[str, str]:
    """An 18-decimal fixed-point price: `{"raw": "428571428571428571", "value": "0.428571428571428571"}`."""
    return amount(raw, PRICE_DECIMALS)


def moment(timestamp: int) -> dict[str, Any]:
    """`{"time": "2026-12-03T11:00:00Z", "timestamp": 1796295600}`."""
    return {"time": iso(timestamp), "timestamp": timestamp}


@lru_cache(maxsize=16_384)
def iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=65_536)
def checksum(address: str) -> str:
    """EIP-55 form of a lowercase 0x address: a letter is upper case where the keccak of the hex
    digits has a nibble of 8 or more (eth_utils' version costs several times as much per call)."""
    digits = address[2:]
    nibbles = keccak(digits.encode()).hex()
    return "0x" + "".join(c.upper() if n >= "8" else c for c, n in zip(digits, nibbles, strict=False))


class AddressError(ValueError):
    """Not an address, or mixed case that is not its EIP-55 checksum."""


def parse_address(text: str) -> str:
    """The lowercase form of `text`: 0x and 40 hex digits, all lower, all upper, or EIP-55 mixed case."""
    if not _ADDRESS.fullmatch(text):
        raise AddressError("not an address (0x and 40 hexadecimal digits)")
    body = text[2:]
    if body != body.lower() and body != body.upper() and checksum(text.lower()) != text:
        raise AddressError("mixed-case address whose EIP-55 checksum does not match")
    return "0x" + body.lower()
