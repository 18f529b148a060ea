"""Every refusal of the pool and the points token: the exact custom error, and nothing changed.

Each case goes through `expect_refusal`, which checks the error name and arguments, mines the
failing transaction, and compares reserve, supply, tax, price, parameters, every actor's asset and
points balances, nonces, all merchants' settings and the order flags before and after.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractCustomError

from greenpoints.artifacts import load_artifact
from greenpoints.chain import deploy_contract
from tests.conftest import PoolEnv
from tests.contracts.conftest import env_watch, parameter_admin
from tests.contracts.helpers import (
    POINT,
    ceil_div,
    custom_error,
    events,
    expect_refusal,
    latest_timestamp,
    mine_at,
    order_id,
    role_id,
    transact,
)

DAY = 86_400
CAP = 1_000_000 * POINT  # demo merchants' daily cap
STRANGER = "0x000000000000000000000000000000000000dEaD"
ZERO = "0x0000000000000000000000000000000000000000"
ADMIN_ROLE = role_id("DEFAULT_ADMIN_ROLE")
PAUSER_ROLE = role_id("PAUSER_ROLE")
MERCHANT_MANAGER_ROLE = role_id("MERCHANT_MANAGER_ROLE")
PARAMETER_ADMIN_ROLE = role_id("PARAMETER_ADMIN_ROLE")
MAX_CAP = 10**28  # MAX_DAILY_CAP: 10**10 points


def give_points(env: PoolEnv, customer: str, sale_units: int, label: str) -> int:
    """Checkout `sale_units` whole units at the 10 % merchant for `customer`; returns the points minted."""
    receipt = transact(env.pool.functions.checkout(customer, sale_units * env.unit, order_id(label)), env.merchants[0])
    (event,) = events(env.pool, "CheckedOut", receipt)
    points: int = event.args.points
    return points


# ---------------------------------------------------------------- checkout


def test_checkout_by_unknown_merchant(env: PoolEnv) -> None:
    stranger, customer = env.customers[5], env.customers[0]
    oid = order_id("x")
    expect_refusal(
        env.pool.functions.checkout(customer, 1_000 * env.unit, oid),
        stranger,
        "PoolUnknownMerchant",
        [stranger],
        watch=env_watch(env, [(stranger, oid)]),
    )
    assert call_quote_error(env, stranger) == ("PoolUnknownMerchant", (stranger,))


def call_quote_error(env: PoolEnv, merchant: str) -> tuple[str, tuple[Any, ...]]:
    try:
        env.pool.functions.quoteCheckout(merchant, 1_000 * env.unit).call()
    except ContractCustomError as exc:
        return custom_error(exc)
    raise AssertionError("quoteCheckout did not revert")


def test_checkout_by_revoked_merchant(env: PoolEnv) -> None:
    tea, customer = env.merchants[0], env.customers[0]
    give_points(env, customer, 1_000, "before-revocation")
    transact(env.pool.functions.setMerchant(tea, 1_000, CAP, False), env.admin)
    assert env.pool.functions.merchant(tea).call()[2] is False
    oid = order_id("after-revocation")
    expect_refusal(
        env.pool.functions.checkout(customer, 1_000 * env.unit, oid),
        tea,
        "PoolUnknownMerchant",
        [tea],
        watch=env_watch(env, [(tea, oid)]),
    )
    assert call_quote_error(env, tea) == ("PoolUnknownMerchant", (tea,))
    # Points already minted stay valid: the holder can still redeem them.
    transact(env.pool.functions.redeem(10 * POINT, 0), customer)


def test_checkout_replayed_order_is_refused_but_another_merchant_may_reuse_the_id(env: PoolEnv) -> None:
    tea, sofa, customer = env.merchants[0], env.merchants[1], env.customers[0]
    oid = order_id("order-1")
    transact(env.pool.functions.checkout(customer, 5_000 * env.unit, oid), tea)
    watch = env_watch(env, [(tea, oid), (sofa, oid)])
    expect_refusal(
        env.pool.functions.checkout(customer, 5_000 * env.unit, oid), tea, "PoolOrderReplayed", [tea, oid], watch=watch
    )
    # A different amount or customer does not make it a new order either.
    expect_refusal(
        env.pool.functions.checkout(env.customers[1], 1 * env.unit, oid),
        tea,
        "PoolOrderReplayed",
        [tea, oid],
        watch=watch,
    )
    assert not env.pool.functions.isCheckedOut(sofa, oid).call()
    transact(env.pool.functions.checkout(customer, 1_000 * env.unit, oid), sofa)
    assert env.pool.functions.isCheckedOut(sofa, oid).call()
    assert env.token.functions.balanceOf(customer).call() == 350 * POINT + 105 * POINT


def test_daily_cap_refuses_the_excess_and_resets_at_utc_midnight(env: PoolEnv) -> None:
    w3, tea, customer = env.w3, env.merchants[0], env.customers[0]
    # Move to 100 s before a UTC midnight that is comfortably in the future.
    midnight = ((latest_timestamp(w3) + 300) // DAY + 1) * DAY
    mine_at(w3, midnight - 100)
    transact(env.pool.functions.setMerchant(tea, 1_000, 10 * POINT, True), env.admin)

    # 100 units at 10 %: skim 10, pool 3, points 7.
    transact(env.pool.functions.checkout(customer, 100 * env.unit, order_id("d1-a")), tea)
    assert env.pool.functions.merchant(tea).call() == [1_000, 10 * POINT, True, 7 * POINT]
    oid = order_id("d1-b")
    watch = env_watch(env, [(tea, oid)])
    expect_refusal(
        env.pool.functions.checkout(customer, 100 * env.unit, oid),
        tea,
        "PoolDailyCapExceeded",
        [tea, 7 * POINT, 3 * POINT],
        watch=watch,
    )
    # What still fits today goes through: 40 units → skim 4, pool 1.2, points 2.8.
    transact(env.pool.functions.checkout(customer, 40 * env.unit, order_id("d1-c")), tea)
    assert env.pool.functions.merchant(tea).call()[3] == 98 * POINT // 10
    # Re-registering (even with the same cap) does not reset the day's count; a lower cap leaves nothing.
    transact(env.pool.functions.setMerchant(tea, 1_000, 10 * POINT, True), env.admin)
    assert env.pool.functions.merchant(tea).call()[3] == 98 * POINT // 10
    transact(env.pool.functions.setMerchant(tea, 1_000, 5 * POINT, True), env.admin)
    expect_refusal(
        env.pool.functions.checkout(customer, 40 * env.unit, oid),
        tea,
        "PoolDailyCapExceeded",
        [tea, 28 * POINT // 10, 0],
        watch=watch,
    )
    # Other merchants have their own caps.
    transact(env.pool.functions.checkout(customer, 100 * env.unit, order_id("d1-sofa")), env.merchants[1])
    assert latest_timestamp(w3) < midnight, "the test ran into the next day before crossing it on purpose"

    # The first second of the next UTC day: the count starts again.
    mine_at(w3, midnight)
    assert env.pool.functions.merchant(tea).call() == [1_000, 5 * POINT, True, 0]
    transact(env.pool.functions.checkout(customer, 40 * env.unit, oid), tea)
    assert env.pool.functions.merchant(tea).call()[3] == 28 * POINT // 10
    transact(env.pool.functions.setMerchant(tea, 1_000, 10 * POINT, True), env.admin)
    transact(env.pool.functions.checkout(customer, 100 * env.unit, order_id("d2-b")), tea)
    assert env.pool.functions.merchant(tea).call()[3] == 98 * POINT // 10


@pytest.mark.parametrize(("cap_env", "over"), [("env", 1), ("env", 0), ("env18", 1), ("env18", 0)])
def test_daily_cap_is_exact_to_the_smallest_unit(request: pytest.FixtureRequest, cap_env: str, over: int) -> None:
    """A checkout that would mint one smallest unit of points more than remains today is refused;
    exactly what remains is minted. Both caps are checked: the merchant's and the global one."""
    e: PoolEnv = request.getfixturevalue(cap_env)
    tea, customer = e.merchants[0], e.customers[0]
    first, second = give_points(e, customer, 1_000, "cap-1"), 70 * POINT  # 1,000 and then 1,000 more at 10 %
    for scope in ("merchant", "global"):
        oid = order_id(f"cap-2-{scope}")
        minted = e.pool.functions.merchant(tea).call()[3]
        remaining = second - over  # set the cap so that `second` is `over` above what remains
        if scope == "merchant":
            transact(e.pool.functions.setMerchant(tea, 1_000, minted + remaining, True), e.admin)
        else:
            transact(e.pool.functions.setMerchant(tea, 1_000, MAX_CAP, True), e.admin)
            global_minted = e.pool.functions.globalMintedToday().call()
            transact(e.pool.functions.setGlobalDailyCap(global_minted + remaining), parameter_admin(e))
        fn = e.pool.functions.checkout(customer, 1_000 * e.unit, oid)
        if over:
            error = "PoolDailyCapExceeded" if scope == "merchant" else "PoolGlobalDailyCapExceeded"
            args = [tea, second, remaining] if scope == "merchant" else [second, remaining]
            expect_refusal(fn, tea, error, args, watch=env_watch(e, [(tea, oid)]))
        else:
            transact(fn, tea)
            assert e.token.functions.balanceOf(customer).call() == first + second
            first += second
        assert e.pool.functions.merchant(tea).call()[3] == first


