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
    mine_at,
    order_id,
    role_id,
    sign_spend,
    transact,
)

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
    "setGlobalDailyCap": NONE,
    "cancelSpendPermissions": NONE,
    "pause": NONE,
    "unpause": NONE,
    "grantRole": NONE,
    "revokeRole": NONE,
    "renounceRole": NONE,
    "beginDefaultAdminTransfer": NONE,
    "cancelDefaultAdminTransfer": NONE,
    "acceptDefaultAdminTransfer": NONE,
    "changeDefaultAdminDelay": NONE,
    "rollbackDefaultAdminDelay": NONE,
}
TIMELOCK = "the timelock"  # sender of the calls that go through it (`PoolEnv.govern`)


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
    holder, funder, operator, heir = env.customers[0], env.customers[1], env.customers[2], env.customers[3]
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
        ("fund", f.fund(100 * env.unit, MAX_UINT256), funder),
        ("redeem", f.redeem(100 * POINT, 0), holder),
        ("spend", f.spend(tea, 10 * POINT, order_id("spent")), holder),
        ("spendFor", f.spendFor(holder, 5 * POINT, order_id("signed"), deadline, signature), tea),
        ("cancelSpendPermissions", f.cancelSpendPermissions(), holder),
        ("setMerchant", f.setMerchant(admin, 5_000, 10**28, True), admin),
        ("setFees", f.setFees(2_000, 2_000), TIMELOCK),
        ("setPoolShare", f.setPoolShare(1_000), TIMELOCK),
        ("setGlobalDailyCap", f.setGlobalDailyCap(10**28), TIMELOCK),
        ("withdrawTax", f.withdrawTax(), env.collector),
        ("setTaxCollector", f.setTaxCollector(admin), TIMELOCK),
        ("grantRole", f.grantRole(PAUSER_ROLE, operator), TIMELOCK),
        ("pause", f.pause(), operator),
        ("unpause", f.unpause(), operator),
        ("revokeRole", f.revokeRole(PAUSER_ROLE, operator), TIMELOCK),
        ("renounceRole", f.renounceRole(PAUSER_ROLE, admin), admin),
        ("changeDefaultAdminDelay", f.changeDefaultAdminDelay(60), TIMELOCK),
        ("rollbackDefaultAdminDelay", f.rollbackDefaultAdminDelay(), TIMELOCK),
        ("cancelDefaultAdminTransfer", f.cancelDefaultAdminTransfer(), TIMELOCK),
        ("beginDefaultAdminTransfer", f.beginDefaultAdminTransfer(heir), TIMELOCK),
        ("acceptDefaultAdminTransfer", f.acceptDefaultAdminTransfer(), heir),
    ]
    assert {name for name, _, _ in steps} == set(EXPECTED_EFFECT)
    for name, fn, sender in steps:
        balance = asset.functions.balanceOf(pool.address).call()
        reserve = pool.functions.reserve().call()
        tax = pool.functions.taxAccrued().call()
        account = env.deployment.timelock if sender == TIMELOCK else sender
        sender_before = asset.functions.balanceOf(account).call()
        if name == "acceptDefaultAdminTransfer":  # the transfer's schedule must lie in the past
            mine_at(env.w3, latest_timestamp(env.w3) + 1)
        if sender == TIMELOCK:
            env.govern(fn)
        else:
            transact(fn, sender)
        balance_after = asset.functions.balanceOf(pool.address).call()
        reserve_after = pool.functions.reserve().call()
        effect = EXPECTED_EFFECT[name]
        if effect == NONE:
            assert balance_after == balance, name
            assert reserve_after == reserve, name
            assert asset.functions.balanceOf(account).call() == sender_before, name
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
    assert pool.functions.defaultAdmin().call() == heir


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
    calls: list[tuple[Callable[[], ContractFunction], bool]] = [
        (lambda: pool.functions.setFees(2_000, 2_000), True),
        (lambda: pool.functions.setPoolShare(5_000), True),
        (lambda: pool.functions.setPoolShare(1_000), True),
        (lambda: pool.functions.setTaxCollector(admin), True),
        (lambda: pool.functions.setGlobalDailyCap(10**18), True),
        (lambda: pool.functions.grantRole(PAUSER_ROLE, env.customers[5]), True),
        (lambda: pool.functions.beginDefaultAdminTransfer(env.customers[5]), True),
        (lambda: pool.functions.setMerchant(env.merchants[0], 100, 10**18, False), False),
        (lambda: pool.functions.pause(), False),
    ]
    for make, timelocked in calls:
        if timelocked:
            env.govern(make())
        else:
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
    # Points cannot be sent to the pool at all (they would be lost): see test_refusals.
