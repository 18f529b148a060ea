"""The pool's arithmetic in Python integers, exactly as `DividendPool.sol` computes it.

One place for the rules (SPEC §2) that the economics model, the API's cash-out figures and the
tests share. Every division rounds the way the contract rounds: always in the pool's favour.
"""

from __future__ import annotations

from typing import NamedTuple

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


class CheckoutQuote(NamedTuple):
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


class RedeemQuote(NamedTuple):
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


# ---------------------------------------------------------------- refusals and the rest of the rules

DAY = 86_400  # seconds in a UTC day: the caps count per `timestamp // DAY`


class Refused(Exception):
    """The contract would revert with custom error `error(*values)` (its name and arguments)."""

    def __init__(self, error: str, *values: int | str | bytes | bool) -> None:
        super().__init__(error, *values)
        self.error = error
        self.values = values

    def __str__(self) -> str:
        shown = ", ".join(v.hex() if isinstance(v, bytes) else str(v) for v in self.values)
        return f"{self.error}({shown})"


def day_of(timestamp: int) -> int:
    """The UTC day a timestamp falls on, as the contract counts its daily caps."""
    return timestamp // DAY


def minted_today(counted_day: int, counted: int, today: int) -> int:
    """What a cap counter holds today: its count if it counts today, else 0 (a new day resets it)."""
    return counted if counted_day == today else 0


def cap_remaining(cap: int, minted: int) -> int:
    """Points a daily cap still allows today (0 once reached; a lowered cap may sit below `minted`)."""
    return cap - minted if cap > minted else 0


def check_daily_caps(
    merchant: str, points: int, merchant_cap: int, merchant_minted: int, global_cap: int, global_minted: int
) -> None:
    """A checkout's caps, the merchant's first, then the one over all merchants (`*_minted`: today's)."""
    remaining = cap_remaining(merchant_cap, merchant_minted)
    if points > remaining:
        raise Refused("PoolDailyCapExceeded", merchant, points, remaining)
    remaining = cap_remaining(global_cap, global_minted)
    if points > remaining:
        raise Refused("PoolGlobalDailyCapExceeded", points, remaining)


def check_fund(amount: int, supply: int, max_supply: int) -> None:
    """`fund(amount, maxSupply)`: refused with nothing to add, with no points (the top-up would belong
    to whoever mints next) and when more points exist than the funder saw (a mint in front of it)."""
    if amount == 0:
        raise Refused("PoolZeroAmount")
    if supply == 0:
        raise Refused("PoolNoPoints")
    if supply > max_supply:
        raise Refused("PoolSupplyAboveLimit", supply, max_supply)


def check_burn_leaves_points(points: int, supply: int, error: str) -> None:
    """Spending (`PoolLastPoints`) or burning (`PointsLastPoints`) the whole supply is refused: the
    reserve would back no point; the last points are redeemed instead. Burning nothing is no burn."""
    if points != 0 and supply == points:
        raise Refused(error)


def tax_owed(account: str, collector: str, accrued: int, former_total: int, former_of_account: int) -> int:
    """`taxOwed(account)`: what it is owed as a former collector, plus, for the current collector,
    the tax accrued since it was set (`accrued − former_total`)."""
    current = accrued - former_total if account == collector else 0
    return former_of_account + current