@pytest.mark.parametrize("sale", [0, 1, 10])
def test_checkout_that_mints_nothing_is_refused(env: PoolEnv, sale: int) -> None:
    """Zero sale, and sales whose points round to nothing (1 and 10 base units at 10 %)."""
    tea, oid = env.merchants[0], order_id("tiny")
    expect_refusal(
        env.pool.functions.checkout(env.customers[0], sale, oid),
        tea,
        "PoolZeroAmount",
        watch=env_watch(env, [(tea, oid)]),
    )


def test_checkout_to_the_zero_address(env: PoolEnv) -> None:
    tea, oid = env.merchants[0], order_id("nobody")
    expect_refusal(
        env.pool.functions.checkout(ZERO, 1_000 * env.unit, oid),
        tea,
        "PoolZeroAddress",
        watch=env_watch(env, [(tea, oid)]),
    )


def test_checkout_by_a_merchant_without_allowance(env: PoolEnv) -> None:
    """A registered merchant that has not approved the pool cannot mint: the asset pull fails first."""
    newcomer, oid = env.customers[6], order_id("no-float")
    transact(env.pool.functions.setMerchant(newcomer, 1_000, CAP, True), env.admin)
    expect_refusal(
        env.pool.functions.checkout(env.customers[0], 1_000 * env.unit, oid),
        newcomer,
        "ERC20InsufficientAllowance",
        [env.pool.address, 0, 30 * env.unit],
        watch=env_watch(env, [(newcomer, oid)]),
    )


