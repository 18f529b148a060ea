"""The pool and its points token as a pure-Python state machine.

Same integer results and the same refusals as `DividendPool` and `PointsToken`: every method
checks everything first, in the contract's order, and raises `Refused` (named like the custom
error, with its arguments) before it changes anything, so a refused call leaves no trace, like
a reverted transaction. The arithmetic is `greenpoints.rules`; this file keeps the books.

Accounts are plain strings (the on-chain check uses addresses). The reserve asset is not
modelled: payers are assumed to hold and approve what they pay.
"""

from __future__ import annotations

from dataclasses import dataclass

from greenpoints import rules
from greenpoints.pool_constants import PoolBounds, pool_bounds
from greenpoints.rules import CheckoutQuote, RedeemQuote, Refused

ZERO = "0x0000000000000000000000000000000000000000"
MAX_UINT256 = 2**256 - 1


@dataclass(slots=True)
class Merchant:
    """A merchant's settings and its mint counter (`minted` counts UTC day `day`)."""

    rate_bps: int
    daily_cap: int
    active: bool
    day: int = 0
    minted: int = 0


class Pool:
    """One pool: reserve, tax books, merchants, caps, order ids, and the points token's balances."""

    def __init__(
        self,
        asset_decimals: int = 6,
        *,
        tax_collector: str = "tax collector",
        global_daily_cap: int | None = None,
        fee_bps: int | None = None,
        tax_bps: int | None = None,
        pool_share_bps: int | None = None,
        address: str = "pool",
        token_address: str = "points token",
        now: int = 0,
        bounds: PoolBounds | None = None,
    ) -> None:
        self.bounds = bounds or pool_bounds()
        self.asset_decimals = asset_decimals
        self.scale = rules.scale_of(asset_decimals)
        self.address = address
        self.token_address = token_address
        self.now = now  # block timestamp of the next call
        self.fee_bps = self.bounds.default_fee_bps if fee_bps is None else fee_bps
        self.tax_bps = self.bounds.default_tax_bps if tax_bps is None else tax_bps
        self.pool_share_bps = self.bounds.default_pool_share_bps if pool_share_bps is None else pool_share_bps
        self.global_daily_cap = self.bounds.max_daily_cap if global_daily_cap is None else global_daily_cap
        self.paused = False
        self.reserve = 0
        self.supply = 0
        self.balances: dict[str, int] = {}
        self.allowances: dict[tuple[str, str], int] = {}
        self.nonces: dict[str, int] = {}
        # Tax: all not yet withdrawn, and the part owed to former collectors.
        self.tax_collector = tax_collector
        self.tax_accrued = 0
        self.former_tax_total = 0
        self.former_tax: dict[str, int] = {}
        self.merchants: dict[str, Merchant] = {}
        self.global_day = 0
        self.global_minted = 0
        self.checked_out: set[tuple[str, bytes]] = set()
        self.spent: dict[tuple[str, str, bytes], int] = {}

    # ------------------------------------------------------------ views

    @property
    def today(self) -> int:
        return rules.day_of(self.now)

    def price(self) -> int:
        return rules.price(self.reserve, self.supply, self.asset_decimals)

    def balance_of(self, account: str) -> int:
        return self.balances.get(account, 0)

    def allowance(self, owner: str, spender: str) -> int:
        return self.allowances.get((owner, spender), 0)

    def tax_owed(self, account: str) -> int:
        former = self.former_tax.get(account, 0)
        return rules.tax_owed(account, self.tax_collector, self.tax_accrued, self.former_tax_total, former)

    def merchant(self, account: str) -> tuple[int, int, bool, int]:
        """`merchant(addr)`: (rateBps, dailyCap, active, mintedToday)."""
        m = self.merchants.get(account)
        if m is None:
            return (0, 0, False, 0)
        return (m.rate_bps, m.daily_cap, m.active, rules.minted_today(m.day, m.minted, self.today))

    def global_minted_today(self) -> int:
        return rules.minted_today(self.global_day, self.global_minted, self.today)

    def quote_checkout(self, merchant: str, sale_amount: int) -> CheckoutQuote:
        """`quoteCheckout`: refused for an unknown merchant or a sale above the hard bound."""
        return self._quote_checkout(self._active_merchant(merchant), sale_amount)

    def quote_redeem(self, points: int) -> RedeemQuote:
        """`quoteRedeem`: refused for more points than exist."""
        if points > self.supply:
            raise Refused("PoolInsufficientPoints", self.supply, points)
        return rules.quote_redeem(points, self.reserve, self.supply, self.fee_bps, self.tax_bps)

    # ------------------------------------------------------------ merchants

    def checkout(self, merchant: str, customer: str, sale_amount: int, order_id: bytes) -> CheckoutQuote:
        """`checkout` called by `merchant`: pulls `pool_in` into the reserve, mints `points`."""
        # The hottest path of every scenario: the helpers are inlined here (same checks, same order).
        if self.paused:
            raise Refused("EnforcedPause")
        if customer == ZERO:
            raise Refused("PoolZeroAddress")
        m = self.merchants.get(merchant)
        if m is None or not m.active:
            raise Refused("PoolUnknownMerchant", merchant)
        key = (merchant, order_id)
        if key in self.checked_out:
            raise Refused("PoolOrderReplayed", merchant, order_id)
        quote = self._quote_checkout(m, sale_amount)
        points = quote.points
        if points == 0:
            raise Refused("PoolZeroAmount")
        today = rules.day_of(self.now)
        minted = rules.minted_today(m.day, m.minted, today)
        global_minted = rules.minted_today(self.global_day, self.global_minted, today)
        rules.check_daily_caps(merchant, points, m.daily_cap, minted, self.global_daily_cap, global_minted)
        if customer == self.address or customer == self.token_address:
            raise Refused("ERC20InvalidReceiver", customer)
        self.checked_out.add(key)
        m.day, m.minted = today, minted + points
        self.global_day, self.global_minted = today, global_minted + points
        self.reserve += quote.pool_in
        self.balances[customer] = self.balances.get(customer, 0) + points
        self.supply += points
        return quote

    # ------------------------------------------------------------ holders

    def redeem(self, holder: str, points: int, min_payout: int = 0) -> RedeemQuote:
        """`redeem` called by `holder`; the last redemption (the whole supply) empties the pool."""
        if points == 0:
            raise Refused("PoolZeroAmount")
        balance = self.balance_of(holder)
        if balance < points:
            raise Refused("PoolInsufficientPoints", balance, points)
        quote = rules.quote_redeem(points, self.reserve, self.supply, self.fee_bps, self.tax_bps)
        if quote.payout < min_payout:
            raise Refused("PoolSlippage", quote.payout, min_payout)
        self.reserve -= quote.payout + quote.tax
        self.tax_accrued += quote.tax
        self._burn(holder, points)
        return quote

    def spend(self, holder: str, merchant: str, points: int, order_id: bytes) -> None:
        """`spend` called by `holder` at `merchant`: burns the points, the reserve stays."""
        self._when_not_paused()
        self._check_spend(holder, merchant, points, order_id)
        self.spent[(merchant, holder, order_id)] = points
        self._burn(holder, points)

    def spend_for(
        self, merchant: str, holder: str, points: int, order_id: bytes, deadline: int, signed_nonce: int
    ) -> None:
        """`spendFor` called by `merchant` with a permission `holder` signed for nonce `signed_nonce`
        (the signature itself is assumed to be the holder's)."""
        self._when_not_paused()
        if self.now > deadline:
            raise Refused("PoolPermissionExpired", deadline)
        nonce = self.nonces.get(holder, 0)
        if signed_nonce != nonce:
            raise Refused("PoolInvalidSignature", holder)
        self._check_spend(holder, merchant, points, order_id)
        self.nonces[holder] = nonce + 1
        self.spent[(merchant, holder, order_id)] = points
        self._burn(holder, points)

    def cancel_spend_permissions(self, holder: str) -> int:
        """`cancelSpendPermissions`: voids every unused permission; returns the next nonce."""
        self.nonces[holder] = self.nonces.get(holder, 0) + 1
        return self.nonces[holder]

    def fund(self, funder: str, amount: int, max_supply: int) -> None:
        """`fund(amount, maxSupply)`: a top-up, refused with no points or more points than seen."""
        rules.check_fund(amount, self.supply, max_supply)
        self.reserve += amount

    def withdraw_tax(self, caller: str) -> int:
        """`withdrawTax`: pays `caller` what it is owed as current or former collector."""
        former = self.former_tax.get(caller, 0)
        amount = self.tax_owed(caller)
        if amount == 0:
            raise Refused("PoolNoTaxOwed", caller)
        if former:
            self.former_tax[caller] = 0
            self.former_tax_total -= former
        self.tax_accrued -= amount
        return amount

    # ------------------------------------------------------------ the points token (ERC-20)

    def transfer(self, sender: str, to: str, amount: int) -> None:
        if to == ZERO:
            raise Refused("ERC20InvalidReceiver", to)
        self._check_receiver(to)
        balance = self.balance_of(sender)
        if balance < amount:
            raise Refused("ERC20InsufficientBalance", sender, balance, amount)
        self.balances[sender] = balance - amount
        self.balances[to] = self.balance_of(to) + amount

    def approve(self, owner: str, spender: str, amount: int) -> None:
        if spender == ZERO:
            raise Refused("ERC20InvalidSpender", spender)
        self.allowances[(owner, spender)] = amount

    def burn(self, holder: str, amount: int) -> None:
        """The token's `burn`: a direct burn, the reserve stays (not the whole supply)."""
        self._check_direct_burn(holder, amount)
        self._burn(holder, amount)

    def burn_from(self, spender: str, holder: str, amount: int) -> None:
        """The token's `burnFrom`: the allowance is spent first, as OpenZeppelin's ERC-20 does."""
        allowance = self.allowance(holder, spender)
        if allowance != MAX_UINT256 and allowance < amount:
            raise Refused("ERC20InsufficientAllowance", spender, allowance, amount)
        self._check_direct_burn(holder, amount)
        if allowance != MAX_UINT256:
            self.allowances[(holder, spender)] = allowance - amount
        self._burn(holder, amount)

    # ------------------------------------------------------------ administration

    def set_merchant(self, merchant: str, rate_bps: int, daily_cap: int, active: bool) -> None:
        """`setMerchant`: keeps the merchant's count for the day, so re-registering resets nothing."""
        if merchant == ZERO:
            raise Refused("PoolZeroAddress")
        self._check_bounds(rate_bps, self.bounds.min_rate_bps, self.bounds.max_rate_bps)
        self._check_bounds(daily_cap, self.bounds.min_daily_cap, self.bounds.max_daily_cap)
        m = self.merchants.get(merchant)
        if m is None:
            self.merchants[merchant] = Merchant(rate_bps, daily_cap, active)
        else:
            m.rate_bps, m.daily_cap, m.active = rate_bps, daily_cap, active

    def set_fees(self, fee_bps: int, tax_bps: int) -> None:
        self._check_bounds(fee_bps, 0, self.bounds.max_fee_bps)
        self._check_bounds(tax_bps, 0, fee_bps)
        self.fee_bps, self.tax_bps = fee_bps, tax_bps

    def set_pool_share(self, pool_share_bps: int) -> None:
        self._check_bounds(pool_share_bps, self.bounds.min_pool_share_bps, self.bounds.max_pool_share_bps)
        self.pool_share_bps = pool_share_bps

    def set_tax_collector(self, collector: str) -> None:
        """The tax accrued so far stays owed to the collector it accrued under."""
        if collector == ZERO:
            raise Refused("PoolZeroAddress")
        current = self.tax_accrued - self.former_tax_total
        if current:
            self.former_tax[self.tax_collector] = self.former_tax.get(self.tax_collector, 0) + current
            self.former_tax_total += current
        self.tax_collector = collector

    def set_global_daily_cap(self, cap: int) -> None:
        self._check_bounds(cap, self.bounds.min_daily_cap, self.bounds.max_daily_cap)
        self.global_daily_cap = cap

    def pause(self) -> None:
        if self.paused:
            raise Refused("EnforcedPause")
        self.paused = True

    def unpause(self) -> None:
        if not self.paused:
            raise Refused("ExpectedPause")
        self.paused = False

    # ------------------------------------------------------------ internals

    def _quote_checkout(self, m: Merchant, sale_amount: int) -> CheckoutQuote:
        self._check_bounds(sale_amount, 0, self.bounds.max_sale_amount)
        return rules.quote_checkout(
            sale_amount, m.rate_bps, self.pool_share_bps, self.fee_bps, self.reserve, self.supply, self.asset_decimals
        )

    def _active_merchant(self, account: str) -> Merchant:
        m = self.merchants.get(account)
        if m is None or not m.active:
            raise Refused("PoolUnknownMerchant", account)
        return m

    def _check_spend(self, holder: str, merchant: str, points: int, order_id: bytes) -> None:
        if points == 0:
            raise Refused("PoolZeroAmount")
        self._active_merchant(merchant)
        if self.spent.get((merchant, holder, order_id), 0) != 0:
            raise Refused("PoolSpendReplayed", merchant, holder, order_id)
        balance = self.balance_of(holder)
        if balance < points:
            raise Refused("PoolInsufficientPoints", balance, points)
        rules.check_burn_leaves_points(points, self.supply, "PoolLastPoints")

    def _check_direct_burn(self, holder: str, amount: int) -> None:
        balance = self.balance_of(holder)
        if balance < amount:
            raise Refused("ERC20InsufficientBalance", holder, balance, amount)
        rules.check_burn_leaves_points(amount, self.supply, "PointsLastPoints")

    def _check_receiver(self, to: str) -> None:
        # Points sent to the pool or to the token itself could never be used again.
        if to in (self.address, self.token_address):
            raise Refused("ERC20InvalidReceiver", to)

    def _when_not_paused(self) -> None:
        if self.paused:
            raise Refused("EnforcedPause")

    @staticmethod
    def _check_bounds(value: int, low: int, high: int) -> None:
        if value < low or value > high:
            raise Refused("PoolOutOfBounds", value, low, high)

    def _mint(self, to: str, amount: int) -> None:
        self.balances[to] = self.balances.get(to, 0) + amount
        self.supply += amount

    def _burn(self, holder: str, amount: int) -> None:
        self.balances[holder] -= amount
        self.supply -= amount
