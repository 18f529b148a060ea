"""The outbox in PostgreSQL: every statement the gateway runs on its tables.

A checkout row moves accepted → sent → final | failed. `record_signed` stores a signed
transaction before it is ever sent, in the transaction that moves the row to `sent`; a crash
after that commit leaves everything needed to send the very same bytes again. `finish` moves a
row to `final` or `failed` and queues its webhook in the same transaction, so a finished checkout
always has its webhook and a webhook always has its finished checkout.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from merchant.txs import SignedTx

COLUMNS = (
    "id, idempotency_key, request_hash, customer, sale_amount, order_ref, order_id, state, nonce, tx_hash,"
    " broadcasts, reorgs, block_number, block_hash, points, pool_in, error_code, error_message,"
    " accepted_at, sent_at, mined_at, finished_at"
)
OPEN_STATES = ("accepted", "sent")


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose outbox rows these are: one merchant key on one pool of one chain."""

    chain_id: int
    pool: str
    merchant: str

    def params(self) -> dict[str, Any]:
        return {"chain_id": self.chain_id, "pool": self.pool, "merchant": self.merchant}

    def lock_key(self) -> str:
        """The name of the advisory lock the chain worker of this scope holds."""
        return f"greenpoints-gateway:{self.chain_id}:{self.pool.lower()}:{self.merchant.lower()}"


@dataclass(frozen=True, slots=True)
class CheckoutRow:
    id: int
    idempotency_key: str
    request_hash: str
    customer: str
    sale_amount: int
    order_ref: str
    order_id: str
    state: str
    nonce: int | None
    tx_hash: str | None
    broadcasts: int
    reorgs: int
    block_number: int | None
    block_hash: str | None
    points: int | None
    pool_in: int | None
    error_code: str | None
    error_message: str | None
    accepted_at: datetime
    sent_at: datetime | None
    mined_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, row: dict[str, Any]) -> CheckoutRow:
        values = dict(row)
        for name in ("sale_amount", "points", "pool_in"):
            if values[name] is not None:
                values[name] = int(values[name])  # NUMERIC arrives as Decimal: exact integers
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Attempt:
    """A transaction signed for a checkout (a replacement shares its nonce with the one before)."""

    tx_hash: str
    nonce: int
    raw: bytes
    max_fee: int
    tip: int
    gas: int
    signed_at: datetime


class OrderRefTaken(Exception):
    """Another idempotency key holds a live checkout of the same order reference."""


def _one(conn: psycopg.Connection[Any], query: str, params: dict[str, Any]) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, params)
        return cur.fetchone()


def _all(conn: psycopg.Connection[Any], query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, params)
        return cur.fetchall()


# ---------------------------------------------------------------------- the HTTP side


def insert_checkout(
    conn: psycopg.Connection[Any],
    scope: Scope,
    *,
    key: str,
    request_hash: str,
    customer: str,
    sale_amount: int,
    order_ref: str,
    order_id: str,
) -> tuple[CheckoutRow, bool]:
    """(row, created): the new `accepted` row, or the row this key already has (created False).
    `OrderRefTaken` when another key has a live checkout of this order reference."""
    params = {
        **scope.params(),
        "key": key,
        "hash": request_hash,
        "customer": customer,
        "sale": sale_amount,
        "ref": order_ref,
        "oid": order_id,
    }
    try:
        row = _one(
            conn,
            "INSERT INTO gateway_checkouts (chain_id, pool, merchant, idempotency_key, request_hash, customer,"
            " sale_amount, order_ref, order_id) VALUES (%(chain_id)s, %(pool)s, %(merchant)s, %(key)s, %(hash)s,"
            " %(customer)s, %(sale)s, %(ref)s, %(oid)s)"
            " ON CONFLICT (chain_id, pool, merchant, idempotency_key) DO NOTHING RETURNING " + COLUMNS,
            params,
        )
    except psycopg.errors.UniqueViolation:
        conn.rollback()
        raise OrderRefTaken(order_ref) from None
    if row is not None:
        return CheckoutRow.of(row), True
    existing = get_checkout(conn, scope, key)
    assert existing is not None, "a conflicting key vanished"
    return existing, False


