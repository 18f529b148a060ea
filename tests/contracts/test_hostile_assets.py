"""Hostile reserve assets (SPEC §5): a token that re-enters the pool, and a fee-on-transfer token.

Each test deploys its own pool over the test-only asset (`custom_pool` fixture), one merchant at
10 %. A re-entrant call from inside any of the pool's asset transfers must make the outer call
revert with OpenZeppelin's `ReentrancyGuardReentrantCall`; a fee-on-transfer asset is refused with
`PoolTransferShortfall(expected, received)`. In every case nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from web3.contract.contract import ContractFunction

from greenpoints.deploy import MAX_UINT256
from tests.contracts.conftest import CustomPool
from tests.contracts.helpers import POINT, expect_refusal, order_id, transact

UNIT = 10**6  # both test assets have 6 decimals
# 5,000 at 10 %: 350 points, 150 into the pool.
SALE = 5_000 * UNIT
POOL_IN = 150 * UNIT

OUTER_CALLS = ("checkout", "fund", "redeem")
REENTRANT_CALLS = ("checkout", "fund", "redeem")


def outer_call(p: CustomPool, name: str) -> tuple[ContractFunction, str]:
    """The pool call whose asset transfer will be hooked, and its sender."""
    holder = p.customers[0]
    calls = {
        "checkout": (p.pool.functions.checkout(holder, SALE, order_id("outer")), p.merchant),
        "fund": (p.pool.functions.fund(10 * UNIT, MAX_UINT256), holder),
        "redeem": (p.pool.functions.redeem(100 * POINT, 0), holder),
    }
    return calls[name]


def reentrant_calldata(p: CustomPool, name: str) -> str:
    """Call data for the pool call the asset makes from inside its transfer."""
    args = {
        "checkout": [p.customers[1], SALE, order_id("inner")],
        "fund": [1, MAX_UINT256],
        "redeem": [POINT, 0],
    }
    data: str = p.pool.encode_abi(name, args[name])
    return data


@pytest.fixture
def reentrant(custom_pool: Callable[[str], CustomPool]) -> CustomPool:
    """A pool over ReentrantToken, with 350 points for customer 0 and 150 in the reserve."""
    p = custom_pool("ReentrantToken")
    transact(p.pool.functions.checkout(p.customers[0], SALE, order_id("setup")), p.merchant)
    assert p.pool.functions.reserve().call() == POOL_IN
    assert p.token.functions.balanceOf(p.customers[0]).call() == 350 * POINT
    return p


@pytest.mark.parametrize("inner", REENTRANT_CALLS)
@pytest.mark.parametrize("outer", OUTER_CALLS)
def test_reentry_through_the_asset_is_refused(reentrant: CustomPool, outer: str, inner: str) -> None:
    p = reentrant
    fn, sender = outer_call(p, outer)
    transact(p.asset.functions.setHook(p.pool.address, reentrant_calldata(p, inner)), sender)
    assert p.asset.functions.hookTarget().call() == p.pool.address
    watch = p.watch([(p.merchant, order_id("outer")), (p.asset.address, order_id("inner"))])
    expect_refusal(fn, sender, "ReentrancyGuardReentrantCall", watch=watch)
    # The failed call did not even consume the one-shot hook (everything was rolled back).
    assert p.asset.functions.hookTarget().call() == p.pool.address

    # Control: disarmed, the same outer call goes through.
    transact(p.asset.functions.setHook("0x0000000000000000000000000000000000000000", b""), sender)
    transact(fn, sender)


@pytest.mark.parametrize("outer", OUTER_CALLS)
def test_the_hook_really_runs_inside_each_transfer(reentrant: CustomPool, outer: str) -> None:
    """Control for the test above: a harmless hook (minting 1 unit to a witness) fires during the call."""
    p = reentrant
    witness = p.customers[3]
    fn, sender = outer_call(p, outer)
    transact(p.asset.functions.setHook(p.asset.address, p.asset.encode_abi("mint", [witness, 1])), sender)
    before = p.asset.functions.balanceOf(witness).call()
    transact(fn, sender)
    assert p.asset.functions.balanceOf(witness).call() == before + 1
    assert p.asset.functions.hookTarget().call() == "0x0000000000000000000000000000000000000000"
    assert p.asset.functions.balanceOf(p.pool.address).call() >= (
        p.pool.functions.reserve().call() + p.pool.functions.taxAccrued().call()
    )


def test_fee_on_transfer_asset_is_refused_at_checkout(custom_pool: Callable[[str], CustomPool]) -> None:
    p = custom_pool("FeeOnTransferToken")
    oid = order_id("order-1")
    expect_refusal(
        p.pool.functions.checkout(p.customers[0], SALE, oid),
        p.merchant,
        "PoolTransferShortfall",
        [POOL_IN, POOL_IN - POOL_IN // 100],
        watch=p.watch([(p.merchant, oid)]),
    )
    assert p.pool.functions.merchant(p.merchant).call()[3] == 0  # the daily cap was not used


def test_fee_on_transfer_asset_is_refused_at_fund(custom_pool: Callable[[str], CustomPool]) -> None:
    p = custom_pool("FeeOnTransferToken")
    # A transfer too small to be charged a fee (under 100 base units) arrives whole: a sale of
    # 3,300 base units at 10 % puts 99 in the pool, so points exist and a top-up is possible.
    transact(p.pool.functions.checkout(p.customers[1], 3_300, order_id("small")), p.merchant)
    assert p.pool.functions.reserve().call() == 99
    amount = 100 * UNIT
    expect_refusal(
        p.pool.functions.fund(amount, MAX_UINT256),
        p.customers[0],
        "PoolTransferShortfall",
        [amount, amount - amount // 100],
        watch=p.watch(),
    )
    transact(p.pool.functions.fund(99, MAX_UINT256), p.customers[0])
    assert p.pool.functions.reserve().call() == 99 + 99
