"""SPEC §2 worked examples with the article's numbers, for a 6-decimal and an 18-decimal reserve asset.

The 6-decimal figures are the literal numbers of the specification. For 18 decimals the expected
figures are derived here from the written rules with integer arithmetic (floor / ceil as SPEC §2
says), never by asking the contracts under test.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.conftest import PoolEnv
from tests.contracts.helpers import BPS, POINT, ceil_div, events, order_id, transact

RATE_TEA, RATE_SOFA = 1_000, 1_500  # demo merchants 0 and 1
POOL_SHARE, FEE, TAX = 3_000, 1_000, 600  # defaults


@dataclass(frozen=True)
class CheckoutFigures:
    points: int  # 18 decimals
    pool_in: int  # asset decimals


@dataclass(frozen=True)
class RedeemFigures:
    gross: int
    fee: int
    tax: int
    payout: int
    kept: int
    reserve_after: int
    supply_after: int
    price_after: int


def expected_checkout(sale: int, rate_bps: int, decimals: int) -> CheckoutFigures:
    """SPEC §2 checkout: skim = sale × r (floor), poolIn = skim × poolShare (ceil), points = the rest."""
    skim = sale * rate_bps // BPS
    pool_in = ceil_div(skim * POOL_SHARE, BPS)
    return CheckoutFigures(points=(skim - pool_in) * 10 ** (18 - decimals), pool_in=pool_in)


def expected_price(reserve: int, supply: int, decimals: int) -> int:
    """reserve ÷ supply as 18-decimal fixed point per whole point, rounded down."""
    return reserve * 10 ** (18 - decimals) * 10**18 // supply if supply else 0


def expected_redeem(points: int, reserve: int, supply: int, decimals: int) -> RedeemFigures:
    """SPEC §2 redeem: gross floors, fee ceils, tax floors; reserve loses payout + tax."""
    gross = points * reserve // supply
    fee = ceil_div(gross * FEE, BPS)
    tax = gross * TAX // BPS
    payout = gross - fee
    reserve_after = reserve - payout - tax
    supply_after = supply - points
    return RedeemFigures(
        gross=gross,
        fee=fee,
        tax=tax,
        payout=payout,
        kept=fee - tax,
        reserve_after=reserve_after,
        supply_after=supply_after,
        price_after=expected_price(reserve_after, supply_after, decimals),
    )


def test_expected_figures_match_the_literal_spec_numbers() -> None:
    """The rule functions above reproduce SPEC §2's printed 6-decimal figures, so they are right for 18 too."""
    tea = expected_checkout(5_000 * 10**6, RATE_TEA, 6)
    assert tea == CheckoutFigures(points=350 * POINT, pool_in=150 * 10**6)
    sofa = expected_checkout(12_000 * 10**6, RATE_SOFA, 6)
    assert sofa == CheckoutFigures(points=1_260 * POINT, pool_in=540 * 10**6)
    assert expected_price(150 * 10**6, 350 * POINT, 6) == 428_571_428_571_428_571
    assert expected_redeem(100 * POINT, 150 * 10**6, 350 * POINT, 6) == RedeemFigures(
        gross=42_857_142,
        fee=4_285_715,
        tax=2_571_428,
        payout=38_571_427,
        kept=1_714_287,
        reserve_after=108_857_145,
        supply_after=250 * POINT,
        price_after=435_428_580_000_000_000,
    )


def test_first_order_mints_350_points_and_prices_them_at_150_over_350(env: PoolEnv) -> None:
    """Article order 1 (6 decimals): a 5,000 sale at the 10 % merchant."""
    tea, customer = env.merchants[0], env.customers[0]
    sale = 5_000 * 10**6
    assert env.pool.functions.price().call() == 0  # no points yet
    assert env.pool.functions.quoteCheckout(tea, sale).call() == [350 * POINT, 150 * 10**6]
    merchant_before = env.asset.functions.balanceOf(tea).call()

    transact(env.pool.functions.checkout(customer, sale, order_id("order-1")), tea)

    assert env.token.functions.balanceOf(customer).call() == 350 * POINT
    assert env.token.functions.totalSupply().call() == 350 * POINT
    assert env.pool.functions.reserve().call() == 150 * 10**6
    assert env.asset.functions.balanceOf(env.pool.address).call() == 150 * 10**6
    assert env.asset.functions.balanceOf(tea).call() == merchant_before - 150 * 10**6
    assert env.pool.functions.price().call() == 428_571_428_571_428_571
    assert env.pool.functions.merchant(tea).call() == [RATE_TEA, 1_000_000 * POINT, True, 350 * POINT]
    assert env.pool.functions.isCheckedOut(tea, order_id("order-1")).call()


