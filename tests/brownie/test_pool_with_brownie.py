"""The SPEC §2 checkout and redemption examples through brownie, proving `brownie test` works."""

import brownie

UNIT = 10**6
POINT = 10**18


def test_checkout_article_example(pool, points, merchant, accounts):
    customer = accounts[5]
    tx = pool.checkout(customer, 5_000 * UNIT, b"order-1".ljust(32, b"\0"), {"from": merchant})
    assert points.balanceOf(customer) == 350 * POINT
    assert pool.reserve() == 150 * UNIT
    assert pool.price() == 150 * UNIT * 10**12 * 10**18 // (350 * POINT)
    assert tx.events["CheckedOut"]["points"] == 350 * POINT


def test_redeem_article_example(pool, points, stable, merchant, accounts):
    customer = accounts[5]
    pool.checkout(customer, 5_000 * UNIT, b"order-1".ljust(32, b"\0"), {"from": merchant})
    pool.redeem(100 * POINT, 38_571_427, {"from": customer})
    assert stable.balanceOf(customer) == 38_571_427
    assert pool.taxAccrued() == 2_571_428
    assert pool.reserve() == 108_857_145
    assert pool.price() == 435_428_580_000_000_000


def test_replayed_order_is_refused(pool, merchant, accounts):
    order = b"order-1".ljust(32, b"\0")
    pool.checkout(accounts[5], 5_000 * UNIT, order, {"from": merchant})
    with brownie.reverts():
        pool.checkout(accounts[5], 5_000 * UNIT, order, {"from": merchant})
    assert pool.reserve() == 150 * UNIT
