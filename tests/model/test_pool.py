"""The model pool on the SPEC §2 figures (6-decimal asset), and its refusals."""

from __future__ import annotations

import pytest

from greenpoints.rules import DAY, POINT, Refused
from model.pool import Pool

U = 10**6
CAP = 1_000_000 * POINT


def order(n: int) -> bytes:
    return n.to_bytes(32, "big")


@pytest.fixture
def pool() -> Pool:
    p = Pool(6)
    p.set_merchant("tea", 1_000, CAP, True)
    p.set_merchant("sofa", 1_500, CAP, True)
    return p


def test_spec_checkouts_and_the_sofa(pool: Pool) -> None:
    first = pool.checkout("tea", "alice", 5_000 * U, order(1))
    assert (first.skim, first.pool_in, first.points) == (500 * U, 150 * U, 350 * POINT)
    assert (pool.reserve, pool.supply, pool.price()) == (150 * U, 350 * POINT, 428_571_428_571_428_571)
    sofa = pool.checkout("sofa", "bob", 12_000 * U, order(1))
    assert (sofa.skim, sofa.pool_in, sofa.points) == (1_800 * U, 540 * U, 1_260 * POINT)


def test_spec_redeem_example_then_the_last_redemption(pool: Pool) -> None:
    pool.checkout("tea", "alice", 5_000 * U, order(1))
    q = pool.redeem("alice", 100 * POINT, min_payout=38_571_427)
    # gross 42.857142, fee 4.285715 (of which tax 2.571428), payout 38.571427
    assert (q.gross, q.payout, q.tax, q.payout + q.tax + q.kept) == (42_857_142, 38_571_427, 2_571_428, 42_857_142)
    assert (pool.reserve, pool.supply, pool.price()) == (108_857_145, 250 * POINT, 435_428_580_000_000_000)
    assert pool.tax_owed("tax collector") == 2_571_428
    last = pool.redeem("alice", 250 * POINT)
    assert (last.payout + last.tax, last.kept, pool.reserve, pool.supply) == (108_857_145, 0, 0, 0)
    with pytest.raises(Refused, match="PoolNoPoints"):
        pool.fund("sponsor", 1 * U, 0)


def test_spend_and_top_up_raise_the_price(pool: Pool) -> None:
    pool.checkout("tea", "alice", 5_000 * U, order(1))
    pool.spend("alice", "tea", 50 * POINT, order(7))
    assert (pool.reserve, pool.supply) == (150 * U, 300 * POINT)
    assert pool.price() == 500_000_000_000_000_000
    with pytest.raises(Refused) as replay:
        pool.spend("alice", "tea", 1 * POINT, order(7))
    assert (replay.value.error, replay.value.values) == ("PoolSpendReplayed", ("tea", "alice", order(7)))
    pool.fund("sponsor", 150 * U, max_supply=300 * POINT)
    assert pool.price() == POINT
    with pytest.raises(Refused) as sandwich:
        pool.fund("sponsor", 1 * U, max_supply=299 * POINT)
    assert sandwich.value.values == (300 * POINT, 299 * POINT)