def test_sofa_on_a_fresh_pool_mints_1260_points_and_puts_540_in(env: PoolEnv) -> None:
    """Article sofa (6 decimals): 12,000 at the 15 % merchant."""
    sofa, customer = env.merchants[1], env.customers[1]
    sale = 12_000 * 10**6
    assert env.pool.functions.quoteCheckout(sofa, sale).call() == [1_260 * POINT, 540 * 10**6]

    transact(env.pool.functions.checkout(customer, sale, order_id("sofa")), sofa)

    assert env.token.functions.balanceOf(customer).call() == 1_260 * POINT
    assert env.pool.functions.reserve().call() == 540 * 10**6
    assert env.asset.functions.balanceOf(env.pool.address).call() == 540 * 10**6
    # 540 / 1260 = 3/7 exactly like order 1: checkouts alone pull the price to 0.3 / 0.7.
    assert env.pool.functions.price().call() == 428_571_428_571_428_571


def test_redeeming_100_of_the_first_350_points_pays_the_spec_figures(env: PoolEnv) -> None:
    """SPEC §2 redeem example, every figure to the last base unit (6 decimals)."""
    tea, customer = env.merchants[0], env.customers[0]
    transact(env.pool.functions.checkout(customer, 5_000 * 10**6, order_id("order-1")), tea)
    quoted = env.pool.functions.quoteRedeem(100 * POINT).call()
    assert quoted == [38_571_427, 2_571_428, 1_714_287]  # payout, tax, kept
    holder_before = env.asset.functions.balanceOf(customer).call()

    receipt = transact(env.pool.functions.redeem(100 * POINT, 38_571_427), customer)

    assert env.asset.functions.balanceOf(customer).call() == holder_before + 38_571_427
    assert env.pool.functions.reserve().call() == 108_857_145
    assert env.pool.functions.taxAccrued().call() == 2_571_428
    assert env.token.functions.totalSupply().call() == 250 * POINT
    assert env.token.functions.balanceOf(customer).call() == 250 * POINT
    assert env.pool.functions.price().call() == 435_428_580_000_000_000
    # Guarantee 1: the pool holds the reserve plus the tax owed.
    assert env.asset.functions.balanceOf(env.pool.address).call() == 108_857_145 + 2_571_428
    (event,) = events(env.pool, "Redeemed", receipt)
    assert (event.args.payout, event.args.tax, event.args.kept) == (38_571_427, 2_571_428, 1_714_287)
    # gross = payout + tax + kept is the holder's share of the reserve before the redemption, rounded down.
    assert sum(quoted) == 100 * POINT * (150 * env.unit) // (350 * POINT)


@pytest.mark.parametrize("decimals", [6, 18])
def test_article_flow_matches_the_rules(env: PoolEnv, env18: PoolEnv, decimals: int) -> None:
    """Order 1, the sofa on top of it, then a redemption: views, quotes and balances follow the rules."""
    e = env if decimals == 6 else env18
    assert e.deployment.asset_decimals == decimals
    unit = e.unit
    tea, sofa, customer, buyer = e.merchants[0], e.merchants[1], e.customers[0], e.customers[1]

    first = expected_checkout(5_000 * unit, RATE_TEA, decimals)
    assert e.pool.functions.quoteCheckout(tea, 5_000 * unit).call() == [first.points, first.pool_in]
    transact(e.pool.functions.checkout(customer, 5_000 * unit, order_id("order-1")), tea)
    assert first.points == 350 * POINT and first.pool_in == 150 * unit
    assert e.token.functions.balanceOf(customer).call() == first.points
    assert e.pool.functions.reserve().call() == first.pool_in
    assert e.pool.functions.price().call() == expected_price(first.pool_in, first.points, decimals)
    assert e.pool.functions.price().call() == 428_571_428_571_428_571

    quote = expected_redeem(100 * POINT, first.pool_in, first.points, decimals)
    assert e.pool.functions.quoteRedeem(100 * POINT).call() == [quote.payout, quote.tax, quote.kept]
    holder_before = e.asset.functions.balanceOf(customer).call()
    transact(e.pool.functions.redeem(100 * POINT, quote.payout), customer)
    assert e.asset.functions.balanceOf(customer).call() == holder_before + quote.payout
    assert e.pool.functions.reserve().call() == quote.reserve_after
    assert e.pool.functions.taxAccrued().call() == quote.tax
    assert e.token.functions.totalSupply().call() == quote.supply_after == 250 * POINT
    assert e.pool.functions.price().call() == quote.price_after
    if decimals == 18:
        # gross = 100 × 150 / 350 = 42.857142857142857142 (floor); fee ceil, tax floor.
        assert quote.gross == 42_857_142_857_142_857_142
        assert quote.fee == 4_285_714_285_714_285_715
        assert quote.tax == 2_571_428_571_428_571_428
        assert quote.payout == 38_571_428_571_428_571_427
        assert quote.reserve_after == 108_857_142_857_142_857_145

    sofa_figures = expected_checkout(12_000 * unit, RATE_SOFA, decimals)
    assert sofa_figures.points == 1_260 * POINT and sofa_figures.pool_in == 540 * unit
    assert e.pool.functions.quoteCheckout(sofa, 12_000 * unit).call() == [sofa_figures.points, sofa_figures.pool_in]
    transact(e.pool.functions.checkout(buyer, 12_000 * unit, order_id("sofa")), sofa)
    reserve = quote.reserve_after + sofa_figures.pool_in
    supply = quote.supply_after + sofa_figures.points
    assert e.pool.functions.reserve().call() == reserve
    assert e.token.functions.totalSupply().call() == supply
    assert e.pool.functions.price().call() == expected_price(reserve, supply, decimals)
    assert e.asset.functions.balanceOf(e.pool.address).call() == reserve + quote.tax


