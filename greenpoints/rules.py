"""The pool's arithmetic in Python integers, exactly as `DividendPool.sol` computes it.

One place for the rules (SPEC §2) that the economics model, the API's cash-out figures and the
tests share. Every division rounds the way the contract rounds: always in the pool's favour.
"""

from __future__ import annotations

from dataclasses import dataclass

BPS = 10_000
POINT = 10**18


def ceil_div(a: int, b: int) -> int:
    """`a / b` rounded up, for non-negative `a` and positive `b`."""
    return -(-a // b)


def scale_of(asset_decimals: int) -> int:
    """Points (18 decimals) per base unit of the reserve asset at face value."""
    return 10 ** (18 - asset_decimals)


def price(reserve: int, supply: int, asset_decimals: int) -> int:
    """`price()`: reserve currency per whole point, 18-decimal fixed point; 0 with no points."""
    if supply == 0:
        return 0
    return reserve * scale_of(asset_decimals) * POINT // supply


@dataclass(frozen=True, slots=True)
class CheckoutQuote:
    """What a checkout mints and pulls in: `points` (18 decimals), `pool_in` (asset units).

    `face_points` is the article's 70 % at face value; `points` is less when the mint bound
    applies (`bounded`)."""

    skim: int
    pool_in: int
    face_points: int
    points: int

    @property
    def bounded(self) -> bool:
        return self.points < self.face_points


def quote_checkout(
    sale_amount: int,
    rate_bps: int,
    pool_share_bps: int,
    fee_bps: int,
    reserve: int,
    supply: int,
    asset_decimals: int,
) -> CheckoutQuote:
    """`quoteCheckout`: skim, pool-in and the points minted, with the mint bound (SPEC §2).

    The bound keeps the cash-out value of the new points at most what the pool received:
    `points <= pool_in × supply × BPS / (reserve × (BPS − fee))` while points exist.
    """
    skim = sale_amount * rate_bps // BPS
    pool_in = ceil_div(skim * pool_share_bps, BPS)
    face = (skim - pool_in) * scale_of(asset_decimals)
    points = face
    if supply > 0 and reserve > 0:
        points = min(face, pool_in * supply * BPS // (reserve * (BPS - fee_bps)))
    return CheckoutQuote(skim=skim, pool_in=pool_in, face_points=face, points=points)


@dataclass(frozen=True, slots=True)
class RedeemQuote:
    """What redeeming gives: `payout` to the holder, `tax` accrued for the collector, `kept` in
    the pool (asset units); `gross` = payout + tax + kept."""

    gross: int
    payout: int
    tax: int
    kept: int


def quote_redeem(points: int, reserve: int, supply: int, fee_bps: int, tax_bps: int) -> RedeemQuote:
    """`quoteRedeem`: the pro-rata share less the fee; the last redemption (all of the supply) pays
    only the tax, because the kept share would have no holder left."""
    if supply == 0 or points == 0:
        return RedeemQuote(0, 0, 0, 0)
    gross = points * reserve // supply
    tax = gross * tax_bps // BPS
    if points == supply:
        return RedeemQuote(gross=gross, payout=gross - tax, tax=tax, kept=0)
    fee = ceil_div(gross * fee_bps, BPS)
    return RedeemQuote(gross=gross, payout=gross - fee, tax=tax, kept=fee - tax)


def fraud_threshold(pool_share_bps: int, fee_bps: int) -> tuple[int, int]:
    """SPEC §5: the price above which a fake sale would pay without the mint bound, as the exact
    fraction (numerator, denominator) of `poolShare ÷ ((1 − poolShare) × (1 − fee))`."""
    return pool_share_bps * BPS, (BPS - pool_share_bps) * (BPS - fee_bps)
