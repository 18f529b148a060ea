"""Signed transactions of the merchant key, and sending them so that a resend is harmless.

A transaction is signed once and kept (raw bytes and hash): sending it again after a dropped
connection, a restart or a reorg can only mine it once, because its nonce can be used once.
"""

from __future__ import annotations

from dataclasses import dataclass

from merchant.errors import MerchantError
from merchant.fees import Fees
from merchant.keys import MerchantKey
from merchant.rpc import Rpc, RpcError

# What nodes answer when they already hold the transaction (geth, anvil, erigon, besu wording).
_KNOWN_WORDS = ("already known", "known transaction", "already imported", "already exists", "already in")
_NONCE_USED_WORDS = ("nonce too low", "nonce is too low", "old nonce", "invalid nonce")
_UNDERPRICED_WORDS = ("underpriced", "less than block base fee", "fee too low", "max fee per gas less than")


@dataclass(frozen=True, slots=True)
class SignedTx:
    """One signed transaction: enough to send it again, byte for byte."""

    nonce: int
    tx_hash: str  # 0x-hex
    raw: bytes
    fees: Fees
    gas: int


class NonceUsed(MerchantError):
    """The node says the transaction's nonce is used: by this very transaction (mined) or by another."""

    code = "nonce_used"


class Underpriced(MerchantError):
    """The node refuses the transaction's fees (below the base fee, or too small a replacement)."""

    code = "underpriced"


def sign(key: MerchantKey, *, chain_id: int, nonce: int, to: str, data: str, gas: int, fees: Fees) -> SignedTx:
    """Sign an EIP-1559 call of `to` with `data`."""
    raw, tx_hash = key.sign_transaction(
        {
            "type": 2,
            "chainId": chain_id,
            "nonce": nonce,
            "to": to,
            "data": data,
            "value": 0,
            "gas": gas,
            "maxFeePerGas": fees.max_fee,
            "maxPriorityFeePerGas": fees.tip,
        }
    )
    return SignedTx(nonce=nonce, tx_hash="0x" + tx_hash.hex(), raw=raw, fees=fees, gas=gas)


def classify_send_error(exc: RpcError) -> MerchantError | None:
    """What a refused `eth_sendRawTransaction` means: None when the node already has the
    transaction, `NonceUsed`, `Underpriced`, or the error itself."""
    text = exc.message.lower()
    if any(word in text for word in _KNOWN_WORDS):
        return None
    if any(word in text for word in _NONCE_USED_WORDS):
        return NonceUsed(exc.message)
    if any(word in text for word in _UNDERPRICED_WORDS):
        return Underpriced(exc.message)
    return exc


def broadcast(rpc: Rpc, tx: SignedTx) -> None:
    """Send `tx`; fine when the node already has it. `NonceUsed` when its nonce is taken (check
    whether by `tx` itself), `Underpriced`, `RpcError` for other refusals, `ChainUnavailable`."""
    try:
        rpc.call("eth_sendRawTransaction", ["0x" + tx.raw.hex()])
    except RpcError as exc:
        problem = classify_send_error(exc)
        if problem is not None:
            raise problem from None


def broadcast_quietly(rpc: Rpc, tx: SignedTx) -> MerchantError | None:
    """`broadcast`, returning the problem instead of raising it."""
    try:
        broadcast(rpc, tx)
    except MerchantError as exc:
        return exc
    return None