def test_huge_sale_is_refused(env: PoolEnv, env18: PoolEnv) -> None:
    """SPEC §5 huge amounts: a sale above MAX_SALE_AMOUNT (2**128 - 1) never mints, with a named error.

    Without the bound, skim × 10**12 would overflow at 6 decimals and revert with a bare Panic.
    """
    huge = 2**256 - 1
    max_sale = 2**128 - 1
    assert env.pool.functions.MAX_SALE_AMOUNT().call() == max_sale
    for e in (env, env18):
        tea, oid = e.merchants[0], order_id("huge")
        expect_refusal(
            e.pool.functions.checkout(e.customers[0], huge, oid),
            tea,
            "PoolOutOfBounds",
            [huge, 0, max_sale],
            watch=env_watch(e, [(tea, oid)]),
        )
    # The largest accepted sale is still refused by the daily cap, not by arithmetic.
    tea18, oid = env18.merchants[0], order_id("max")
    skim = max_sale * 1_000 // 10_000
    points = skim - ceil_div(skim * 3_000, 10_000)
    expect_refusal(
        env18.pool.functions.checkout(env18.customers[0], max_sale, oid),
        tea18,
        "PoolDailyCapExceeded",
        [tea18, points, CAP],
        watch=env_watch(env18, [(tea18, oid)]),
    )


