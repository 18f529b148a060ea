"""MerchantClient against what a chain does to its transactions: a reorg that drops a checkout
before its confirmations, and another sender of the same key taking its nonce."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from eth_account import Account

from merchant.client import MerchantClient
from merchant.results import Checkout
from tests.conftest import PoolEnv
from tests.merchant.conftest import SOFA_STORE, anvil_key
from tests.merchant.helpers import checkout_events, nonce_of, rpc


def _in_thread(call: Callable[[], Checkout]) -> tuple[threading.Thread, dict[str, object]]:
    result: dict[str, object] = {}

    def run() -> None:
        try:
            result["checkout"] = call()
        except Exception as exc:  # reported by the test
            result["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def _finish(thread: threading.Thread, result: dict[str, object], env: PoolEnv, mine: bool = True) -> Checkout:
    deadline = time.monotonic() + 30
    while thread.is_alive() and time.monotonic() < deadline:
        if mine:
            rpc(env.w3, "evm_mine", [])
        thread.join(0.1)
    assert not thread.is_alive(), "the checkout did not finish"
    assert "error" not in result, result["error"]
    checkout = result["checkout"]
    assert isinstance(checkout, Checkout)
    return checkout


@pytest.fixture
def manual_mining(env: PoolEnv) -> Iterator[None]:
    rpc(env.w3, "evm_setAutomine", [False])
    yield
    rpc(env.w3, "evm_setAutomine", [True])


def _wait_pending(env: PoolEnv, merchant: str, count: int) -> dict[str, object]:
    deadline = time.monotonic() + 10
    while int(rpc(env.w3, "eth_getTransactionCount", [merchant, "pending"]), 16) == count:
        assert time.monotonic() < deadline, "nothing was sent"
        time.sleep(0.01)
    (tx,) = rpc(env.w3, "eth_getBlockByNumber", ["pending", True])["transactions"]
    return dict(tx)


def test_a_reorg_before_the_confirmations_sends_the_checkout_again(
    env: PoolEnv, make_client: Callable[..., MerchantClient]
) -> None:
    for _ in range(6):
        rpc(env.w3, "evm_mine", [])  # the reorg below replaces only blocks of this test
    client = make_client(confirmations=4)
    merchant = client.merchant_address() or ""
    thread, result = _in_thread(lambda: client.checkout(env.customers[0], "700", "REORG-1"))
    deadline = time.monotonic() + 10
    while not checkout_events(env.w3, env.deployment.pool, merchant, "REORG-1"):
        assert time.monotonic() < deadline, "the checkout was not mined"
        time.sleep(0.01)
    (first,) = checkout_events(env.w3, env.deployment.pool, merchant, "REORG-1")
    rpc(env.w3, "evm_mine", [])
    time.sleep(0.2)  # the client sees it mined with one confirmation of four
    rpc(env.w3, "anvil_reorg", [3, []])
    assert checkout_events(env.w3, env.deployment.pool, merchant, "REORG-1") == []
    checkout = _finish(thread, result, env)
    (event,) = checkout_events(env.w3, env.deployment.pool, merchant, "REORG-1")
    assert checkout.tx_hash == event.tx_hash == first.tx_hash  # the same transaction, sent again
    assert event.block_number > first.block_number and checkout.confirmations >= 4


def test_a_nonce_taken_by_another_sender_of_the_key_is_signed_again(
    env: PoolEnv, make_client: Callable[..., MerchantClient], manual_mining: None
) -> None:
    client = make_client(stuck_after=0.3)
    merchant = client.merchant_address() or ""
    start = nonce_of(env.w3, merchant)
    thread, result = _in_thread(lambda: client.checkout(env.customers[1], "800", "TAKEN-1"))
    pending = _wait_pending(env, merchant, start)
    other = Account.from_key(anvil_key(SOFA_STORE)).sign_transaction(
        {
            "type": 2,
            "chainId": 31337,
            "nonce": start,
            "to": env.customers[1],
            "value": 0,
            "gas": 21_000,
            "maxFeePerGas": int(str(pending["maxFeePerGas"]), 16) * 3,
            "maxPriorityFeePerGas": int(str(pending["maxPriorityFeePerGas"]), 16) * 3,
        }
    )
    rpc(env.w3, "eth_sendRawTransaction", ["0x" + bytes(other.raw_transaction).hex()])  # replaces it in the pool
    rpc(env.w3, "evm_mine", [])
    checkout = _finish(thread, result, env)
    assert int(env.w3.eth.get_transaction(checkout.tx_hash)["nonce"]) == start + 1  # type: ignore[arg-type]
    assert [e.tx_hash for e in checkout_events(env.w3, env.deployment.pool, merchant, "TAKEN-1")] == [checkout.tx_hash]
