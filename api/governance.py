"""Governance facts the mirror holds only for pools deployed after issue 8 (the hardened pool):
read when their tables exist, else reported as absent (null), never guessed."""

from __future__ import annotations

from datetime import UTC, date, datetime

from api.database import Connection, fetchone

# The table of `GlobalDailyCapSet(cap)` events (migration 0003) and its column.
GLOBAL_CAP_TABLE = "global_cap_updates"
GLOBAL_CAP_COLUMN = "cap"
_present: dict[str, bool] = {}


async def has_table(conn: Connection, name: str) -> bool:
    """Whether the table exists (remembered once it does: a migration may add it while we run)."""
    if not _present.get(name):
        row = await fetchone(conn, "SELECT to_regclass(%s) IS NOT NULL", (name,))
        _present[name] = bool(row and row[0])
    return _present[name]


async def global_daily_cap(conn: Connection, chain_id: int) -> int | None:
    """The last `GlobalDailyCapSet` cap, or None when never set (or no such table)."""
    if not await has_table(conn, GLOBAL_CAP_TABLE):
        return None
    row = await fetchone(
        conn,
        f"SELECT {GLOBAL_CAP_COLUMN} FROM {GLOBAL_CAP_TABLE} WHERE chain_id = %s"
        " ORDER BY block_number DESC, log_index DESC LIMIT 1",
        (chain_id,),
    )
    return None if row is None else int(row[0])


def utc_day(timestamp: int | None) -> date:
    """The UTC day of the indexed block (the contract's day is `block.timestamp / 1 days`)."""
    return datetime.fromtimestamp(timestamp or 0, UTC).date()
