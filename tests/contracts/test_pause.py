"""Pausing (SPEC §3.4): it stops checkout, spend and spendFor, never redeem, fund or withdrawTax.

Only PAUSER_ROLE may pause or unpause; the default admin (the timelock) can grant it to another
operator, who gains no other power.
"""

from __future__ import annotations

from greenpoints.deploy import MAX_UINT256
from tests.conftest import PoolEnv
from tests.contracts.conftest import env_watch
from tests.contracts.helpers import (
    POINT,
    events,
    expect_refusal,
    latest_timestamp,
    local_account,
    order_id,
    role_id,
    sign_spend,
    transact,
)

PAUSER_ROLE = role_id("PAUSER_ROLE")


def prepare(env: PoolEnv) -> str:
    """A holder with 350 points, accrued tax, and a funder with an allowance; returns the holder."""
    holder = env.customers[0]
    transact(env.pool.functions.checkout(holder, 5_000 * env.unit, order_id("order-1")), env.merchants[0])
    transact(env.pool.functions.redeem(50 * POINT, 0), holder)
    transact(env.asset.functions.mint(env.customers[1], 100 * env.unit), env.customers[1])
    transact(env.asset.functions.approve(env.pool.address, MAX_UINT256), env.customers[1])
    return holder


def test_pause_stops_checkout_and_spending(env: PoolEnv) -> None:
    holder = prepare(env)
    tea = env.merchants[0]
    receipt = transact(env.pool.functions.pause(), env.admin)
    (paused,) = events(env.pool, "Paused", receipt)
    assert paused.args.account == env.admin
    assert env.pool.functions.paused().call()

    oid = order_id("while-paused")
    watch = env_watch(env, [(tea, oid)])
    expect_refusal(env.pool.functions.checkout(holder, 1_000 * env.unit, oid), tea, "EnforcedPause", watch=watch)
    expect_refusal(env.pool.functions.spend(tea, POINT, oid), holder, "EnforcedPause", watch=watch)
    deadline = latest_timestamp(env.w3) + 3_600
    signature = sign_spend(
        local_account(env.w3, holder),
        env.pool,
        holder=holder,
        merchant=tea,
        points=POINT,
        oid=oid,
        nonce=0,
        deadline=deadline,
    )
    expect_refusal(
        env.pool.functions.spendFor(holder, POINT, oid, deadline, signature), tea, "EnforcedPause", watch=watch
    )

    # Unpausing restores all three, with the very same permission.
    transact(env.pool.functions.unpause(), env.admin)
    assert not env.pool.functions.paused().call()
    transact(env.pool.functions.spendFor(holder, POINT, oid, deadline, signature), tea)
    transact(env.pool.functions.checkout(holder, 1_000 * env.unit, oid), tea)
    transact(env.pool.functions.spend(tea, POINT, order_id("after")), holder)
    assert env.pool.functions.spentPoints(tea, holder, oid).call() == POINT
    assert env.pool.functions.isCheckedOut(tea, oid).call()


def test_pause_never_stops_redeem_fund_or_tax_withdrawal(env: PoolEnv) -> None:
    holder = prepare(env)
    transact(env.pool.functions.pause(), env.admin)

    reserve = env.pool.functions.reserve().call()
    payout = env.pool.functions.quoteRedeem(100 * POINT).call()[0]
    before = env.asset.functions.balanceOf(holder).call()
    transact(env.pool.functions.redeem(100 * POINT, payout), holder)
    assert env.asset.functions.balanceOf(holder).call() == before + payout
    assert env.pool.functions.reserve().call() < reserve

    reserve = env.pool.functions.reserve().call()
    transact(env.pool.functions.fund(10 * env.unit, MAX_UINT256), env.customers[1])
    assert env.pool.functions.reserve().call() == reserve + 10 * env.unit

    tax = env.pool.functions.taxAccrued().call()
    assert tax > 0
    before = env.asset.functions.balanceOf(env.collector).call()
    transact(env.pool.functions.withdrawTax(), env.collector)
    assert env.asset.functions.balanceOf(env.collector).call() == before + tax

    # Direct burns and transfers of points are not pool actions and stay open too.
    transact(env.token.functions.transfer(env.customers[2], POINT), holder)
    transact(env.token.functions.burn(POINT), holder)
    # The last holder can leave the pool entirely while it is paused.
    rest = env.token.functions.balanceOf(holder).call()
    transact(env.pool.functions.redeem(rest, 0), holder)
    transact(env.pool.functions.redeem(POINT, 0), env.customers[2])
    assert env.token.functions.totalSupply().call() == 0
    assert env.pool.functions.reserve().call() == 0  # the last redemption empties the pool
    assert env.pool.functions.paused().call()


def test_only_the_pauser_role_pauses(env: PoolEnv) -> None:
    operator, outsider = env.customers[3], env.customers[4]
    watch = env_watch(env)
    expect_refusal(
        env.pool.functions.pause(), operator, "AccessControlUnauthorizedAccount", [operator, PAUSER_ROLE], watch=watch
    )
    # Roles are granted by the default admin, the timelock.
    env.govern(env.pool.functions.grantRole(PAUSER_ROLE, operator))
    transact(env.pool.functions.pause(), operator)
    expect_refusal(
        env.pool.functions.unpause(), outsider, "AccessControlUnauthorizedAccount", [outsider, PAUSER_ROLE], watch=watch
    )
    # Pausing twice or unpausing an unpaused pool is refused by OpenZeppelin's Pausable.
    expect_refusal(env.pool.functions.pause(), env.admin, "EnforcedPause", watch=watch)
    transact(env.pool.functions.unpause(), operator)
    expect_refusal(env.pool.functions.unpause(), env.admin, "ExpectedPause", watch=watch)

    # A pauser is not a parameter admin: it cannot change parameters.
    expect_refusal(
        env.pool.functions.setFees(500, 300),
        operator,
        "AccessControlUnauthorizedAccount",
        [operator, role_id("PARAMETER_ADMIN_ROLE")],
        watch=watch,
    )
    # Once the role is revoked, the operator can no longer pause.
    env.govern(env.pool.functions.revokeRole(PAUSER_ROLE, operator))
    expect_refusal(
        env.pool.functions.pause(), operator, "AccessControlUnauthorizedAccount", [operator, PAUSER_ROLE], watch=watch
    )
