"""EIP-712 `Spend` permissions: a holder lets one merchant burn points for one order, gas-free.

The pool checks them in `spendFor`; merchants (and the DApp) build and sign them with this.
"""

from __future__ import annotations

from typing import Any

from eth_account.signers.local import LocalAccount

DOMAIN_NAME = "GreenPointsPool"
DOMAIN_VERSION = "1"
SPEND_TYPES: dict[str, list[dict[str, str]]] = {
    "Spend": [
        {"name": "holder", "type": "address"},
        {"name": "merchant", "type": "address"},
        {"name": "points", "type": "uint256"},
        {"name": "orderId", "type": "bytes32"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}


def spend_domain(chain_id: int, pool: str) -> dict[str, Any]:
    """The pool's EIP-712 domain."""
    return {"name": DOMAIN_NAME, "version": DOMAIN_VERSION, "chainId": chain_id, "verifyingContract": pool}


def sign_spend(
    signer: LocalAccount,
    *,
    chain_id: int,
    pool: str,
    merchant: str,
    points: int,
    order_id: bytes,
    nonce: int,
    deadline: int,
) -> bytes:
    """The 65-byte signature of `signer` (the holder) on a `Spend` permission for `pool`."""
    message = {
        "holder": signer.address,
        "merchant": merchant,
        "points": points,
        "orderId": order_id,
        "nonce": nonce,
        "deadline": deadline,
    }
    signed = signer.sign_typed_data(
        domain_data=spend_domain(chain_id, pool), message_types=SPEND_TYPES, message_data=message
    )
    return bytes(signed.signature)