def test_huge_redeem_spend_and_fund_are_refused(env: PoolEnv) -> None:
    huge = 2**256 - 1
    holder, tea = env.customers[0], env.merchants[0]
    points = give_points(env, holder, 5_000, "order-1")
    watch = env_watch(env)
    expect_refusal(env.pool.functions.redeem(huge, 0), holder, "PoolInsufficientPoints", [points, huge], watch=watch)
    expect_refusal(
        env.pool.functions.spend(tea, huge, order_id("s")),
        holder,
        "PoolInsufficientPoints",
        [points, huge],
        watch=watch,
    )
    balance = env.asset.functions.balanceOf(tea).call()
    expect_refusal(
        env.pool.functions.fund(huge, huge), tea, "ERC20InsufficientBalance", [tea, balance, huge], watch=watch
    )


# ---------------------------------------------------------------- redeem


def test_redeem_refusals(env: PoolEnv) -> None:
    customer, other = env.customers[0], env.customers[1]
    points = give_points(env, customer, 5_000, "order-1")
    watch = env_watch(env)
    expect_refusal(env.pool.functions.redeem(0, 0), customer, "PoolZeroAmount", watch=watch)
    expect_refusal(
        env.pool.functions.redeem(points + 1, 0), customer, "PoolInsufficientPoints", [points, points + 1], watch=watch
    )
    expect_refusal(env.pool.functions.redeem(1, 0), other, "PoolInsufficientPoints", [0, 1], watch=watch)
    payout = env.pool.functions.quoteRedeem(100 * POINT).call()[0]
    assert payout == 38_571_427
    expect_refusal(
        env.pool.functions.redeem(100 * POINT, payout + 1),
        customer,
        "PoolSlippage",
        [payout, payout + 1],
        watch=watch,
    )
    # The exact quote passes the guard.
    transact(env.pool.functions.redeem(100 * POINT, payout), customer)


def test_quote_redeem_above_supply_is_refused(env: PoolEnv) -> None:
    supply = give_points(env, env.customers[0], 5_000, "order-1")
    try:
        env.pool.functions.quoteRedeem(supply + 1).call()
    except ContractCustomError as exc:
        assert custom_error(exc) == ("PoolInsufficientPoints", (supply, supply + 1))
    else:
        raise AssertionError("quoteRedeem above the supply did not revert")


# ---------------------------------------------------------------- spend


def test_spend_refusals(env: PoolEnv) -> None:
    customer, tea, sofa = env.customers[0], env.merchants[0], env.merchants[1]
    points = give_points(env, customer, 5_000, "order-1")
    oid = order_id("spend-1")
    stranger = env.customers[7]
    spends = [(m, h, oid) for m in (tea, sofa, stranger) for h in (customer, env.customers[1])]
    watch = env_watch(env, spends=spends)
    expect_refusal(
        env.pool.functions.spend(stranger, POINT, oid), customer, "PoolUnknownMerchant", [stranger], watch=watch
    )
    expect_refusal(env.pool.functions.spend(tea, 0, oid), customer, "PoolZeroAmount", watch=watch)
    expect_refusal(
        env.pool.functions.spend(tea, points + 1, oid),
        customer,
        "PoolInsufficientPoints",
        [points, points + 1],
        watch=watch,
    )
    transact(env.pool.functions.spend(tea, 10 * POINT, oid), customer)
    assert env.pool.functions.spentPoints(tea, customer, oid).call() == 10 * POINT
    expect_refusal(
        env.pool.functions.spend(tea, 10 * POINT, oid),
        customer,
        "PoolSpendReplayed",
        [tea, customer, oid],
        watch=watch,
    )
    # Another holder's spend with the same order id is its own: nobody can squat a merchant's ids.
    give_points(env, env.customers[1], 1_000, "order-2")
    transact(env.pool.functions.spend(tea, POINT, oid), env.customers[1])
    assert env.pool.functions.spentPoints(tea, env.customers[1], oid).call() == POINT
    assert env.pool.functions.spentPoints(tea, customer, oid).call() == 10 * POINT
    # The same id at another merchant is a different order.
    transact(env.pool.functions.spend(sofa, 10 * POINT, oid), customer)
    # A revoked merchant no longer accepts points.
    transact(env.pool.functions.setMerchant(sofa, 1_500, CAP, False), env.admin)
    other = order_id("spend-2")
    expect_refusal(
        env.pool.functions.spend(sofa, POINT, other),
        customer,
        "PoolUnknownMerchant",
        [sofa],
        watch=env_watch(env, spends=[(sofa, customer, other)]),
    )


