"""A checkout as the gateway shows it (HTTP answers and webhook bodies), and the fingerprint of a
request that decides whether a reused idempotency key carries the same request."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from greenpoints.units import POINT_DECIMALS, format_units
from merchant.gateway.outbox import CheckoutRow


def request_hash(customer: str, sale_amount: int, order_ref: str) -> str:
    """sha256 of the normalised request: "12000" and "12000.00", or an address in another
    letter case, are the same request."""
    canonical = json.dumps([customer.lower(), str(sale_amount), order_ref], separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def render(row: CheckoutRow, *, merchant: str, asset_decimals: int) -> dict[str, Any]:
    """The JSON representation of a checkout (amounts as decimal strings in whole units)."""
    return {
        "idempotency_key": row.idempotency_key,
        "state": row.state,
        "order_ref": row.order_ref,
        "order_id": row.order_id,
        "merchant": merchant,
        "customer": row.customer,
        "amount": format_units(row.sale_amount, asset_decimals),
        "points": None if row.points is None else format_units(row.points, POINT_DECIMALS),
        "pool_in": None if row.pool_in is None else format_units(row.pool_in, asset_decimals),
        "tx_hash": row.tx_hash,
        "nonce": row.nonce,
        "block_number": row.block_number,
        "block_hash": row.block_hash,
        "error": None if row.error_code is None else {"code": row.error_code, "message": row.error_message},
        "accepted_at": _time(row.accepted_at),
        "sent_at": _time(row.sent_at),
        "finished_at": _time(row.finished_at),
    }