def get_checkout(conn: psycopg.Connection[Any], scope: Scope, key: str) -> CheckoutRow | None:
    row = _one(
        conn,
        "SELECT " + COLUMNS + " FROM gateway_checkouts WHERE chain_id = %(chain_id)s AND pool = %(pool)s"
        " AND merchant = %(merchant)s AND idempotency_key = %(key)s",
        {**scope.params(), "key": key},
    )
    return None if row is None else CheckoutRow.of(row)


# ---------------------------------------------------------------------- the chain worker


def open_rows(conn: psycopg.Connection[Any], scope: Scope, state: str, limit: int) -> list[CheckoutRow]:
    """Rows in `state` (accepted or sent), oldest first."""
    rows = _all(
        conn,
        "SELECT " + COLUMNS + " FROM gateway_checkouts WHERE chain_id = %(chain_id)s AND pool = %(pool)s"
        " AND merchant = %(merchant)s AND state = %(state)s ORDER BY id LIMIT %(limit)s",
        {**scope.params(), "state": state, "limit": limit},
    )
    return [CheckoutRow.of(r) for r in rows]


def attempts_of(conn: psycopg.Connection[Any], ids: Sequence[int]) -> dict[int, list[Attempt]]:
    """Every transaction signed for the checkouts `ids`, oldest first."""
    found: dict[int, list[Attempt]] = {i: [] for i in ids}
    if not ids:
        return found
    rows = _all(
        conn,
        "SELECT checkout_id, tx_hash, nonce, raw_tx, max_fee, tip, gas, signed_at FROM gateway_transactions"
        " WHERE checkout_id = ANY(%(ids)s) ORDER BY signed_at, tx_hash",
        {"ids": list(ids)},
    )
    for r in rows:
        found[r["checkout_id"]].append(
            Attempt(
                r["tx_hash"], r["nonce"], bytes(r["raw_tx"]), int(r["max_fee"]), int(r["tip"]), r["gas"], r["signed_at"]
            )
        )
    return found


def highest_open_nonce(conn: psycopg.Connection[Any], scope: Scope) -> int | None:
    """The highest nonce signed for a checkout still in flight (restart: nonces continue after it)."""
    row = _one(
        conn,
        "SELECT max(nonce) AS n FROM gateway_checkouts WHERE chain_id = %(chain_id)s AND pool = %(pool)s"
        " AND merchant = %(merchant)s AND state = 'sent'",
        scope.params(),
    )
    return None if row is None or row["n"] is None else int(row["n"])


def record_signed(conn: psycopg.Connection[Any], checkout_id: int, tx: SignedTx) -> None:
    """Keep `tx` and make it the row's transaction in flight (the row is `sent` from now on)."""
    conn.execute(
        "INSERT INTO gateway_transactions (tx_hash, checkout_id, nonce, raw_tx, max_fee, tip, gas)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (tx.tx_hash, checkout_id, tx.nonce, tx.raw, tx.fees.max_fee, tx.fees.tip, tx.gas),
    )
    conn.execute(
        "UPDATE gateway_checkouts SET state = 'sent', nonce = %s, tx_hash = %s, sent_at = coalesce(sent_at, now()),"
        " updated_at = now() WHERE id = %s",
        (tx.nonce, tx.tx_hash, checkout_id),
    )


def adopt_transaction(conn: psycopg.Connection[Any], checkout_id: int, tx_hash: str) -> None:
    """Point an accepted row at a checkout found on chain (sent by an earlier run or another tool)."""
    conn.execute(
        "UPDATE gateway_checkouts SET state = 'sent', tx_hash = %s, sent_at = coalesce(sent_at, now()),"
        " updated_at = now() WHERE id = %s",
        (tx_hash, checkout_id),
    )


def count_broadcasts(conn: psycopg.Connection[Any], ids: Sequence[int]) -> None:
    if ids:
        conn.execute("UPDATE gateway_checkouts SET broadcasts = broadcasts + 1 WHERE id = ANY(%s)", (list(ids),))


