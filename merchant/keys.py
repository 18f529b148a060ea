"""The merchant's signing key: from `GREENPOINTS_MERCHANT_KEY` or an encrypted keystore file.

Never from a command-line argument (other users of the machine can read process arguments).
`MerchantKey` holds the key and shows only its address: its `repr`, `str` and every message
this module raises leave the key out.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from greenpoints.keystore import KeystoreError, decrypt_keystore
from merchant.errors import SigningKeyError

# The order of secp256k1's group: a private key lies in [1, n - 1].
SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


class MerchantKey:
    """A merchant's private key; signs transactions; shows only its `address`."""

    __slots__ = ("__account",)

    def __init__(self, account: LocalAccount) -> None:
        self.__account = account

    @property
    def address(self) -> str:
        """The merchant's address (checksummed)."""
        return str(self.__account.address)

    def sign_transaction(self, tx: dict[str, Any]) -> tuple[bytes, bytes]:
        """(raw signed transaction, its hash) for the transaction fields `tx`."""
        signed = self.__account.sign_transaction(tx)
        return bytes(signed.raw_transaction), bytes(signed.hash)

    def __repr__(self) -> str:
        return f"MerchantKey(address={self.address})"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("a MerchantKey cannot be pickled")


def key_from_hex(text: str, source: str = "GREENPOINTS_MERCHANT_KEY") -> MerchantKey:
    """The key in hex `text` (0x optional); refused without showing it."""
    hex_part = text.strip().removeprefix("0x")
    if len(hex_part) != 64 or any(c not in "0123456789abcdefABCDEF" for c in hex_part):
        raise SigningKeyError(f"{source} is not a private key (32 bytes of hex)")
    if not 0 < int(hex_part, 16) < SECP256K1_ORDER:
        raise SigningKeyError(f"{source} is not a valid secp256k1 private key (out of range)")
    try:
        return MerchantKey(Account.from_key(bytes.fromhex(hex_part)))
    except (ValueError, TypeError):
        raise SigningKeyError(f"{source} is not a valid secp256k1 private key") from None


def key_from_keystore(path: Path, password: str) -> MerchantKey:
    """The key in the encrypted keystore (Web3 Secret Storage, v3) at `path`."""
    try:
        return MerchantKey(Account.from_key(decrypt_keystore(path, password)))
    except KeystoreError as exc:
        raise SigningKeyError(str(exc)) from None


def load_key(
    *,
    key_hex: str | None,
    keystore: Path | None,
    password: str | None,
    prompt: Callable[[str], str] | None = None,
) -> MerchantKey:
    """The merchant key from exactly one source: `key_hex` (the environment) or `keystore`, whose
    password is `password` (the environment) or else asked with `prompt` (a terminal)."""
    if key_hex is not None and keystore is not None:
        raise SigningKeyError("both GREENPOINTS_MERCHANT_KEY and a keystore are set: use one")
    if key_hex is not None:
        return key_from_hex(key_hex)
    if keystore is None:
        raise SigningKeyError(
            "no merchant key: set GREENPOINTS_MERCHANT_KEY or pass --keystore FILE (or GREENPOINTS_MERCHANT_KEYSTORE)"
        )
    if password is None:
        if prompt is None:
            raise SigningKeyError(
                f"keystore {keystore} needs a password: set GREENPOINTS_MERCHANT_KEYSTORE_PASSWORD or run on a terminal"
            )
        password = prompt(f"password for keystore {keystore}: ")
    return key_from_keystore(keystore, password)


def write_keystore(key_hex: str, password: str, path: Path, *, iterations: int | None = None) -> Path:
    """Encrypt the key in hex `key_hex` into a new keystore file at `path` (mode 600).

    `iterations` switches to PBKDF2 with that many rounds (tests use few); the default is
    eth-account's scrypt work factor."""
    key_from_hex(key_hex, "the key")  # refuses a bad key without showing it
    secret = bytes.fromhex(key_hex.strip().removeprefix("0x"))
    keystore = Account.encrypt(secret, password, kdf="pbkdf2" if iterations else None, iterations=iterations)
    path.touch(mode=0o600, exist_ok=False)
    path.write_text(json.dumps(keystore))
    return path