def test_spending_or_burning_the_whole_supply_is_refused(env: PoolEnv) -> None:
    """The last points are redeemed, never spent or burned: the reserve would back no point."""
    holder, tea = env.customers[0], env.merchants[0]
    supply = give_points(env, holder, 5_000, "order-1")
    oid = order_id("all")
    watch = env_watch(env, spends=[(tea, holder, oid)])
    expect_refusal(env.pool.functions.spend(tea, supply, oid), holder, "PoolLastPoints", watch=watch)
    expect_refusal(env.token.functions.burn(supply), holder, "PointsLastPoints", watch=watch)
    transact(env.token.functions.approve(env.customers[1], supply), holder)
    watch = env_watch(env, spends=[(tea, holder, oid)])
    expect_refusal(env.token.functions.burnFrom(holder, supply), env.customers[1], "PointsLastPoints", watch=watch)
    # All but one smallest unit is fine; the holder of that unit then holds the whole reserve.
    transact(env.pool.functions.spend(tea, supply - 1, oid), holder)
    assert env.token.functions.totalSupply().call() == 1
    transact(env.pool.functions.redeem(1, 0), holder)
    assert (env.pool.functions.reserve().call(), env.token.functions.totalSupply().call()) == (0, 0)


# ---------------------------------------------------------------- fund and tax


def test_fund_refusals(env: PoolEnv) -> None:
    funder, big = env.customers[0], 2**256 - 1
    expect_refusal(env.pool.functions.fund(0, big), funder, "PoolZeroAmount", watch=env_watch(env))
    # No points yet: a top-up would belong to whoever mints first.
    expect_refusal(env.pool.functions.fund(5 * env.unit, big), funder, "PoolNoPoints", watch=env_watch(env))
    supply = give_points(env, env.customers[1], 5_000, "order-1")
    expect_refusal(
        env.pool.functions.fund(5 * env.unit, big),
        funder,
        "ERC20InsufficientAllowance",
        [env.pool.address, 0, 5 * env.unit],
        watch=env_watch(env),
    )
    # Points minted after the funder looked: the top-up does not land.
    expect_refusal(
        env.pool.functions.fund(5 * env.unit, supply - 1),
        funder,
        "PoolSupplyAboveLimit",
        [supply, supply - 1],
        watch=env_watch(env),
    )


def test_withdraw_tax_refusals(env: PoolEnv) -> None:
    watch = env_watch(env)
    expect_refusal(env.pool.functions.withdrawTax(), env.collector, "PoolNoTaxOwed", [env.collector], watch=watch)
    give_points(env, env.customers[0], 5_000, "order-1")
    transact(env.pool.functions.redeem(100 * POINT, 0), env.customers[0])
    assert env.pool.functions.taxAccrued().call() == 2_571_428
    for caller in (env.admin, env.customers[0], env.merchants[0], parameter_admin(env)):
        expect_refusal(env.pool.functions.withdrawTax(), caller, "PoolNoTaxOwed", [caller], watch=watch)


