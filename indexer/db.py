"""Database access: the engine, the cursor row, and the bulk writes of one batch.

SQLAlchemy 2 Core on psycopg 3. Events (one typed table per event) and pool states go in with COPY; balances,
merchants, daily merchant totals and blocks with one set-based `INSERT ... SELECT FROM unnest(...)
ON CONFLICT` each. Writes are idempotent on the natural keys: rows already stored for the batch's
blocks are skipped (the single writer holds the advisory lock, so nothing else inserts meanwhile).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from indexer import candle_store, stored
from indexer.copy_text import copy_columns
from indexer.decode import TABLES
from indexer.derive import PoolSnapshot
from indexer.errors import IndexerError
from indexer.prepare import PreparedBatch
from indexer.rpc import BlockHeader
from indexer.target import Target


def make_engine(database_url: str) -> Engine:
    """An engine for `database_url` (plain `postgresql://` URLs use psycopg 3)."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        raise IndexerError("GREENPOINTS_DATABASE_URL is not a valid SQLAlchemy URL") from None
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    if url.drivername != "postgresql+psycopg":
        raise IndexerError(f"GREENPOINTS_DATABASE_URL must use postgresql+psycopg (got {url.drivername})")
    return create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=2)


def check_connection(engine: Engine) -> None:
    """Fail with one line when the database cannot be reached."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc).splitlines()[0]
        raise IndexerError(f"cannot connect to the database: {first}") from None


def url_string(engine: Engine) -> str:
    """The engine's URL with the password, for Alembic."""
    return engine.url.render_as_string(hide_password=False)


# ---------------------------------------------------------------------- the cursor row


@dataclass(frozen=True)
class State:
    """The `indexer_state` row."""

    cursor_block: int
    cursor_hash: str | None
    halted_reason: str | None
    updated_at: datetime | None


def ensure_state(conn: Connection, target: Target) -> None:
    """Create the cursor row for `target` (cursor just before the deployment block) if missing."""
    others = (
        conn.execute(
            text("SELECT pool FROM indexer_state WHERE chain_id = :c AND pool <> :p"),
            {"c": target.chain_id, "p": target.pool},
        )
        .scalars()
        .all()
    )
    if others:
        raise IndexerError(
            f"this database already mirrors pool {others[0]} on chain {target.chain_id}; "
            "use one database (or chain) per pool"
        )
    conn.execute(
        text(
            "INSERT INTO indexer_state (chain_id, pool, token, asset, asset_decimals, deployment_block, cursor_block)"
            " VALUES (:c, :p, :t, :a, :d, :b, :cursor) ON CONFLICT (chain_id, pool) DO NOTHING"
        ),
        {
            "c": target.chain_id,
            "p": target.pool,
            "t": target.token,
            "a": target.asset,
            "d": target.asset_decimals,
            "b": target.deployment_block,
            "cursor": target.deployment_block - 1,
        },
    )
    row = conn.execute(
        text("SELECT token, asset, deployment_block FROM indexer_state WHERE chain_id = :c AND pool = :p"),
        {"c": target.chain_id, "p": target.pool},
    ).one()
    if (row.token, row.asset, row.deployment_block) != (target.token, target.asset, target.deployment_block):
        raise IndexerError(
            f"the database's record of pool {target.pool} (token {row.token}, block {row.deployment_block}) "
            "differs from the deployment file; was the chain redeployed? use a fresh database"
        )


def has_schema(conn: Connection) -> bool:
    """Whether the indexer's tables exist (a new database has none until the first migration)."""
    with _raw_cursor(conn) as cur:
        return stored.has_schema(cur)


def cursor_hint(engine: Engine, target: Target) -> int:
    """The stored cursor, or the block before the deployment (see `indexer.stored.cursor_hint`)."""
    with engine.connect() as conn, _raw_cursor(conn) as cur:
        return stored.cursor_hint(cur, target)


def load_state(conn: Connection, target: Target, *, for_update: bool = False) -> State:
    row = conn.execute(
        text(
            "SELECT cursor_block, cursor_hash, halted_reason, updated_at FROM indexer_state"
            " WHERE chain_id = :c AND pool = :p" + (" FOR UPDATE" if for_update else "")
        ),
        {"c": target.chain_id, "p": target.pool},
    ).one_or_none()
    if row is None:
        raise IndexerError(f"nothing indexed yet for pool {target.pool} on chain {target.chain_id}")
    return State(row.cursor_block, row.cursor_hash, row.halted_reason, row.updated_at)


