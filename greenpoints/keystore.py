"""Encrypted keystore files (Web3 Secret Storage, v3): a key kept on disk without its secret.

Operators and merchants keep their signing keys in such files instead of a command-line
argument or a plain environment variable; the password comes from the environment or a prompt.
"""

from __future__ import annotations

import json
from pathlib import Path

from eth_account import Account

from greenpoints.errors import ConfigError


class KeystoreError(ConfigError):
    """A keystore file could not be read or decrypted (the message never holds the key)."""


def decrypt_keystore(path: Path, password: str) -> bytes:
    """The private key in the keystore at `path`."""
    try:
        keystore = json.loads(path.read_text())
    except OSError as exc:
        raise KeystoreError(f"cannot read keystore {path}: {exc.strerror or exc.__class__.__name__}") from None
    except ValueError:
        raise KeystoreError(f"keystore {path} is not JSON") from None
    try:
        return bytes(Account.decrypt(keystore, password))
    except ValueError as exc:
        if "MAC mismatch" in str(exc):
            raise KeystoreError(f"wrong password for keystore {path}") from None
        raise KeystoreError(f"keystore {path} is not a valid encrypted key file") from None
    except (KeyError, TypeError):
        raise KeystoreError(f"keystore {path} is not a valid encrypted key file") from None