# ---------------------------------------------------------------- admin bounds


@pytest.mark.parametrize(
    ("rate", "cap", "expected"),
    [
        (99, CAP, (99, 100, 5_000)),
        (0, CAP, (0, 100, 5_000)),
        (5_001, CAP, (5_001, 100, 5_000)),
        (1_000, 10**18 - 1, (10**18 - 1, 10**18, MAX_CAP)),
        (1_000, 0, (0, 10**18, MAX_CAP)),
        (1_000, MAX_CAP + 1, (MAX_CAP + 1, 10**18, MAX_CAP)),
    ],
)
def test_set_merchant_bounds(env: PoolEnv, rate: int, cap: int, expected: tuple[int, int, int]) -> None:
    for merchant in (env.merchants[0], env.customers[8]):  # changing one and registering a new one
        expect_refusal(
            env.pool.functions.setMerchant(merchant, rate, cap, True),
            env.admin,
            "PoolOutOfBounds",
            expected,
            watch=env_watch(env),
        )


def test_set_merchant_bounds_are_inclusive_and_zero_address_refused(env: PoolEnv) -> None:
    new = env.customers[8]
    for rate, cap in ((100, 10**18), (5_000, MAX_CAP)):
        transact(env.pool.functions.setMerchant(new, rate, cap, True), env.admin)
        assert env.pool.functions.merchant(new).call() == [rate, cap, True, 0]
    expect_refusal(
        env.pool.functions.setMerchant(ZERO, 1_000, CAP, True), env.admin, "PoolZeroAddress", watch=env_watch(env)
    )


@pytest.mark.parametrize(
    ("fee", "tax", "expected"),
    [
        (2_001, 0, (2_001, 0, 2_000)),
        (10_000, 600, (10_000, 0, 2_000)),
        (1_000, 1_001, (1_001, 0, 1_000)),
        (0, 1, (1, 0, 0)),
    ],
)
def test_set_fees_bounds(env: PoolEnv, fee: int, tax: int, expected: tuple[int, int, int]) -> None:
    expect_refusal(
        env.pool.functions.setFees(fee, tax), parameter_admin(env), "PoolOutOfBounds", expected, watch=env_watch(env)
    )


@pytest.mark.parametrize(
    ("share", "expected"), [(999, (999, 1_000, 5_000)), (5_001, (5_001, 1_000, 5_000)), (0, (0, 1_000, 5_000))]
)
def test_set_pool_share_bounds(env: PoolEnv, share: int, expected: tuple[int, int, int]) -> None:
    expect_refusal(
        env.pool.functions.setPoolShare(share), parameter_admin(env), "PoolOutOfBounds", expected, watch=env_watch(env)
    )


@pytest.mark.parametrize("cap", [0, 10**18 - 1, MAX_CAP + 1])
def test_set_global_daily_cap_bounds(env: PoolEnv, cap: int) -> None:
    expect_refusal(
        env.pool.functions.setGlobalDailyCap(cap),
        parameter_admin(env),
        "PoolOutOfBounds",
        [cap, 10**18, MAX_CAP],
        watch=env_watch(env),
    )


def test_bounds_edges_are_accepted(env: PoolEnv) -> None:
    for fee, tax in ((2_000, 2_000), (0, 0), (1_000, 600)):
        env.govern(env.pool.functions.setFees(fee, tax))
        assert (env.pool.functions.feeBps().call(), env.pool.functions.taxBps().call()) == (fee, tax)
    for share in (1_000, 5_000, 3_000):
        env.govern(env.pool.functions.setPoolShare(share))
        assert env.pool.functions.poolShareBps().call() == share
    for cap in (10**18, MAX_CAP):
        env.govern(env.pool.functions.setGlobalDailyCap(cap))
        assert env.pool.functions.globalDailyCap().call() == cap


def test_set_tax_collector_to_zero(env: PoolEnv) -> None:
    expect_refusal(
        env.pool.functions.setTaxCollector(ZERO), parameter_admin(env), "PoolZeroAddress", watch=env_watch(env)
    )


