"""The gateway against what a chain does to transactions, on a real anvil.

- A 5-block reorg (anvil_reorg) drops a checkout that was mined but not yet final: the gateway
  notices, sends the very same transaction again, once, and calls it final only when it has its
  confirmations on the new chain. A checkout mined below the reorg is left alone.
- A transaction stuck below a base fee that jumped is replaced (same nonce, higher fees).
- A transaction whose nonce another sender of the same key used is signed again with a new nonce.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest
from eth_account import Account

from merchant.migrate import libpq_url
from tests.merchant.gateway import WEBHOOK_SECRET, Chain, Gateway, WebhookReceiver, chain, database
from tests.merchant.helpers import checkout_events, rpc

__all__ = ["chain", "database"]  # module fixtures

CONFIRMATIONS = 6


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def gateway(
    chain: Chain, database: str, receiver: WebhookReceiver, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    gw = Gateway(
        chain,
        database,
        tmp_path_factory.mktemp("gateway-logs"),
        gateway_confirmations=str(CONFIRMATIONS),
        gateway_webhook_url=receiver.url,
        gateway_webhook_secret=WEBHOOK_SECRET,
        merchant_stuck_after="0.5",
    )
    gw.start()
    yield gw
    gw.stop()


@pytest.fixture
def manual_mining(chain: Chain) -> Iterator[None]:
    rpc(chain.w3, "evm_setAutomine", [False])
    yield
    rpc(chain.w3, "evm_setAutomine", [True])


def _mine(chain: Chain, blocks: int) -> None:
    for _ in range(blocks):
        rpc(chain.w3, "evm_mine", [])


def _wait(gateway: Gateway, key: str, condition: str, test: object, timeout: float = 20) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, object] = gateway.get(key).json()
        if test(body):  # type: ignore[operator]
            return body
        assert time.monotonic() < deadline, f"{key}: {condition} did not happen: {body}"
        time.sleep(0.05)


def _counters(database: str, key: str) -> tuple[int, int, int]:
    with psycopg.connect(libpq_url(database)) as conn:
        row = conn.execute(
            "SELECT c.broadcasts, c.reorgs, count(t.tx_hash) FROM gateway_checkouts c"
            " JOIN gateway_transactions t ON t.checkout_id = c.id WHERE c.idempotency_key = %s"
            " GROUP BY c.broadcasts, c.reorgs",
            (key,),
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def test_a_reorg_that_drops_an_unconfirmed_checkout_sends_it_again_once(
    chain: Chain, database: str, receiver: WebhookReceiver, gateway: Gateway
) -> None:
    customers = chain.w3.eth.accounts[5:7]
    assert gateway.post({"customer": customers[0], "amount": "5000", "order_ref": "DEEP"}, "deep").status_code == 202
    deep = _wait(gateway, "deep", "mined", lambda b: b["block_number"] is not None)
    _mine(chain, 3)
    assert (
        gateway.post({"customer": customers[1], "amount": "12000", "order_ref": "SHALLOW"}, "shallow").status_code
        == 202
    )
    mined = _wait(gateway, "shallow", "mined", lambda b: b["block_number"] is not None)
    first_block = int(mined["block_number"])  # type: ignore[call-overload]
    _mine(chain, 2)
    head = chain.w3.eth.block_number
    assert head - first_block == 2 < CONFIRMATIONS and mined["state"] == "sent"
    assert first_block - int(deep["block_number"]) == 4  # type: ignore[call-overload]

    rpc(chain.w3, "anvil_reorg", [5, []])  # blocks head-4 .. head replaced by empty ones
    assert chain.w3.eth.block_number == head
    assert checkout_events(chain.w3, chain.deployment.pool, order_ref="SHALLOW") == []
    assert len(checkout_events(chain.w3, chain.deployment.pool, order_ref="DEEP")) == 1

    again = _wait(gateway, "shallow", "sent again", lambda b: b["block_number"] not in (None, first_block))
    assert again["tx_hash"] == mined["tx_hash"]  # the same signed transaction, byte for byte
    assert again["state"] == "sent"  # not final: its confirmations count from its new block
    _mine(chain, CONFIRMATIONS)
    final = _wait(gateway, "shallow", "final", lambda b: b["state"] == "final")
    assert _wait(gateway, "deep", "final", lambda b: b["state"] == "final")["block_number"] == deep["block_number"]
    time.sleep(0.5)  # a second webhook or send would show by now

    (event,) = checkout_events(chain.w3, chain.deployment.pool, order_ref="SHALLOW")
    assert (event.tx_hash, event.block_number) == (final["tx_hash"], final["block_number"])
    assert chain.w3.eth.get_block(event.block_number)["hash"].to_0x_hex() == final["block_hash"]
    assert _counters(database, "shallow") == (2, 1, 1)  # sent twice, one reorg, one signed transaction
    assert _counters(database, "deep") == (1, 0, 1)
    hooks = [d.json() for d in receiver.delivered() if d.json()["data"]["idempotency_key"] in ("deep", "shallow")]
    assert sorted(h["data"]["idempotency_key"] for h in hooks) == ["deep", "shallow"]
    assert next(h for h in hooks if h["data"]["idempotency_key"] == "shallow")["data"] == final


def _pending_fees(chain: Chain, tx_hash: str) -> tuple[int, int, int]:
    tx = rpc(chain.w3, "eth_getTransactionByHash", [tx_hash])
    assert tx is not None, "the gateway's transaction is not in the node"
    return int(tx["nonce"], 16), int(tx["maxFeePerGas"], 16), int(tx["maxPriorityFeePerGas"], 16)


def test_a_transaction_stuck_below_the_base_fee_is_replaced(
    chain: Chain, database: str, gateway: Gateway, manual_mining: None
) -> None:
    customer = chain.w3.eth.accounts[7]
    assert gateway.post({"customer": customer, "amount": "300", "order_ref": "STUCK"}, "stuck").status_code == 202
    sent = _wait(gateway, "stuck", "sent", lambda b: b["tx_hash"] is not None)
    nonce, max_fee, _ = _pending_fees(chain, str(sent["tx_hash"]))
    rpc(chain.w3, "anvil_setNextBlockBaseFeePerGas", [hex(max_fee * 5)])
    _mine(chain, 1)  # a block whose base fee is five times the transaction's cap: it stays out
    assert rpc(chain.w3, "eth_getTransactionReceipt", [sent["tx_hash"]]) is None
    replaced = _wait(gateway, "stuck", "replaced", lambda b: b["tx_hash"] != sent["tx_hash"])
    assert _pending_fees(chain, str(replaced["tx_hash"]))[0] == nonce  # the same nonce, higher fees
    _mine(chain, CONFIRMATIONS + 1)
    final = _wait(gateway, "stuck", "final", lambda b: b["state"] == "final")
    assert final["tx_hash"] == replaced["tx_hash"]
    assert rpc(chain.w3, "eth_getTransactionReceipt", [sent["tx_hash"]]) is None
    (event,) = checkout_events(chain.w3, chain.deployment.pool, order_ref="STUCK")
    assert event.tx_hash == final["tx_hash"]
    assert _counters(database, "stuck")[2] == 2  # two signed transactions kept: the stuck one and its replacement


def test_a_nonce_taken_by_another_sender_is_signed_again(
    chain: Chain, database: str, gateway: Gateway, manual_mining: None
) -> None:
    customer = chain.w3.eth.accounts[8]
    assert gateway.post({"customer": customer, "amount": "400", "order_ref": "TAKEN"}, "taken").status_code == 202
    sent = _wait(gateway, "taken", "sent", lambda b: b["tx_hash"] is not None)
    nonce, max_fee, tip = _pending_fees(chain, str(sent["tx_hash"]))
    # Another tool with the same key sends something else with that nonce, paying more: it wins.
    other = Account.from_key(gateway.key).sign_transaction(
        {"type": 2, "chainId": 31337, "nonce": nonce, "to": customer, "value": 0, "gas": 21_000,
         "maxFeePerGas": max_fee * 3, "maxPriorityFeePerGas": tip * 3}
    )  # fmt: skip
    rpc(chain.w3, "eth_sendRawTransaction", ["0x" + bytes(other.raw_transaction).hex()])
    _mine(chain, 1)
    assert rpc(chain.w3, "eth_getTransactionReceipt", ["0x" + bytes(other.hash).hex()]) is not None
    again = _wait(gateway, "taken", "signed again", lambda b: b["tx_hash"] != sent["tx_hash"])
    assert again["nonce"] == nonce + 1
    _mine(chain, CONFIRMATIONS + 1)
    final = _wait(gateway, "taken", "final", lambda b: b["state"] == "final")
    (event,) = checkout_events(chain.w3, chain.deployment.pool, order_ref="TAKEN")
    assert event.tx_hash == final["tx_hash"] == again["tx_hash"]
