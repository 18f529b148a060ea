"""Price candles: OHLC of the pool's price per interval, kept with the pool states they summarise.

A candle covers one UTC-aligned bucket (`bucket = time − time mod interval`) and holds the prices
set by the changes in it: `open` is the first change's price, `close` the last's, in chain order
(block, log index), `high`/`low` the extremes, `changes` how many there were. Buckets without a
change have no row (the API fills them with the previous close).

`batch_candles` makes a batch's partial candles from its pool-state rows (pure: it runs in the
writer or in the backfill worker, like the rest of `prepare_batch`); `write` merges them into the
stored ones in the batch's transaction. Merging is exact in any batching, because a batch's rows
all come after the stored ones: `open` stays, `close` is taken, extremes combine, counts add.
`rollback` deletes the candles that held dropped rows and rebuilds, from the pool states left,
the ones that also held rows below the ancestor (at most one per interval, the bucket it falls in).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import text
from sqlalchemy.engine import Connection

# Interval name -> seconds. Each divides the next, so the buckets nest.
INTERVALS: dict[str, int] = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "4h": 14400, "1d": 86400}

# (interval_s, bucket_unix, open, high, low, close, changes, first_block, first_log, last_block, last_log)
Candle = tuple[int, int, int, int, int, int, int, int, int, int, int]
# A pool-state row as `indexer.derive.BatchRows.pool_states` holds it:
# (block_number, log_index, block_time, reserve, supply, tax_accrued, price, kind)
StateRow = tuple[int, int, int, int, int, int, int, str]


def batch_candles(rows: Sequence[StateRow]) -> list[Candle]:
    """The partial candles of `rows` (pool-state rows in chain order), every interval."""
    if not rows:
        return []
    # One pass at the finest interval, then each coarser one from the finer candles (they nest).
    finest = min(INTERVALS.values())
    minute: dict[int, list[int]] = {}
    for block, index, stamp, _, _, _, price, _ in rows:
        bucket = stamp - stamp % finest
        c = minute.get(bucket)
        if c is None:
            minute[bucket] = [price, price, price, price, 1, block, index, block, index]
        else:
            if price > c[1]:
                c[1] = price
            if price < c[2]:
                c[2] = price
            c[3] = price
            c[4] += 1
            c[7] = block
            c[8] = index
    out: list[Candle] = []
    for seconds in sorted(INTERVALS.values()):
        level: dict[int, list[int]] = {}
        for bucket, c in minute.items():
            key = bucket - bucket % seconds
            m = level.get(key)
            if m is None:
                level[key] = list(c)
                continue
            # By chain position, not by time: exact even if block times ever went backwards.
            if (c[5], c[6]) < (m[5], m[6]):
                m[0], m[5], m[6] = c[0], c[5], c[6]
            if (c[7], c[8]) > (m[7], m[8]):
                m[3], m[7], m[8] = c[3], c[7], c[8]
            m[1] = max(m[1], c[1])
            m[2] = min(m[2], c[2])
            m[4] += c[4]
        out.extend((seconds, key, *c) for key, c in level.items())  # type: ignore[misc]
    return out


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
