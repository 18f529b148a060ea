"""Order ids: keccak256 of the reference's UTF-8 bytes, with the references refused that cannot name an order."""

from __future__ import annotations

import re

import pytest
from eth_hash.auto import keccak

from greenpoints.orders import MAX_ORDER_REF_LENGTH, OrderRefError, check_order_ref, order_id


def test_order_id_is_keccak_of_the_utf8_bytes() -> None:
    # Independent derivation: the bytes a browser's TextEncoder gives, hashed by keccak256.
    assert order_id("A-1001") == keccak(bytes([0x41, 0x2D, 0x31, 0x30, 0x30, 0x31]))
    assert order_id("茶-7") == keccak("茶-7".encode())
    # The published keccak256 test vector of "abc".
    assert order_id("abc").hex() == "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"


def test_references_are_exact() -> None:
    assert order_id("A-1001") != order_id("a-1001")
    assert order_id("A-1001") != order_id(" A-1001")
    assert len({order_id(f"A-{n}") for n in range(1000)}) == 1000


@pytest.mark.parametrize(
    "ref, reason",
    [
        ("", "1 to 128 characters"),
        ("x" * (MAX_ORDER_REF_LENGTH + 1), "1 to 128 characters"),
        ("A-1\n", "U+000A at 3"),
        ("\x00", "U+0000"),
        ("A\x7f", "U+007F"),
        ("A\x9f", "U+009F"),
        ("A\ud800", "lone surrogate"),
    ],
)
def test_bad_references_are_refused_with_the_reason(ref: str, reason: str) -> None:
    with pytest.raises(OrderRefError, match=re.escape(reason)):
        order_id(ref)


def test_longest_reference_counts_code_points() -> None:
    assert check_order_ref("茶" * MAX_ORDER_REF_LENGTH) == "茶" * MAX_ORDER_REF_LENGTH  # 384 UTF-8 bytes is fine
    assert check_order_ref("😀" * MAX_ORDER_REF_LENGTH)


def test_a_non_string_is_refused() -> None:
    with pytest.raises(OrderRefError, match="must be a string"):
        check_order_ref(1001)
