"""MerchantClient on a real anvil: the article's checkouts, retries that never mint twice, many
checkouts in flight from one key, a stuck transaction replaced, and amounts refused."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from greenpoints import rules
from greenpoints.orders import order_id
from merchant.client import MerchantClient
from merchant.errors import InputError, OrderConflict
from tests.conftest import PoolEnv
from tests.merchant.conftest import SOFA_STORE, TEA_HOUSE
from tests.merchant.helpers import checkout_events, nonce_of, rpc

POINT = 10**18


def _pool_figures(env: PoolEnv) -> tuple[int, int, int, int]:
    pool = env.pool.functions
    return (
        pool.reserve().call(),
        env.token.functions.totalSupply().call(),
        pool.poolShareBps().call(),
        pool.feeBps().call(),
    )


def test_the_articles_checkouts_mint_the_exact_points(env: PoolEnv, make_client: Callable[..., MerchantClient]) -> None:
    tea, sofa = make_client(TEA_HOUSE), make_client(SOFA_STORE)
    customer = env.customers[0]
    # SPEC §2: the tea house (10 %) sells for 5,000: 500 skimmed, 150 into the pool, 350 points.
    reserve, supply, share, fee = _pool_figures(env)
    want = rules.quote_checkout(5000 * env.unit, 1_000, share, fee, reserve, supply, env.deployment.asset_decimals)
    assert (want.pool_in, want.points) == (150 * env.unit, 350 * POINT)
    assert tea.quote("5000").points == want.points
    first = tea.checkout(customer, "5000", "T-1")
    assert (first.points, first.pool_in, first.replayed) == (350 * POINT, 150 * env.unit, False)
    # The sofa (15 %) for 12,000: 1,800 skimmed, 540 into the pool, 1,260 points (under the mint bound).
    reserve, supply, share, fee = _pool_figures(env)
    want = rules.quote_checkout(12_000 * env.unit, 1_500, share, fee, reserve, supply, env.deployment.asset_decimals)
    assert (want.pool_in, want.points, want.bounded) == (540 * env.unit, 1_260 * POINT, False)
    asset_before = env.asset.functions.balanceOf(sofa.merchant_address()).call()
    second = sofa.checkout(customer, Decimal("12000.00"), "S-1")
    assert (second.points, second.pool_in) == (want.points, want.pool_in)
    assert env.token.functions.balanceOf(customer).call() == (350 + 1_260) * POINT
    assert env.pool.functions.reserve().call() == (150 + 540) * env.unit
    assert asset_before - env.asset.functions.balanceOf(sofa.merchant_address()).call() == 540 * env.unit
    assert second.as_json()["points"] == "1260" and second.as_json()["pool_in"] == "540"


def test_a_retry_returns_the_earlier_checkout_and_sends_nothing(
    env: PoolEnv, make_client: Callable[..., MerchantClient]
) -> None:
    client = make_client()
    merchant = client.merchant_address()
    assert merchant is not None
    customer = env.customers[1]
    first = client.checkout(customer, "12000.00", "A-1001")
    nonce = nonce_of(env.w3, merchant)
    # A new client (another process after a crash) retries the same order: found, not sent.
    again = make_client().checkout(customer, "12000", "A-1001")
    assert again.replayed and (again.tx_hash, again.points) == (first.tx_hash, first.points)
    assert nonce_of(env.w3, merchant) == nonce
    assert len(checkout_events(env.w3, env.deployment.pool, merchant, "A-1001")) == 1
    with pytest.raises(OrderConflict, match="different figures"):
        client.checkout(customer, "12000.01", "A-1001")
    with pytest.raises(OrderConflict, match="different figures"):
        client.checkout(env.customers[2], "12000", "A-1001")
    assert env.token.functions.balanceOf(customer).call() == first.points
    status = client.status("A-1001")
    assert status.checkout is not None and status.checkout.tx_hash == first.tx_hash
    assert make_client().status("A-1002").checkout is None


def test_fifty_concurrent_checkouts_from_one_key_all_mine_with_consecutive_nonces(
    env: PoolEnv, make_client: Callable[..., MerchantClient]
) -> None:
    client = make_client()
    merchant = client.merchant_address()
    assert merchant is not None
    start = nonce_of(env.w3, merchant)
    refs = [f"C-{n}" for n in range(50)]
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(lambda ref: client.checkout(env.customers[len(ref) % 5], "100", ref), refs))
    assert {r.order_ref for r in results} == set(refs) and not any(r.replayed for r in results)
    nonces = sorted(int(env.w3.eth.get_transaction(r.tx_hash)["nonce"]) for r in results)  # type: ignore[arg-type]
    assert nonces == list(range(start, start + 50))
    assert nonce_of(env.w3, merchant) == start + 50
    events = checkout_events(env.w3, env.deployment.pool, merchant)
    assert sorted(e.order_id for e in events) == sorted(order_id(ref) for ref in refs)


def test_a_transaction_stuck_below_the_base_fee_is_replaced(
    env: PoolEnv, make_client: Callable[..., MerchantClient], caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(stuck_after=0.3, timeout=30)
    merchant = client.merchant_address()
    assert merchant is not None
    start = nonce_of(env.w3, merchant)
    rpc(env.w3, "evm_setAutomine", [False])
    result: dict[str, object] = {}
    try:
        caplog.set_level(logging.INFO, logger="merchant.client")
        thread = threading.Thread(target=lambda: result.update(c=client.checkout(env.customers[0], "500", "STUCK-1")))
        thread.start()
        deadline = time.monotonic() + 10
        while int(rpc(env.w3, "eth_getTransactionCount", [merchant, "pending"]), 16) == start:
            assert time.monotonic() < deadline, "the checkout was never sent"
            time.sleep(0.01)
        offered = int(rpc(env.w3, "eth_getBlockByNumber", ["pending", True])["transactions"][0]["maxFeePerGas"], 16)
        # The base fee jumps to five times the waiting transaction's fee cap: it cannot be mined.
        rpc(env.w3, "anvil_setNextBlockBaseFeePerGas", [hex(offered * 5)])
        rpc(env.w3, "evm_mine", [])
        assert int(rpc(env.w3, "eth_getTransactionCount", [merchant, "latest"]), 16) == start
        while thread.is_alive() and time.monotonic() < deadline + 10:
            rpc(env.w3, "evm_mine", [])
            thread.join(0.1)
    finally:
        rpc(env.w3, "evm_setAutomine", [True])
    assert not thread.is_alive() and "c" in result, "the checkout did not finish"
    sent = [r.getMessage() for r in caplog.records if r.getMessage().startswith("sent tx=")]
    replaced = [r.getMessage() for r in caplog.records if r.getMessage().startswith("replaced stuck tx=")]
    assert len(sent) == 2 and len(replaced) == 1, (sent, replaced)
    first_hash, second_hash = (line.split()[1].removeprefix("tx=") for line in sent)
    checkout = result["c"]
    assert checkout.tx_hash == second_hash != first_hash  # type: ignore[attr-defined]
    assert rpc(env.w3, "eth_getTransactionReceipt", [first_hash]) is None
    assert int(env.w3.eth.get_transaction(second_hash)["nonce"]) == start  # type: ignore[arg-type]
    assert len(checkout_events(env.w3, env.deployment.pool, merchant, "STUCK-1")) == 1


@pytest.mark.parametrize(
    "amount, reason",
    [
        (12000.0, "not float"),
        (12000, "not int"),
        (True, "not bool"),
        ("12000.0000001", "more than 6 decimal places"),
        ("-1", "not a non-negative decimal"),
        ("1e3", "not a non-negative decimal"),
        (Decimal("NaN"), "finite"),
        (Decimal("-5"), "non-negative"),
        (Decimal("1.0000001"), "more than 6 decimal places"),
    ],
)
def test_bad_amounts_are_refused_before_anything_is_sent(
    env: PoolEnv, make_client: Callable[..., MerchantClient], amount: object, reason: str
) -> None:
    client = make_client()
    assert client.merchant_address() is not None
    nonce = nonce_of(env.w3, client.merchant_address() or "")
    with pytest.raises(InputError, match=reason):
        client.checkout(env.customers[0], amount, "F-1")  # type: ignore[arg-type]
    assert nonce_of(env.w3, client.merchant_address() or "") == nonce


def test_concurrent_calls_for_one_order_check_it_out_once(
    env: PoolEnv, make_client: Callable[..., MerchantClient]
) -> None:
    # Five backends (five clients, one key) race on the same order, each offering another tip so
    # that their transactions differ: one checkout, five answers naming it; the losers' copies
    # are refused by the pool or never mined.
    clients = [make_client(priority_fee=(n + 1) * 10**9) for n in range(5)]
    start = nonce_of(env.w3, clients[0].merchant_address() or "")
    with ThreadPoolExecutor(max_workers=5) as pool:
        results = list(pool.map(lambda c: c.checkout(env.customers[4], "900", "RACE-1"), clients))
    assert len({r.tx_hash for r in results}) == 1
    merchant = clients[0].merchant_address()
    assert len(checkout_events(env.w3, env.deployment.pool, merchant, "RACE-1")) == 1
    assert env.token.functions.balanceOf(env.customers[4]).call() == results[0].points
    # Copies sent after the winner was mined revert on chain (PoolOrderReplayed): gas spent, nothing minted.
    assert 1 <= nonce_of(env.w3, merchant or "") - start <= 5
