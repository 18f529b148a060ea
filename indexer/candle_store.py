"""Stored price candles: merging a batch's partial candles, and cutting and rebuilding them on a
rollback (see `indexer.candles` for what a candle holds)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.engine import Connection

from indexer.candles import Candle

_MERGE = (
    "INSERT INTO price_candles AS p (chain_id, interval_s, bucket, open, high, low, close, changes,"
    " first_block, first_log, last_block, last_log)"
    " SELECT :c, s, to_timestamp(b), o, h, l, cl, n, fb, fl, lb, ll FROM unnest(CAST(:s AS int[]),"
    " CAST(:b AS bigint[]), CAST(:o AS numeric[]), CAST(:h AS numeric[]), CAST(:l AS numeric[]),"
    " CAST(:cl AS numeric[]), CAST(:n AS bigint[]), CAST(:fb AS bigint[]), CAST(:fl AS int[]),"
    " CAST(:lb AS bigint[]), CAST(:ll AS int[])) AS x(s, b, o, h, l, cl, n, fb, fl, lb, ll)"
    " ON CONFLICT (chain_id, interval_s, bucket) DO UPDATE SET"
    # Order-independent, so a replay that adds rows anywhere still merges exactly.
    " open = CASE WHEN (EXCLUDED.first_block, EXCLUDED.first_log) < (p.first_block, p.first_log)"
    "  THEN EXCLUDED.open ELSE p.open END,"
    " first_block = LEAST(p.first_block, EXCLUDED.first_block),"
    " first_log = CASE WHEN (EXCLUDED.first_block, EXCLUDED.first_log) < (p.first_block, p.first_log)"
    "  THEN EXCLUDED.first_log ELSE p.first_log END,"
    " close = CASE WHEN (EXCLUDED.last_block, EXCLUDED.last_log) > (p.last_block, p.last_log)"
    "  THEN EXCLUDED.close ELSE p.close END,"
    " last_block = GREATEST(p.last_block, EXCLUDED.last_block),"
    " last_log = CASE WHEN (EXCLUDED.last_block, EXCLUDED.last_log) > (p.last_block, p.last_log)"
    "  THEN EXCLUDED.last_log ELSE p.last_log END,"
    " high = GREATEST(p.high, EXCLUDED.high), low = LEAST(p.low, EXCLUDED.low),"
    " changes = p.changes + EXCLUDED.changes"
)


def write(conn: Connection, chain_id: int, candles: Iterable[Candle]) -> None:
    """Merge a batch's partial candles into the stored ones (one statement)."""
    items = list(candles)
    if not items:
        return
    columns = list(zip(*items, strict=True))
    names = ("s", "b", "o", "h", "l", "cl", "n", "fb", "fl", "lb", "ll")
    params: dict[str, object] = {"c": chain_id}
    for name, values in zip(names, columns, strict=True):
        params[name] = [str(v) for v in values] if name in ("o", "h", "l", "cl") else list(values)
    conn.execute(text(_MERGE), params)


# The candle of one bucket recomputed from the pool states in it (all of them, in chain order).
_REBUILD = (
    "INSERT INTO price_candles (chain_id, interval_s, bucket, open, high, low, close, changes,"
    " first_block, first_log, last_block, last_log)"
    " SELECT chain_id, :s, :bucket,"
    "  (array_agg(price ORDER BY block_number, log_index))[1], max(price), min(price),"
    "  (array_agg(price ORDER BY block_number DESC, log_index DESC))[1], count(*),"
    "  (array_agg(block_number ORDER BY block_number, log_index))[1],"
    "  (array_agg(log_index ORDER BY block_number, log_index))[1],"
    "  (array_agg(block_number ORDER BY block_number DESC, log_index DESC))[1],"
    "  (array_agg(log_index ORDER BY block_number DESC, log_index DESC))[1]"
    " FROM pool_states WHERE chain_id = :c AND block_time >= :bucket"
    "  AND block_time < :bucket + make_interval(secs => :s)"
    " GROUP BY chain_id"
)


def cut_buckets(conn: Connection, chain_id: int, ancestor: int) -> list[tuple[int, object]]:
    """Delete the candles holding rows above `ancestor`; the (interval, bucket) of those that also
    held rows at or below it, to `rebuild` once the rows above are gone. Run before that delete."""
    rows = conn.execute(
        text(
            "DELETE FROM price_candles WHERE chain_id = :c AND last_block > :a"
            " RETURNING interval_s, bucket, first_block"
        ),
        {"c": chain_id, "a": ancestor},
    ).all()
    return [(int(r.interval_s), r.bucket) for r in rows if r.first_block <= ancestor]


def rebuild(conn: Connection, chain_id: int, buckets: Iterable[tuple[int, object]]) -> None:
    """Recompute the candles of `buckets` from the stored pool states."""
    for seconds, bucket in buckets:
        conn.execute(text(_REBUILD), {"c": chain_id, "s": seconds, "bucket": bucket})