# ---------------------------------------------------------------- roles


# name -> (call, the role it needs, whether the role is the timelock's rather than the operator's)
AdminCall = Callable[[PoolEnv], tuple[ContractFunction, bytes, bool]]

ADMIN_CALLS: dict[str, AdminCall] = {
    "setMerchant": lambda e: (
        e.pool.functions.setMerchant(e.customers[9], 1_000, CAP, True),
        MERCHANT_MANAGER_ROLE,
        False,
    ),
    "setMerchant(revoke)": lambda e: (
        e.pool.functions.setMerchant(e.merchants[0], 1_000, CAP, False),
        MERCHANT_MANAGER_ROLE,
        False,
    ),
    "pause": lambda e: (e.pool.functions.pause(), PAUSER_ROLE, False),
    "setFees": lambda e: (e.pool.functions.setFees(500, 300), PARAMETER_ADMIN_ROLE, True),
    "setPoolShare": lambda e: (e.pool.functions.setPoolShare(4_000), PARAMETER_ADMIN_ROLE, True),
    "setTaxCollector": lambda e: (e.pool.functions.setTaxCollector(e.customers[9]), PARAMETER_ADMIN_ROLE, True),
    "setGlobalDailyCap": lambda e: (e.pool.functions.setGlobalDailyCap(5 * POINT), PARAMETER_ADMIN_ROLE, True),
    "grantRole(pauser)": lambda e: (e.pool.functions.grantRole(PAUSER_ROLE, e.customers[9]), ADMIN_ROLE, True),
    "revokeRole": lambda e: (e.pool.functions.revokeRole(PAUSER_ROLE, e.admin), ADMIN_ROLE, True),
    "beginDefaultAdminTransfer": lambda e: (
        e.pool.functions.beginDefaultAdminTransfer(e.customers[9]),
        ADMIN_ROLE,
        True,
    ),
}


@pytest.mark.parametrize("name", list(ADMIN_CALLS))
def test_only_the_role_holder_calls_admin_functions(env: PoolEnv, name: str) -> None:
    fn, role, timelocked = ADMIN_CALLS[name](env)
    callers = [env.customers[0], env.merchants[0], env.collector]
    if timelocked:
        callers.append(env.admin)  # the operator key itself cannot skip the timelock's delay
    for caller in callers:
        expect_refusal(fn, caller, "AccessControlUnauthorizedAccount", [caller, role], watch=env_watch(env))
    # The same call from the role holder works (so the refusal was about the caller, not the arguments).
    if timelocked:
        env.govern(fn)
    else:
        transact(fn, env.admin)


def test_the_default_admin_role_is_never_granted_directly(env: PoolEnv) -> None:
    """AccessControlDefaultAdminRules: the admin changes hands only by the 2-step, delayed transfer."""
    fn = env.pool.functions.grantRole(ADMIN_ROLE, env.customers[9])
    for caller in (parameter_admin(env), env.admin, env.customers[0]):
        expect_refusal(fn, caller, "AccessControlEnforcedDefaultAdminRules", watch=env_watch(env))


def test_non_pauser_cannot_unpause(env: PoolEnv) -> None:
    transact(env.pool.functions.pause(), env.admin)
    for caller in (env.customers[0], env.merchants[0], env.collector):
        expect_refusal(
            env.pool.functions.unpause(),
            caller,
            "AccessControlUnauthorizedAccount",
            [caller, PAUSER_ROLE],
            watch=env_watch(env),
        )
    assert env.pool.functions.paused().call()


def test_roles_cannot_be_renounced_for_someone_else(env: PoolEnv) -> None:
    timelock = env.deployment.timelock
    cases = (
        # The default admin can only be renounced by a scheduled, delayed transfer to nobody.
        (ADMIN_ROLE, timelock, "AccessControlEnforcedDefaultAdminDelay", [0]),
        (PARAMETER_ADMIN_ROLE, timelock, "AccessControlBadConfirmation", []),
        (PAUSER_ROLE, env.admin, "AccessControlBadConfirmation", []),
    )
    for role, holder, error, args in cases:
        fn = env.pool.functions.renounceRole(role, holder)
        expect_refusal(fn, env.customers[0], error, args, watch=env_watch(env))
        assert env.pool.functions.hasRole(role, holder).call()


