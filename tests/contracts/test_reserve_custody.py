"""No role can take reserve out of the pool (SPEC §3.3), and stray tokens never move the price (§2).

Every state-changing function of the pool's ABI is called (successfully) in one scenario, and the
pool's asset balance is compared before and after each call: only `redeem` and `withdrawTax`
decrease it, and `withdrawTax` by exactly the accrued tax, never touching the reserve.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from web3.contract.contract import ContractFunction

from greenpoints.deploy import MAX_UINT256
from tests.conftest import PoolEnv
from tests.contracts.helpers import (
    POINT,
    latest_timestamp,
    local_account,
    order_id,
    role_id,
    sign_spend,
    transact,
)

ADMIN_ROLE = role_id("DEFAULT_ADMIN_ROLE")
PAUSER_ROLE = role_id("PAUSER_ROLE")

# How each state-changing function may move the pool's asset balance.
IN, OUT, NONE = "in", "out", "none"
EXPECTED_EFFECT = {
    "checkout": IN,
    "fund": IN,
    "redeem": OUT,
    "withdrawTax": OUT,
    "spend": NONE,
    "spendFor": NONE,
    "setMerchant": NONE,
    "setFees": NONE,
    "setPoolShare": NONE,
    "setTaxCollector": NONE,
    "pause": NONE,
    "unpause": NONE,
    "grantRole": NONE,
    "revokeRole": NONE,
    "renounceRole": NONE,
}


def state_changing_functions(env: PoolEnv) -> set[str]:
    return {
        entry["name"]
        for entry in env.pool.abi
        if entry["type"] == "function" and entry["stateMutability"] in ("nonpayable", "payable")
    }


def test_the_abi_has_exactly_the_known_state_changing_functions(env: PoolEnv) -> None:
    """A new function in the pool must be classified here (and so reviewed) before the suite passes."""
    assert state_changing_functions(env) == set(EXPECTED_EFFECT)
    assert not [
        e for e in env.pool.abi if e.get("stateMutability") == "payable" or e["type"] in ("fallback", "receive")
    ]
    assert not [
        e for e in env.token.abi if e.get("stateMutability") == "payable" or e["type"] in ("fallback", "receive")
    ]


def test_only_redeem_and_withdraw_tax_move_the_asset_out(env: PoolEnv) -> None:
    pool, asset, admin = env.pool, env.asset, env.admin
    holder, funder, operator = env.customers[0], env.customers[1], env.customers[2]
    tea = env.merchants[0]
    transact(asset.functions.mint(funder, 1_000 * env.unit), funder)
    transact(asset.functions.approve(pool.address, MAX_UINT256), funder)
    deadline = latest_timestamp(env.w3) + 3_600
    signature = sign_spend(
        local_account(env.w3, holder),
        pool,
        holder=holder,
        merchant=tea,
        points=5 * POINT,
        oid=order_id("signed"),
        nonce=0,
        deadline=deadline,
    )
    f = pool.functions
    # Every state-changing function, called successfully, by whoever may call it.
    steps: list[tuple[str, ContractFunction, str]] = [
        ("checkout", f.checkout(holder, 5_000 * env.unit, order_id("order-1")), tea),
        ("fund", f.fund(100 * env.unit), funder),
        ("redeem", f.redeem(100 * POINT, 0), holder),
        ("spend", f.spend(tea, 10 * POINT, order_id("spent")), holder),
        ("spendFor", f.spendFor(holder, 5 * POINT, order_id("signed"), deadline, signature), tea),
        ("setMerchant", f.setMerchant(admin, 5_000, 10**30, True), admin),
        ("setFees", f.setFees(2_000, 2_000), admin),
        ("setPoolShare", f.setPoolShare(1_000), admin),
        ("setTaxCollector", f.setTaxCollector(admin), admin),
        ("grantRole", f.grantRole(PAUSER_ROLE, operator), admin),
        ("pause", f.pause(), operator),
        ("unpause", f.unpause(), operator),
        ("revokeRole", f.revokeRole(PAUSER_ROLE, operator), admin),
        ("renounceRole", f.renounceRole(PAUSER_ROLE, admin), admin),
        ("withdrawTax", f.withdrawTax(), admin),  # the admin made itself collector: it gets the tax, no more
    ]
    assert {name for name, _, _ in steps} == set(EXPECTED_EFFECT)
    for name, fn, sender in steps:
        balance = asset.functions.balanceOf(pool.address).call()
        reserve = pool.functions.reserve().call()
        tax = pool.functions.taxAccrued().call()
        sender_before = asset.functions.balanceOf(sender).call()
        transact(fn, sender)
        balance_after = asset.functions.balanceOf(pool.address).call()
        reserve_after = pool.functions.reserve().call()
        effect = EXPECTED_EFFECT[name]
        if effect == NONE:
            assert balance_after == balance, name
            assert reserve_after == reserve, name
            assert asset.functions.balanceOf(sender).call() == sender_before, name
        elif effect == IN:
            assert balance_after > balance, name
            assert reserve_after - reserve == balance_after - balance, name
        elif name == "redeem":
            payout = asset.functions.balanceOf(sender).call() - sender_before
            assert balance - balance_after == payout > 0
            assert reserve - reserve_after == payout + pool.functions.taxAccrued().call() - tax
        else:  # withdrawTax: exactly the accrued tax leaves, the reserve stays
            assert balance - balance_after == tax > 0
            assert reserve_after == reserve
            assert asset.functions.balanceOf(sender).call() == sender_before + tax
        assert balance_after >= reserve_after + pool.functions.taxAccrued().call(), name


def test_admin_with_every_parameter_at_its_bound_cannot_move_reserve(env: PoolEnv) -> None:
    """The most hostile admin settings still leave the asset in the pool until someone redeems."""
    pool, admin = env.pool, env.admin
    transact(pool.functions.checkout(env.customers[0], 5_000 * env.unit, order_id("order-1")), env.merchants[0])
    before = (
        env.asset.functions.balanceOf(pool.address).call(),
        pool.functions.reserve().call(),
        pool.functions.price().call(),
    )
    admin_before = env.asset.functions.balanceOf(admin).call()
    calls: list[Callable[[], ContractFunction]] = [
        lambda: pool.functions.setFees(2_000, 2_000),
        lambda: pool.functions.setPoolShare(5_000),
        lambda: pool.functions.setPoolShare(1_000),
        lambda: pool.functions.setTaxCollector(admin),
        lambda: pool.functions.setMerchant(env.merchants[0], 100, 10**18, False),
        lambda: pool.functions.grantRole(ADMIN_ROLE, env.customers[5]),
        lambda: pool.functions.pause(),
    ]
    for make in calls:
        transact(make(), admin)
        assert (
            env.asset.functions.balanceOf(pool.address).call(),
            pool.functions.reserve().call(),
            pool.functions.price().call(),
        ) == before
    assert env.asset.functions.balanceOf(admin).call() == admin_before
    # Nothing was redeemed, so there is no tax for the (admin) collector either.
    assert pool.functions.taxAccrued().call() == 0


@pytest.mark.parametrize("decimals", [6, 18])
def test_tokens_sent_by_mistake_do_not_change_reserve_or_price(env: PoolEnv, env18: PoolEnv, decimals: int) -> None:
    e = env if decimals == 6 else env18
    holder, stray = e.customers[0], e.customers[1]
    transact(e.pool.functions.checkout(holder, 5_000 * e.unit, order_id("order-1")), e.merchants[0])
    reserve, price = e.pool.functions.reserve().call(), e.pool.functions.price().call()
    quote = e.pool.functions.quoteRedeem(100 * POINT).call()
    transact(e.asset.functions.mint(stray, 1_000 * e.unit), stray)

    transact(e.asset.functions.transfer(e.pool.address, 1_000 * e.unit), stray)

    assert e.asset.functions.balanceOf(e.pool.address).call() == reserve + 1_000 * e.unit
    assert e.pool.functions.reserve().call() == reserve
    assert e.pool.functions.price().call() == price
    assert e.pool.functions.quoteRedeem(100 * POINT).call() == quote
    # A redemption pays from the accounted reserve, not from the balance.
    before = e.asset.functions.balanceOf(holder).call()
    transact(e.pool.functions.redeem(100 * POINT, 0), holder)
    assert e.asset.functions.balanceOf(holder).call() == before + quote[0]
    # Points sent to the pool by mistake are still supply: the price does not move either.
    price = e.pool.functions.price().call()
    transact(e.token.functions.transfer(e.pool.address, 10 * POINT), holder)
    assert e.pool.functions.price().call() == price