def test_refusals_change_nothing(pool: Pool) -> None:
    pool.checkout("tea", "alice", 5_000 * U, order(1))
    before = (pool.reserve, pool.supply, dict(pool.balances), pool.merchant("tea"))
    attempts = [
        (lambda: pool.checkout("tea", "bob", 5_000 * U, order(1)), "PoolOrderReplayed"),
        (lambda: pool.checkout("nobody", "bob", 5_000 * U, order(2)), "PoolUnknownMerchant"),
        (lambda: pool.checkout("tea", "bob", 9, order(2)), "PoolZeroAmount"),
        (lambda: pool.checkout("tea", "pool", 5_000 * U, order(2)), "ERC20InvalidReceiver"),
        (lambda: pool.redeem("alice", 351 * POINT), "PoolInsufficientPoints"),
        (lambda: pool.redeem("alice", 100 * POINT, min_payout=38_571_428), "PoolSlippage"),
        (lambda: pool.spend("alice", "tea", 350 * POINT, order(3)), "PoolLastPoints"),
        (lambda: pool.burn("alice", 350 * POINT), "PointsLastPoints"),
        (lambda: pool.transfer("alice", "points token", 1), "ERC20InvalidReceiver"),
        (lambda: pool.burn_from("bob", "alice", 1), "ERC20InsufficientAllowance"),
        (lambda: pool.withdraw_tax("alice"), "PoolNoTaxOwed"),
        (lambda: pool.set_fees(2_001, 600), "PoolOutOfBounds"),
        (lambda: pool.set_fees(500, 600), "PoolOutOfBounds"),
        (lambda: pool.set_merchant("x", 99, CAP, True), "PoolOutOfBounds"),
    ]
    for attempt, error in attempts:
        with pytest.raises(Refused) as refused:
            attempt()
        assert refused.value.error == error
    assert (pool.reserve, pool.supply, dict(pool.balances), pool.merchant("tea")) == before


def test_daily_caps_per_merchant_and_overall_reset_each_day() -> None:
    pool = Pool(6, global_daily_cap=500 * POINT)
    pool.set_merchant("tea", 1_000, 400 * POINT, True)
    pool.set_merchant("book", 1_000, 400 * POINT, True)
    pool.checkout("tea", "alice", 5_000 * U, order(1))  # 350 points
    with pytest.raises(Refused) as own:
        pool.checkout("tea", "alice", 5_000 * U, order(2))
    assert own.value.values == ("tea", 350 * POINT, 50 * POINT)
    # Another merchant hits the global cap: 150 of its 500 points are left today.
    with pytest.raises(Refused) as overall:
        pool.checkout("book", "alice", 5_000 * U, order(1))
    assert (overall.value.error, overall.value.values) == ("PoolGlobalDailyCapExceeded", (350 * POINT, 150 * POINT))
    pool.now += DAY
    assert pool.merchant("tea")[3] == 0 and pool.global_minted_today() == 0
    pool.checkout("book", "alice", 5_000 * U, order(1))
    assert pool.global_minted_today() == pool.merchant("book")[3]


def test_tax_stays_owed_to_the_collector_it_accrued_under(pool: Pool) -> None:
    pool.checkout("tea", "alice", 5_000 * U, order(1))
    first = pool.redeem("alice", 100 * POINT).tax
    pool.set_tax_collector("new collector")
    second = pool.redeem("alice", 100 * POINT).tax
    assert pool.tax_owed("tax collector") == first
    assert pool.tax_owed("new collector") == second
    assert pool.withdraw_tax("tax collector") == first
    assert (pool.tax_accrued, pool.tax_owed("tax collector")) == (second, 0)


def test_spend_for_uses_the_nonce_and_the_deadline(pool: Pool) -> None:
    pool.checkout("tea", "alice", 5_000 * U, order(1))
    pool.now = 100
    with pytest.raises(Refused, match="PoolPermissionExpired"):
        pool.spend_for("tea", "alice", POINT, order(1), deadline=99, signed_nonce=0)
    pool.spend_for("tea", "alice", POINT, order(1), deadline=100, signed_nonce=0)
    assert pool.nonces["alice"] == 1
    pool.cancel_spend_permissions("alice")
    with pytest.raises(Refused, match="PoolInvalidSignature"):
        pool.spend_for("tea", "alice", POINT, order(2), deadline=100, signed_nonce=1)


def test_paused_pool_still_redeems(pool: Pool) -> None:
    pool.checkout("tea", "alice", 5_000 * U, order(1))
    pool.pause()
    with pytest.raises(Refused, match="EnforcedPause"):
        pool.checkout("tea", "alice", 5_000 * U, order(2))
    with pytest.raises(Refused, match="EnforcedPause"):
        pool.spend("alice", "tea", POINT, order(2))
    pool.redeem("alice", POINT)