def set_cursor(conn: Connection, target: Target, block: int, block_hash: str | None) -> None:
    conn.execute(
        text(
            "UPDATE indexer_state SET cursor_block = :b, cursor_hash = :h, updated_at = now()"
            " WHERE chain_id = :c AND pool = :p"
        ),
        {"b": block, "h": block_hash, "c": target.chain_id, "p": target.pool},
    )


def write_heartbeat(conn: Connection, target: Target, head: int) -> None:
    """Record the chain head the indexer saw just now (readers derive its lag and liveness)."""
    conn.execute(
        text(
            "INSERT INTO indexer_heartbeat (chain_id, pool, head_block, seen_at) VALUES (:c, :p, :h, now())"
            " ON CONFLICT (chain_id, pool) DO UPDATE SET head_block = EXCLUDED.head_block, seen_at = now()"
        ),
        {"c": target.chain_id, "p": target.pool, "h": head},
    )


def set_halted(conn: Connection, target: Target, reason: str | None) -> None:
    conn.execute(
        text("UPDATE indexer_state SET halted_reason = :r, updated_at = now() WHERE chain_id = :c AND pool = :p"),
        {"r": reason, "c": target.chain_id, "p": target.pool},
    )


def last_pool_state(conn: Connection, chain_id: int) -> PoolSnapshot:
    with _raw_cursor(conn) as cur:
        return stored.last_pool_state(cur, chain_id)


def current_balances(conn: Connection, chain_id: int, holders: Iterable[str]) -> dict[str, int]:
    with _raw_cursor(conn) as cur:
        return stored.current_balances(cur, chain_id, holders)


def stored_event_keys(conn: Connection, chain_id: int, first: int, last: int) -> set[tuple[int, int]]:
    """Keys of events already stored in blocks `[first, last]` (normally none)."""
    union = " UNION ALL ".join(
        f"SELECT block_number, log_index FROM {table} WHERE chain_id = :c AND block_number BETWEEN :a AND :b"
        for table in TABLES
    )
    rows = conn.execute(text(union), {"c": chain_id, "a": first, "b": last})
    return {(r.block_number, r.log_index) for r in rows}


# ---------------------------------------------------------------------- bulk writes


def _raw_cursor(conn: Connection) -> Any:
    """A psycopg cursor inside the SQLAlchemy connection's transaction."""
    return conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]


def copy_text(
    conn: Connection, table: str, columns: Sequence[str], data: bytes, *, skip_existing: bool = False
) -> None:
    """COPY rows given as PostgreSQL's text format (tab-separated, `\\N` for NULL, a newline after
    each row; see `indexer.copy_text`) into `table`, a megabyte at a time.

    With `skip_existing` (replays) the rows go through a temporary table and
    `INSERT ... ON CONFLICT DO NOTHING`, so rows already stored under the same key are kept as
    they are; the first pass over a range COPYs straight into the table.
    """
    names = ", ".join(columns)
    target = table
    if skip_existing:
        target = f"stage_{table}"
        conn.execute(text(f"CREATE TEMP TABLE {target} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"))
    view = memoryview(data)
    with _raw_cursor(conn) as cur, cur.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
        for start in range(0, len(view), 1 << 20):
            copy.write(view[start : start + (1 << 20)])
    if skip_existing:
        conn.execute(text(f"INSERT INTO {table} ({names}) SELECT {names} FROM {target} ON CONFLICT DO NOTHING"))
        conn.execute(text(f"DROP TABLE {target}"))