@pytest.mark.parametrize("decimals", [6, 18])
def test_sofa_alone_on_a_fresh_pool(env: PoolEnv, env18: PoolEnv, decimals: int) -> None:
    e = env if decimals == 6 else env18
    sofa, buyer = e.merchants[1], e.customers[1]
    figures = expected_checkout(12_000 * e.unit, RATE_SOFA, decimals)
    transact(e.pool.functions.checkout(buyer, 12_000 * e.unit, order_id("sofa")), sofa)
    assert e.token.functions.balanceOf(buyer).call() == figures.points == 1_260 * POINT
    assert e.pool.functions.reserve().call() == figures.pool_in == 540 * e.unit
    assert e.asset.functions.balanceOf(e.pool.address).call() == 540 * e.unit


def test_checkout_rounding_favours_the_pool(env: PoolEnv) -> None:
    """A skim that does not split evenly: the pool's part rounds up, the points take the rest."""
    tea, customer = env.merchants[0], env.customers[0]
    sale = 33_333_333  # 33.333333 units at 10 %: skim 3.333333, 30 % of it is 0.9999999
    skim = sale * RATE_TEA // BPS
    assert skim == 3_333_333
    assert env.pool.functions.quoteCheckout(tea, sale).call() == [2_333_333 * 10**12, 1_000_000]
    transact(env.pool.functions.checkout(customer, sale, order_id("odd")), tea)
    assert env.pool.functions.reserve().call() == 1_000_000
    assert env.token.functions.balanceOf(customer).call() == 2_333_333 * 10**12


@pytest.mark.parametrize("decimals", [6, 18])
def test_the_last_redemption_pays_only_the_tax_and_empties_the_pool(
    env: PoolEnv, env18: PoolEnv, decimals: int
) -> None:
    """SPEC §2: burning the whole supply leaves no holder for the kept share, so only the tax is
    withheld; the pool ends with reserve 0 and the collector's tax still covered."""
    e = env if decimals == 6 else env18
    tea, customer, other = e.merchants[0], e.customers[0], e.customers[1]
    transact(e.pool.functions.checkout(customer, 5_000 * e.unit, order_id("order-1")), tea)
    transact(e.pool.functions.redeem(100 * POINT, 0), customer)
    transact(e.token.functions.transfer(other, 50 * POINT), customer)
    reserve = e.pool.functions.reserve().call()
    tax_before = e.pool.functions.taxAccrued().call()
    # Not the last: the usual fee. Then the last 50 points of `other`, after the customer's 200.
    quote = expected_redeem(200 * POINT, reserve, 250 * POINT, decimals)
    transact(e.pool.functions.redeem(200 * POINT, quote.payout), customer)
    reserve = quote.reserve_after
    assert e.pool.functions.reserve().call() == reserve
    last_tax = reserve * TAX // BPS  # gross = the whole reserve
    assert e.pool.functions.quoteRedeem(50 * POINT).call() == [reserve - last_tax, last_tax, 0]
    before = e.asset.functions.balanceOf(other).call()
    receipt = transact(e.pool.functions.redeem(50 * POINT, reserve - last_tax), other)
    (event,) = events(e.pool, "Redeemed", receipt)
    assert (event.args.payout, event.args.tax, event.args.kept) == (reserve - last_tax, last_tax, 0)
    assert (event.args.reserveAfter, event.args.supplyAfter) == (0, 0)
    assert e.asset.functions.balanceOf(other).call() == before + reserve - last_tax
    assert (e.pool.functions.reserve().call(), e.pool.functions.price().call()) == (0, 0)
    assert e.pool.functions.taxAccrued().call() == tax_before + quote.tax + last_tax
    assert e.asset.functions.balanceOf(e.pool.address).call() == e.pool.functions.taxAccrued().call()
