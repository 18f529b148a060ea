"""Solvency corner (SPEC §3.1, §3.2): every holder redeems everything in turn; the last one is paid too.

After each step the pool's asset balance must cover `reserve + taxAccrued`, and the redemption
must pay exactly what the rules give (gross floors, fee ceils, tax floors), computed here.
"""

from __future__ import annotations

import pytest

from greenpoints.deploy import MAX_UINT256
from tests.conftest import PoolEnv
from tests.contracts.helpers import BPS, POINT, batch_call, ceil_div, order_id, transact


def assert_covered(env: PoolEnv) -> tuple[int, int, int, int]:
    """Guarantee 1; returns (asset balance, reserve, taxAccrued, supply)."""
    balance, reserve, tax, supply = batch_call(
        env.w3,
        [
            (env.asset, "balanceOf", [env.pool.address]),
            (env.pool, "reserve", []),
            (env.pool, "taxAccrued", []),
            (env.token, "totalSupply", []),
        ],
    )
    assert balance >= reserve + tax
    return balance, reserve, tax, supply


def populate(env: PoolEnv) -> list[str]:
    """Odd-sized sales at all three merchants, a transfer, spending, a burn and a top-up; returns holders."""
    holders = env.customers[:6]
    sales = [5_000, 12_000, 777, 3_333, 1, 98_765]
    for i, holder in enumerate(holders):
        merchant = env.merchants[i % 3]
        # 0.333333-style fractions make every division inexact.
        sale = sales[i] * env.unit + env.unit // 3
        transact(env.pool.functions.checkout(holder, sale, order_id(f"sale-{i}")), merchant)
        assert_covered(env)
    transact(env.token.functions.transfer(holders[1], 17 * POINT + 3), holders[0])
    transact(env.pool.functions.spend(env.merchants[0], 100 * POINT + 1, order_id("spend")), holders[3])
    transact(env.token.functions.burn(POINT // 7), holders[2])
    funder = env.customers[10]
    transact(env.asset.functions.mint(funder, 51 * env.unit), funder)
    transact(env.asset.functions.approve(env.pool.address, MAX_UINT256), funder)
    transact(env.pool.functions.fund(50 * env.unit + 1, MAX_UINT256), funder)
    assert_covered(env)
    return holders


@pytest.mark.parametrize("decimals", [6, 18])
@pytest.mark.parametrize("fees", [(1_000, 600), (0, 0), (2_000, 2_000)])
def test_everyone_redeems_everything_and_the_last_redeemer_is_paid(
    env: PoolEnv, env18: PoolEnv, decimals: int, fees: tuple[int, int]
) -> None:
    e = env if decimals == 6 else env18
    fee_bps, tax_bps = fees
    e.govern(e.pool.functions.setFees(fee_bps, tax_bps))
    holders = populate(e)
    expected_tax = 0
    for position, holder in enumerate(holders):
        points = e.token.functions.balanceOf(holder).call()
        assert points > 0
        _, reserve, tax_before, supply = assert_covered(e)
        last = position == len(holders) - 1
        gross = points * reserve // supply
        tax = gross * tax_bps // BPS
        # The last redemption withholds only the tax: nobody is left to keep the rest for.
        fee = tax if last else ceil_div(gross * fee_bps, BPS)
        payout = gross - fee
        asset_before = e.asset.functions.balanceOf(holder).call()

        transact(e.pool.functions.redeem(points, payout), holder)

        assert e.asset.functions.balanceOf(holder).call() == asset_before + payout
        assert e.token.functions.balanceOf(holder).call() == 0
        _, reserve_after, tax_after, supply_after = assert_covered(e)
        assert reserve_after == reserve - payout - tax
        assert tax_after == tax_before + tax
        assert supply_after == supply - points
        expected_tax += tax
        if last:
            # The last redeemer holds the whole supply and gets the whole reserve less the tax.
            assert supply_after == 0
            assert gross == reserve
            assert payout == reserve - tax > 0

    balance, reserve, tax, supply = assert_covered(e)
    assert supply == 0
    assert e.pool.functions.price().call() == 0
    assert tax == expected_tax
    # Nothing is left but the collector's tax: the reserve went to the holders, to the last unit.
    assert (reserve, balance) == (0, tax)
    if tax > 0:
        transact(e.pool.functions.withdrawTax(), e.collector)
    assert e.asset.functions.balanceOf(e.pool.address).call() == 0


def test_dust_holder_after_a_huge_holder(env: PoolEnv) -> None:
    """A holder of one wei of points can still redeem (payout may round to zero, but it never reverts)."""
    whale, dust = env.customers[0], env.customers[1]
    transact(env.pool.functions.checkout(whale, 6_000_000 * env.unit, order_id("big")), env.merchants[1])
    transact(env.token.functions.transfer(dust, 1), whale)
    transact(env.pool.functions.redeem(env.token.functions.balanceOf(whale).call(), 0), whale)
    assert_covered(env)
    assert env.pool.functions.quoteRedeem(1).call()[0] > 0  # 1 wei now holds the whole remaining reserve
    before = env.asset.functions.balanceOf(dust).call()
    transact(env.pool.functions.redeem(1, 1), dust)
    assert env.asset.functions.balanceOf(dust).call() > before
    assert env.token.functions.totalSupply().call() == 0
    assert_covered(env)


def test_new_points_after_the_pool_emptied(env: PoolEnv) -> None:
    """Once every point is redeemed the pool is empty, so the next points start afresh at face
    value: nothing left over for the next minter to take (SPEC §2)."""
    holder, newcomer = env.customers[0], env.customers[1]
    transact(env.pool.functions.checkout(holder, 5_000 * env.unit, order_id("order-1")), env.merchants[0])
    transact(env.pool.functions.redeem(350 * POINT, 0), holder)
    assert (env.pool.functions.reserve().call(), env.token.functions.totalSupply().call()) == (0, 0)
    transact(env.pool.functions.checkout(newcomer, 5_000 * env.unit, order_id("order-2")), env.merchants[0])
    assert env.pool.functions.reserve().call() == 150 * env.unit
    assert env.token.functions.balanceOf(newcomer).call() == 350 * POINT
    assert env.pool.functions.price().call() == 150 * env.unit * 10**12 * POINT // (350 * POINT)
    transact(env.pool.functions.redeem(350 * POINT, 0), newcomer)
    assert env.token.functions.totalSupply().call() == 0
    assert_covered(env)