def write_prepared(conn: Connection, chain_id: int, batch: PreparedBatch, *, skip_existing: bool = False) -> None:
    """Write a prepared batch's rows: the event tables and pool states (COPY), then the balances,
    merchants, per-day merchant totals and price candles it changed (one set-based upsert each)."""
    for table, data in batch.copy.items():
        copy_text(conn, table, copy_columns(table), data, skip_existing=skip_existing)
    if batch.balances:
        conn.execute(
            text(
                "INSERT INTO balances (chain_id, holder, balance)"
                " SELECT :c, h, b FROM unnest(CAST(:holders AS text[]), CAST(:amounts AS numeric[])) AS t(h, b)"
                " ON CONFLICT (chain_id, holder) DO UPDATE SET balance = EXCLUDED.balance"
            ),
            {"c": chain_id, "holders": list(batch.balances), "amounts": [str(v) for v in batch.balances.values()]},
        )
    if batch.merchants:
        items = list(batch.merchants.items())
        conn.execute(
            text(
                "INSERT INTO merchants (chain_id, merchant, rate_bps, daily_cap, active, updated_block)"
                " SELECT :c, m, r, d, a, b FROM unnest(CAST(:m AS text[]), CAST(:r AS int[]),"
                " CAST(:d AS numeric[]), CAST(:a AS boolean[]), CAST(:b AS bigint[])) AS t(m, r, d, a, b)"
                " ON CONFLICT (chain_id, merchant) DO UPDATE SET rate_bps = EXCLUDED.rate_bps,"
                " daily_cap = EXCLUDED.daily_cap, active = EXCLUDED.active, updated_block = EXCLUDED.updated_block"
            ),
            {
                "c": chain_id,
                "m": [k for k, _ in items],
                "r": [v[0] for _, v in items],
                "d": [str(v[1]) for _, v in items],
                "a": [v[2] for _, v in items],
                "b": [v[3] for _, v in items],
            },
        )
    if batch.merchant_daily:
        daily = list(batch.merchant_daily.items())
        conn.execute(
            text(
                "INSERT INTO merchant_daily (chain_id, merchant, day, minted, spent, checkouts, pool_in, sales)"
                " SELECT :c, m, d, mi, sp, n, pi, sa FROM unnest(CAST(:m AS text[]), CAST(:d AS date[]),"
                " CAST(:mi AS numeric[]), CAST(:sp AS numeric[]), CAST(:n AS bigint[]), CAST(:pi AS numeric[]),"
                " CAST(:sa AS numeric[])) AS t(m, d, mi, sp, n, pi, sa)"
                " ON CONFLICT (chain_id, merchant, day) DO UPDATE SET"
                " minted = merchant_daily.minted + EXCLUDED.minted, spent = merchant_daily.spent + EXCLUDED.spent,"
                " checkouts = merchant_daily.checkouts + EXCLUDED.checkouts,"
                " pool_in = merchant_daily.pool_in + EXCLUDED.pool_in, sales = merchant_daily.sales + EXCLUDED.sales"
            ),
            {
                "c": chain_id,
                "m": [k[0] for k, _ in daily],
                "d": [k[1] for k, _ in daily],
                "mi": [str(v[0]) for _, v in daily],
                "sp": [str(v[1]) for _, v in daily],
                "n": [v[2] for _, v in daily],
                "pi": [str(v[3]) for _, v in daily],
                "sa": [str(v[4]) for _, v in daily],
            },
        )
    candle_store.write(conn, chain_id, batch.candles)


def write_blocks(
    conn: Connection, chain_id: int, headers: Iterable[BlockHeader], event_blocks: dict[int, tuple[str, int]]
) -> None:
    """Store the fetched recent headers and every block that had events (`number -> (hash, time)`)."""
    merged: dict[int, tuple[str, str | None, int, bool]] = {n: (h, None, t, True) for n, (h, t) in event_blocks.items()}
    for header in headers:
        merged[header.number] = (header.hash, header.parent_hash, header.timestamp, header.number in event_blocks)
    if not merged:
        return
    numbers = sorted(merged)
    conn.execute(
        text(
            "INSERT INTO blocks (chain_id, number, hash, parent_hash, timestamp, has_events)"
            " SELECT :c, n, h, p, to_timestamp(t), e FROM unnest(CAST(:n AS bigint[]), CAST(:h AS text[]),"
            " CAST(:p AS text[]), CAST(:t AS bigint[]), CAST(:e AS boolean[])) AS x(n, h, p, t, e)"
            " ON CONFLICT (chain_id, number) DO UPDATE SET hash = EXCLUDED.hash,"
            " parent_hash = COALESCE(EXCLUDED.parent_hash, blocks.parent_hash),"
            " has_events = blocks.has_events OR EXCLUDED.has_events"
        ),
        {
            "c": chain_id,
            "n": numbers,
            "h": [merged[n][0] for n in numbers],
            "p": [merged[n][1] for n in numbers],
            "t": [merged[n][2] for n in numbers],
            "e": [merged[n][3] for n in numbers],
        },
    )


def prune_blocks(conn: Connection, chain_id: int, first: int, below: int) -> None:
    """Forget event-less blocks in `[first, below)`: they left the reorg window."""
    if below > first:
        conn.execute(
            text("DELETE FROM blocks WHERE chain_id = :c AND number >= :a AND number < :b AND NOT has_events"),
            {"c": chain_id, "a": first, "b": below},
        )
