"""Fixtures for the merchant tests: the shared anvil with a fresh pool per test (tests/conftest.py),
merchant keys derived from anvil's mnemonic, and clients on them.

The demo merchants are anvil accounts 2, 3 and 4 (Tea House 10 %, Sofa Store 15 %, Bookshop 5 %),
each funded with the test stablecoin and approved by the deployment; customers start at account 5.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from eth_account import Account

from greenpoints.anvil import ANVIL_MNEMONIC, Anvil
from merchant.client import MerchantClient
from merchant.keys import MerchantKey, key_from_hex
from tests.conftest import PoolEnv

TEA_HOUSE, SOFA_STORE, BOOKSHOP = 2, 3, 4


def anvil_key(index: int) -> str:
    """The private key (0x-hex) of anvil account `index`."""
    Account.enable_unaudited_hdwallet_features()
    account = Account.from_mnemonic(ANVIL_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
    return "0x" + bytes(account.key).hex()


def merchant_key(index: int) -> MerchantKey:
    return key_from_hex(anvil_key(index))


@pytest.fixture
def make_client(anvil: Anvil, env: PoolEnv) -> Callable[..., MerchantClient]:
    """`make_client(account_index, **options)`: a client on the fresh pool of `env`."""

    def make(index: int = SOFA_STORE, url: str | None = None, **options: object) -> MerchantClient:
        options.setdefault("poll_interval", 0.02)
        return MerchantClient(url or anvil.url, env.deployment, merchant_key(index), **options)  # type: ignore[arg-type]

    return make
