"""Turn revert data into a readable custom error, using the errors in the compiled ABIs."""

from __future__ import annotations

from functools import cache
from typing import Any

from eth_abi import decode
from eth_utils import function_signature_to_4byte_selector

from greenpoints.artifacts import abi
from greenpoints.compiler import PRODUCTION_CONTRACTS


def _signature(entry: dict[str, Any]) -> str:
    return f"{entry['name']}({','.join(arg['type'] for arg in entry['inputs'])})"


@cache
def error_table() -> dict[bytes, dict[str, Any]]:
    """Custom errors of the production contracts (and OpenZeppelin's they inherit) by selector."""
    table: dict[bytes, dict[str, Any]] = {}
    for name in PRODUCTION_CONTRACTS:
        for entry in abi(name):
            if entry["type"] == "error":
                table[function_signature_to_4byte_selector(_signature(entry))] = entry
    return table


def decode_custom_error(data: str | bytes) -> tuple[str, tuple[Any, ...]] | None:
    """(error name, arguments) for revert `data`, or None when the selector is unknown."""
    raw = bytes.fromhex(data.removeprefix("0x")) if isinstance(data, str) else data
    entry = error_table().get(raw[:4])
    if entry is None:
        return None
    args = decode([arg["type"] for arg in entry["inputs"]], raw[4:])
    return entry["name"], tuple(args)


def describe_custom_error(data: str | bytes) -> str:
    """`Name(arg, ...)` for revert `data`, or the raw data when the error is unknown."""
    decoded = decode_custom_error(data)
    if decoded is None:
        return f"unknown error {data!r}"
    name, args = decoded
    shown = ", ".join(a.hex() if isinstance(a, bytes) else str(a) for a in args)
    return f"{name}({shown})"
