"""A dropped connection between sending a checkout and its receipt never mints twice.

The faults come from the fault-injecting JSON-RPC proxy in front of the real anvil
(tests/resilience/faultproxy.py): the node really receives and mines the transaction, and the
client really never hears the answer.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from greenpoints.anvil import Anvil
from merchant.client import MerchantClient
from merchant.errors import ChainUnavailable
from merchant.rpc import Rpc
from tests.conftest import PoolEnv
from tests.merchant.helpers import checkout_events, nonce_of
from tests.resilience.faultproxy import FaultConfig, FaultProxy


def test_a_lost_answer_to_the_send_is_retried_and_mints_once(
    anvil: Anvil, env: PoolEnv, make_client: Callable[..., MerchantClient]
) -> None:
    config = FaultConfig(forced_methods={"eth_sendRawTransaction": ["lose_answer"]})
    with FaultProxy(anvil.url, config) as proxy:
        client = make_client(url=proxy.url, rpc=Rpc(proxy.url, retries=3, backoff=0.01))
        merchant = client.merchant_address()
        assert merchant is not None
        start = nonce_of(env.w3, merchant)
        checkout = client.checkout(env.customers[0], "12000", "LOST-1")
        assert proxy.counts["lose_answer"] == 1  # the node got the transaction, the client not the answer
    assert not checkout.replayed
    assert nonce_of(env.w3, merchant) == start + 1
    assert [e.tx_hash for e in checkout_events(env.w3, env.deployment.pool, merchant, "LOST-1")] == [checkout.tx_hash]


def test_a_retry_after_the_receipt_was_lost_finds_the_checkout(
    anvil: Anvil, env: PoolEnv, make_client: Callable[..., MerchantClient]
) -> None:
    # Every receipt poll fails for a while: the client gives up after its retries, like a backend
    # whose request timed out. The transaction was sent and mined all the same.
    config = FaultConfig(forced_methods={"eth_getTransactionReceipt": ["drop"] * 12})
    with FaultProxy(anvil.url, config) as proxy:
        client = make_client(url=proxy.url, rpc=Rpc(proxy.url, retries=2, backoff=0.01))
        merchant = client.merchant_address()
        assert merchant is not None
        start = nonce_of(env.w3, merchant)
        with pytest.raises(ChainUnavailable):
            client.checkout(env.customers[0], "12000", "LOST-2")
        assert nonce_of(env.w3, merchant) == start + 1  # it is on chain
        proxy.enabled = False
        # The backend retries the same order (a new client, as after a restart): found, not sent again.
        again = make_client(url=proxy.url).checkout(env.customers[0], "12000", "LOST-2")
    assert again.replayed
    assert nonce_of(env.w3, merchant) == start + 1
    events = checkout_events(env.w3, env.deployment.pool, merchant, "LOST-2")
    assert [e.tx_hash for e in events] == [again.tx_hash]
    assert env.token.functions.balanceOf(env.customers[0]).call() == again.points