# ---------------------------------------------------------------- points token


def test_only_the_pool_mints_or_burns_for_holders(env: PoolEnv) -> None:
    holder = env.customers[0]
    give_points(env, holder, 5_000, "order-1")
    watch = env_watch(env)
    for caller in (env.admin, holder, env.merchants[0], env.collector):
        expect_refusal(env.token.functions.mint(caller, POINT), caller, "PointsOnlyPool", [caller], watch=watch)
        expect_refusal(env.token.functions.burnByPool(holder, POINT), caller, "PointsOnlyPool", [caller], watch=watch)
    assert env.token.functions.pool().call() == env.pool.address


def test_points_sent_to_the_pool_or_the_token_are_refused(env: PoolEnv) -> None:
    holder, spender = env.customers[0], env.customers[1]
    give_points(env, holder, 5_000, "order-1")
    transact(env.token.functions.approve(spender, 10 * POINT), holder)
    watch = env_watch(env)
    for receiver in (env.pool.address, env.token.address):
        expect_refusal(
            env.token.functions.transfer(receiver, POINT), holder, "ERC20InvalidReceiver", [receiver], watch=watch
        )
        expect_refusal(
            env.token.functions.transferFrom(holder, receiver, POINT),
            spender,
            "ERC20InvalidReceiver",
            [receiver],
            watch=watch,
        )


def test_token_burns_beyond_balance_or_allowance(env: PoolEnv) -> None:
    holder, spender = env.customers[0], env.customers[1]
    points = give_points(env, holder, 5_000, "order-1")
    watch = env_watch(env)
    expect_refusal(
        env.token.functions.burn(points + 1),
        holder,
        "ERC20InsufficientBalance",
        [holder, points, points + 1],
        watch=watch,
    )
    expect_refusal(
        env.token.functions.burnFrom(holder, POINT),
        spender,
        "ERC20InsufficientAllowance",
        [spender, 0, POINT],
        watch=watch,
    )


# ---------------------------------------------------------------- constructor


def constructor_error(env: PoolEnv, *args: Any) -> tuple[str, tuple[Any, ...]]:
    artifact = load_artifact("DividendPool")
    factory = env.w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    try:
        factory.constructor(*args).estimate_gas({"from": env.admin})
    except ContractCustomError as exc:
        return custom_error(exc)
    raise AssertionError("the constructor did not revert")


def test_constructor_refusals(env: PoolEnv) -> None:
    asset, admin, operator, collector = env.asset.address, env.customers[5], env.admin, env.collector

    def args(**changed: Any) -> list[Any]:
        values = {"asset": asset, "admin": admin, "operator": operator, "collector": collector, "cap": CAP}
        values.update(changed)
        return [values["asset"], values["admin"], values["operator"], values["collector"], 0, values["cap"], "G", "G"]

    assert constructor_error(env, *args(admin=ZERO)) == ("AccessControlInvalidDefaultAdmin", (ZERO,))
    assert constructor_error(env, *args(operator=ZERO)) == ("PoolZeroAddress", ())
    assert constructor_error(env, *args(collector=ZERO)) == ("PoolZeroAddress", ())
    assert constructor_error(env, *args(cap=0)) == ("PoolOutOfBounds", (0, 10**18, MAX_CAP))
    assert constructor_error(env, *args(cap=MAX_CAP + 1)) == ("PoolOutOfBounds", (MAX_CAP + 1, 10**18, MAX_CAP))
    odd, _ = deploy_contract(env.w3, "TestStablecoin", env.admin, "Odd", "ODD", 19)
    assert constructor_error(env, *args(asset=odd.address)) == ("PoolUnsupportedAsset", (19,))
