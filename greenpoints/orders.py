"""Order ids: the 32-byte on-chain `orderId` derived from a merchant's own order reference.

`order_id(ref)` is keccak256 of the reference's UTF-8 bytes, so any web3 library derives the
same id: `keccak256(toBytes(ref))` in viem, `Web3.keccak(text=ref)` in web3.py. A reference is 1
to 128 Unicode code points (what JavaScript's `[...ref].length` counts), none of them a control
character (U+0000–U+001F, U+007F–U+009F) or a lone surrogate. It is used exactly as given: no
trimming, no case folding, no normalisation, so "A-1001" and "a-1001" are different orders.
"""

from __future__ import annotations

from eth_hash.auto import keccak

from greenpoints.errors import GreenPointsError

MAX_ORDER_REF_LENGTH = 128


class OrderRefError(GreenPointsError, ValueError):
    """An order reference that cannot name an order."""


def _is_control(char: str) -> bool:
    code = ord(char)
    return code <= 0x1F or 0x7F <= code <= 0x9F


def check_order_ref(order_ref: object) -> str:
    """`order_ref` itself when it is a valid order reference; `OrderRefError` saying why not."""
    if not isinstance(order_ref, str):
        raise OrderRefError(f"an order reference must be a string (got {type(order_ref).__name__})")
    if not 1 <= len(order_ref) <= MAX_ORDER_REF_LENGTH:
        raise OrderRefError(f"an order reference has 1 to {MAX_ORDER_REF_LENGTH} characters (got {len(order_ref)})")
    for position, char in enumerate(order_ref):
        if _is_control(char):
            raise OrderRefError(f"an order reference has no control characters (U+{ord(char):04X} at {position})")
        if 0xD800 <= ord(char) <= 0xDFFF:
            raise OrderRefError(f"an order reference must be valid Unicode (lone surrogate at {position})")
    return order_ref


def order_id(order_ref: str) -> bytes:
    """The on-chain order id of `order_ref`: keccak256 of its UTF-8 bytes (validated first)."""
    return bytes(keccak(check_order_ref(order_ref).encode("utf-8")))
