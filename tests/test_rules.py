"""The integer rules of `greenpoints.rules` on the SPEC §2 figures (6-decimal asset)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from greenpoints.rules import (
    DAY,
    POINT,
    Refused,
    cap_remaining,
    check_burn_leaves_points,
    check_daily_caps,
    check_fund,
    day_of,
    fraud_threshold,
    minted_today,
    price,
    quote_checkout,
    quote_redeem,
    tax_owed,
)

U = 10**6  # one unit of a 6-decimal asset


def test_article_checkouts_mint_seventy_percent_of_the_skim() -> None:
    first = quote_checkout(5_000 * U, 1_000, 3_000, 1_000, reserve=0, supply=0, asset_decimals=6)
    assert (first.skim, first.pool_in, first.points, first.bounded) == (500 * U, 150 * U, 350 * POINT, False)
    # The sofa after order 1 (price 0.43 < 0.476): the bound does not bite.
    sofa = quote_checkout(12_000 * U, 1_500, 3_000, 1_000, reserve=150 * U, supply=350 * POINT, asset_decimals=6)
    assert (sofa.pool_in, sofa.points, sofa.bounded) == (540 * U, 1_260 * POINT, False)


def test_mint_bound_keeps_the_new_points_cash_out_at_most_what_came_in() -> None:
    # Price 1.0 (above the 0.476 threshold): 150 in may mint at most 150 / (1.0 × 0.9) points.
    quote = quote_checkout(5_000 * U, 1_000, 3_000, 1_000, reserve=1_000 * U, supply=1_000 * POINT, asset_decimals=6)
    assert quote.bounded
    assert quote.points == 150 * U * 1_000 * POINT * 10_000 // (1_000 * U * 9_000)
    after = quote_redeem(quote.points, 1_150 * U, 1_000 * POINT + quote.points, 1_000, 600)
    assert after.payout <= quote.pool_in


def test_redeem_example_and_the_last_redemption() -> None:
    q = quote_redeem(100 * POINT, 150 * U, 350 * POINT, 1_000, 600)
    assert (q.gross, q.payout, q.tax, q.kept) == (42_857_142, 38_571_427, 2_571_428, 1_714_287)
    assert price(150 * U - q.payout - q.tax, 250 * POINT, 6) == 435_428_580_000_000_000
    last = quote_redeem(250 * POINT, 108_857_145, 250 * POINT, 1_000, 600)
    assert (last.payout + last.tax, last.kept) == (108_857_145, 0)  # the pool ends empty
    assert last.tax == 108_857_145 * 600 // 10_000


def test_fraud_threshold_at_the_defaults() -> None:
    numerator, denominator = fraud_threshold(3_000, 1_000)
    assert Fraction(numerator, denominator) == Fraction(3, 7) / Fraction(9, 10)
    assert round(numerator / denominator, 3) == 0.476


def test_daily_caps_merchant_first_then_global() -> None:
    check_daily_caps("m", 10, merchant_cap=10, merchant_minted=0, global_cap=10, global_minted=0)
    with pytest.raises(Refused) as merchant:
        check_daily_caps("m", 11, merchant_cap=20, merchant_minted=10, global_cap=5, global_minted=0)
    assert (merchant.value.error, merchant.value.values) == ("PoolDailyCapExceeded", ("m", 11, 10))
    with pytest.raises(Refused) as overall:
        check_daily_caps("m", 11, merchant_cap=20, merchant_minted=0, global_cap=30, global_minted=25)
    assert (overall.value.error, overall.value.values) == ("PoolGlobalDailyCapExceeded", (11, 5))
    # A cap lowered below what was minted leaves nothing, not a negative remainder.
    assert cap_remaining(5, 8) == 0


def test_a_new_day_resets_the_counters() -> None:
    today = day_of(3 * DAY + 5)
    assert today == 3
    assert minted_today(counted_day=3, counted=7, today=today) == 7
    assert minted_today(counted_day=2, counted=7, today=today) == 0
    assert day_of(4 * DAY - 1) == 3


def test_fund_refusals_in_the_contracts_order() -> None:
    check_fund(1, supply=5, max_supply=5)
    for amount, supply, max_supply, error in ((0, 0, 0, "PoolZeroAmount"), (1, 0, 9, "PoolNoPoints")):
        with pytest.raises(Refused, match=error):
            check_fund(amount, supply, max_supply)
    with pytest.raises(Refused) as above:
        check_fund(1, supply=6, max_supply=5)
    assert above.value.values == (6, 5)


def test_the_whole_supply_is_never_spent_or_burned() -> None:
    check_burn_leaves_points(4, 5, "PoolLastPoints")
    with pytest.raises(Refused, match="PointsLastPoints"):
        check_burn_leaves_points(5, 5, "PointsLastPoints")
    check_burn_leaves_points(0, 0, "PointsLastPoints")  # a burn of nothing, even with no points


def test_tax_owed_splits_former_and_current_collectors() -> None:
    # 10 accrued in all, 7 of it owed to former collectors (4 of that to "old").
    assert tax_owed("new", "new", accrued=10, former_total=7, former_of_account=0) == 3
    assert tax_owed("old", "new", accrued=10, former_total=7, former_of_account=4) == 4
    assert tax_owed("old", "old", accrued=10, former_total=7, former_of_account=4) == 7
    assert str(Refused("PoolSlippage", 3, 4)) == "PoolSlippage(3, 4)"
