"""Reads of the stored state that both the writer and the backfill worker make, on a psycopg cursor.

The worker reads with psycopg alone (no SQLAlchemy to import in it); the writer's `indexer.db`
calls these with a cursor inside its SQLAlchemy transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from psycopg import Cursor

from indexer.derive import PoolSnapshot
from indexer.target import Target


def has_schema(cur: Cursor[tuple[Any, ...]]) -> bool:
    """Whether the indexer's tables exist (a new database has none until the first migration)."""
    row = cur.execute("SELECT to_regclass('indexer_state')").fetchone()
    return row is not None and row[0] is not None


def cursor_hint(cur: Cursor[tuple[Any, ...]], target: Target) -> int:
    """The stored cursor, or the block before the deployment when there is none (or no schema
    yet); read without a lock, only to start reading ahead."""
    if has_schema(cur):
        row = cur.execute(
            "SELECT cursor_block FROM indexer_state WHERE chain_id = %s AND pool = %s", (target.chain_id, target.pool)
        ).fetchone()
        if row is not None:
            return int(row[0])
    return target.deployment_block - 1


def last_pool_state(cur: Cursor[tuple[Any, ...]], chain_id: int) -> PoolSnapshot:
    """The pool state after the last stored change (all zero before the first one)."""
    row = cur.execute(
        "SELECT reserve, supply, tax_accrued FROM pool_states WHERE chain_id = %s"
        " ORDER BY block_number DESC, log_index DESC LIMIT 1",
        (chain_id,),
    ).fetchone()
    if row is None:
        return PoolSnapshot()
    return PoolSnapshot(int(row[0]), int(row[1]), int(row[2]))


def current_balances(cur: Cursor[tuple[Any, ...]], chain_id: int, holders: Iterable[str]) -> dict[str, int]:
    """The stored balances of `holders` (a holder without a row has none: 0)."""
    wanted = list(holders)
    if not wanted:
        return {}
    rows = cur.execute(
        "SELECT holder, balance FROM balances WHERE chain_id = %s AND holder = ANY(%s)", (chain_id, wanted)
    )
    return {str(holder): int(balance) for holder, balance in rows}
