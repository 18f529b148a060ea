"""Chain-side checks shared by the merchant tests: what really happened on chain, read with web3."""

from __future__ import annotations

from typing import Any

from web3 import Web3

from greenpoints.orders import order_id
from merchant import abi


def checkout_events(
    w3: Web3, pool: str, merchant: str | None = None, order_ref: str | None = None
) -> list[abi.CheckedOutLog]:
    """Every `CheckedOut` log of `pool` on the canonical chain (optionally of one merchant and order)."""
    topics: list[Any] = [
        abi.CHECKED_OUT_TOPIC,
        None if merchant is None else abi.address_topic(merchant),
        None,
        None if order_ref is None else "0x" + order_id(order_ref).hex(),
    ]
    flt = {"address": pool, "topics": topics, "fromBlock": "0x0", "toBlock": "latest"}
    return [abi.decode_checked_out(log) for log in rpc(w3, "eth_getLogs", [flt])]


def nonce_of(w3: Web3, address: str) -> int:
    return int(w3.eth.get_transaction_count(Web3.to_checksum_address(address), "latest"))


def rpc(w3: Web3, method: str, params: list[Any]) -> Any:
    response: dict[str, Any] = w3.provider.make_request(method, params)  # type: ignore[arg-type, assignment]
    assert "error" not in response, f"{method} failed: {response}"
    return response.get("result")


def spellings(key: str) -> list[str]:
    """Ways a key could leak: with and without 0x, either case, and a long piece of it."""
    bare = key.removeprefix("0x")
    return [bare, bare.upper(), bare[8:40], bare[8:40].upper()]


def assert_no_key(text: str, key: str) -> None:
    leaked = [s for s in spellings(key) if s in text or s.lower() in text.lower()]
    assert not leaked, "the key leaked"