def record_mined(
    conn: psycopg.Connection[Any],
    *,
    checkout_id: int,
    tx_hash: str,
    block_number: int,
    block_hash: str,
    points: int | None,
    pool_in: int | None,
) -> None:
    conn.execute(
        "UPDATE gateway_checkouts SET tx_hash = %s, block_number = %s, block_hash = %s, points = %s, pool_in = %s,"
        " mined_at = now(), updated_at = now() WHERE id = %s",
        (tx_hash, block_number, block_hash, points, pool_in, checkout_id),
    )


def record_reorg(conn: psycopg.Connection[Any], checkout_id: int) -> None:
    """The block the checkout was mined in is gone: it is in flight again."""
    conn.execute(
        "UPDATE gateway_checkouts SET block_number = NULL, block_hash = NULL, points = NULL, pool_in = NULL,"
        " mined_at = NULL, reorgs = reorgs + 1, updated_at = now() WHERE id = %s",
        (checkout_id,),
    )


def finish(
    conn: psycopg.Connection[Any],
    checkout_id: int,
    *,
    state: str,
    error_code: str | None = None,
    error_message: str | None = None,
    webhook: Callable[[CheckoutRow], tuple[str, str, str]] | None = None,
) -> CheckoutRow:
    """Move the row to `final` or `failed`; with `webhook` (row → (event id, type, body)) queue
    its delivery in the same transaction."""
    assert state in ("final", "failed")
    row = _one(
        conn,
        "UPDATE gateway_checkouts SET state = %(state)s, error_code = %(code)s, error_message = %(message)s,"
        " finished_at = now(), updated_at = now() WHERE id = %(id)s RETURNING " + COLUMNS,
        {"state": state, "code": error_code, "message": error_message, "id": checkout_id},
    )
    assert row is not None
    finished = CheckoutRow.of(row)
    if webhook is not None:
        event_id, event_type, body = webhook(finished)
        conn.execute(
            "INSERT INTO gateway_webhooks (event_id, checkout_id, event_type, payload) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (event_id) DO NOTHING",
            (event_id, checkout_id, event_type, body),
        )
    return finished


# ---------------------------------------------------------------------- webhooks


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    event_id: str
    event_type: str
    payload: str
    attempts: int


def claim_due_webhook(conn: psycopg.Connection[Any]) -> Delivery | None:
    """The next webhook due, locked for this transaction (another deliverer skips it)."""
    row = _one(
        conn,
        "SELECT id, event_id, event_type, payload, attempts FROM gateway_webhooks"
        " WHERE delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= now()"
        " ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED",
        {},
    )
    return None if row is None else Delivery(**row)


def webhook_delivered(conn: psycopg.Connection[Any], webhook_id: int) -> None:
    conn.execute(
        "UPDATE gateway_webhooks SET delivered_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = %s",
        (webhook_id,),
    )


def webhook_failed(conn: psycopg.Connection[Any], webhook_id: int, *, error: str, retry_in: float | None) -> None:
    """Count a failed attempt; try again in `retry_in` seconds, or give up (None)."""
    if retry_in is None:
        conn.execute(
            "UPDATE gateway_webhooks SET attempts = attempts + 1, last_error = %s, gave_up_at = now() WHERE id = %s",
            (error, webhook_id),
        )
    else:
        conn.execute(
            "UPDATE gateway_webhooks SET attempts = attempts + 1, last_error = %s,"
            " next_attempt_at = now() + make_interval(secs => %s) WHERE id = %s",
            (error, retry_in, webhook_id),
        )


def webhook_summary(conn: psycopg.Connection[Any], checkout_id: int) -> list[dict[str, Any]]:
    """The webhooks of a checkout with their delivery state (for GET and tests)."""
    return _all(
        conn,
        "SELECT event_id, event_type, attempts, delivered_at, gave_up_at, last_error FROM gateway_webhooks"
        " WHERE checkout_id = %(id)s ORDER BY id",
        {"id": checkout_id},
    )


def dumps(value: Any) -> str:
    """Compact JSON with sorted keys: the exact bytes a webhook signs."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True)
