"""The integer rules of `greenpoints.rules` on the SPEC §2 figures (6-decimal asset)."""

from __future__ import annotations

from fractions import Fraction

from greenpoints.rules import POINT, fraud_threshold, price, quote_checkout, quote_redeem

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
