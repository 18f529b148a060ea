"""What the merchant client returns: quotes, checkouts, order statuses and spends, each with its
JSON form (amounts as exact decimal strings in whole units)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from greenpoints.units import POINT_DECIMALS, format_units


@dataclass(frozen=True)
class Quote:
    """What a checkout of `sale_amount` would mint (`points`, 18 decimals) and pull in (`pool_in`)."""

    sale_amount: int
    points: int
    pool_in: int
    asset_decimals: int

    def as_json(self) -> dict[str, str]:
        return {
            "amount": format_units(self.sale_amount, self.asset_decimals),
            "points": format_units(self.points, POINT_DECIMALS),
            "pool_in": format_units(self.pool_in, self.asset_decimals),
        }


@dataclass(frozen=True)
class Checkout:
    """A checkout on chain. `replayed`: found from an earlier call, not sent by this one."""

    order_ref: str
    order_id: bytes
    merchant: str
    customer: str
    sale_amount: int
    points: int
    pool_in: int
    tx_hash: str
    block_number: int
    block_hash: str
    confirmations: int
    replayed: bool
    asset_decimals: int

    def as_json(self) -> dict[str, Any]:
        return {
            "order_ref": self.order_ref,
            "order_id": "0x" + self.order_id.hex(),
            "merchant": self.merchant,
            "customer": self.customer,
            "amount": format_units(self.sale_amount, self.asset_decimals),
            "points": format_units(self.points, POINT_DECIMALS),
            "pool_in": format_units(self.pool_in, self.asset_decimals),
            "tx_hash": self.tx_hash,
            "block_number": self.block_number,
            "block_hash": self.block_hash,
            "confirmations": self.confirmations,
            "replayed": self.replayed,
        }


@dataclass(frozen=True)
class OrderStatus:
    """Whether an order reference is checked out by a merchant, and the checkout when it is."""

    order_ref: str
    order_id: bytes
    merchant: str
    checkout: Checkout | None

    def as_json(self) -> dict[str, Any]:
        return {
            "order_ref": self.order_ref,
            "order_id": "0x" + self.order_id.hex(),
            "merchant": self.merchant,
            "checked_out": self.checkout is not None,
            "checkout": None if self.checkout is None else self.checkout.as_json(),
        }


@dataclass(frozen=True)
class Spend:
    """A spend of a holder's points by this merchant, on chain."""

    holder: str
    merchant: str
    order_id: bytes
    points: int
    tx_hash: str
    block_number: int
    replayed: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "holder": self.holder,
            "merchant": self.merchant,
            "order_id": "0x" + self.order_id.hex(),
            "points": format_units(self.points, POINT_DECIMALS),
            "tx_hash": self.tx_hash,
            "block_number": self.block_number,
            "replayed": self.replayed,
        }
