"""What a merchant's checkout or spend can be refused for: one typed exception per reason.

Every exception has a stable `code` (the gateway's `failed` state and its problem types carry it)
and a message that says what to do. `refusal_from_revert` turns the pool's custom errors into
them, so a refusal reads the same whether the client's pre-flight saw it or a mined transaction.
"""

from __future__ import annotations

from typing import Any

from eth_utils import to_checksum_address

from greenpoints.errors import GreenPointsError
from greenpoints.units import POINT_DECIMALS, format_units


class MerchantError(GreenPointsError):
    """Something a merchant tool refuses or could not do; `code` names the kind."""

    code = "merchant_error"


class Refusal(MerchantError):
    """The pool (or the reserve asset) refuses the operation: retrying the same call will not help
    until something changes (a setting, a balance, the day)."""

    code = "refused"
    exit_code = 4


class NotAMerchant(Refusal):
    code = "not_a_merchant"


class MerchantInactive(Refusal):
    code = "merchant_inactive"


class DailyCapReached(Refusal):
    code = "daily_cap_reached"


class GlobalDailyCapReached(Refusal):
    code = "global_daily_cap_reached"


class PoolPaused(Refusal):
    code = "pool_paused"


class AllowanceTooLow(Refusal):
    code = "allowance_too_low"


class BalanceTooLow(Refusal):
    code = "balance_too_low"


class OrderConflict(Refusal):
    """The order reference was already used on chain with different figures."""

    code = "order_conflict"


class SaleTooSmall(Refusal):
    code = "sale_too_small"


class SaleTooLarge(Refusal):
    code = "sale_too_large"


class InvalidCustomer(Refusal):
    code = "invalid_customer"


class AssetRefused(Refusal):
    code = "asset_refused"


class SpendReplayed(Refusal):
    code = "spend_replayed"


class PermissionExpired(Refusal):
    code = "permission_expired"


class InvalidPermission(Refusal):
    code = "invalid_permission"


class PointsTooLow(Refusal):
    code = "points_too_low"


class LastPoints(Refusal):
    code = "last_points"


class TransactionReverted(Refusal):
    """A revert the client has no specific kind for (the message carries the decoded error)."""

    code = "reverted"


class InputError(MerchantError, ValueError):
    """A bad argument: an amount, an address, a permission file."""

    code = "invalid_input"


class SigningKeyError(MerchantError):
    """The signing key is missing or cannot be read (the message never contains the key)."""

    code = "key_error"


class ChainUnavailable(MerchantError):
    """The node could not be reached or answered nonsense; safe to retry (the same order ref)."""

    code = "chain_unavailable"
    exit_code = 5


class NotFinal(MerchantError):
    """The transaction was sent but did not reach the confirmations in time; retrying the same
    order ref finds it instead of sending again."""

    code = "not_final"
    exit_code = 5


def _address(value: object) -> str:
    return to_checksum_address(str(value))


def _asset(value: int, decimals: int) -> str:
    return format_units(value, decimals)


def _points(value: int) -> str:
    return format_units(value, POINT_DECIMALS)


def refusal_from_revert(name: str, args: tuple[Any, ...], *, asset_decimals: int, what: str = "checkout") -> Refusal:
    """The typed refusal for the pool's (or the asset's) custom error `name(*args)`."""
    if name == "PoolUnknownMerchant":
        return NotAMerchant(f"{_address(args[0])} is not an active merchant of this pool")
    if name == "PoolDailyCapExceeded":
        return DailyCapReached(
            f"the merchant's daily mint cap is reached: this {what} mints {_points(args[1])} points,"
            f" {_points(args[2])} are left today (UTC)"
        )
    if name == "PoolGlobalDailyCapExceeded":
        return GlobalDailyCapReached(
            f"the pool's daily mint cap over all merchants is reached: this {what} mints"
            f" {_points(args[0])} points, {_points(args[1])} are left today (UTC)"
        )
    if name == "EnforcedPause":
        return PoolPaused(f"the pool is paused: no {what} until it is unpaused (redemptions still work)")
    if name == "ERC20InsufficientAllowance":
        return AllowanceTooLow(
            f"the merchant's allowance to the pool is {_asset(args[1], asset_decimals)}, "
            f"{_asset(args[2], asset_decimals)} are needed"
        )
    if name == "ERC20InsufficientBalance":
        return BalanceTooLow(
            f"the merchant holds {_asset(args[1], asset_decimals)} of the reserve asset, "
            f"{_asset(args[2], asset_decimals)} are needed"
        )
    if name == "PoolOrderReplayed":
        return OrderConflict(f"order id 0x{bytes(args[1]).hex()} was already used by this merchant")
    if name == "PoolSpendReplayed":
        return SpendReplayed(
            f"holder {_address(args[1])} already spent for order id 0x{bytes(args[2]).hex()} at this merchant"
        )
    if name == "PoolZeroAmount":
        return SaleTooSmall(f"the {what} is too small: it would mint no points")
    if name == "PoolOutOfBounds":
        return SaleTooLarge(f"the amount {args[0]} is outside [{args[1]}, {args[2]}] (base units)")
    if name == "PoolZeroAddress":
        return InvalidCustomer("the customer is the zero address")
    if name == "PoolTransferShortfall":
        return AssetRefused(f"the reserve asset delivered {args[1]} of {args[0]} base units")
    if name == "PoolPermissionExpired":
        return PermissionExpired(f"the spend permission expired at {args[0]} (unix time)")
    if name == "PoolInvalidSignature":
        return InvalidPermission(
            f"the spend permission is not signed by holder {_address(args[0])} (or its nonce was used or cancelled)"
        )
    if name == "PoolInsufficientPoints":
        return PointsTooLow(f"the holder has {_points(args[0])} points, {_points(args[1])} are needed")
    if name == "PoolLastPoints":
        return LastPoints("these are the last points in existence: they can only be redeemed, not spent")
    shown = ", ".join(f"0x{a.hex()}" if isinstance(a, bytes) else str(a) for a in args)
    return TransactionReverted(f"the pool refused the {what}: {name}({shown})")
