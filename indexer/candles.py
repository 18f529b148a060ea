"""Price candles: OHLC of the pool's price per interval, kept with the pool states they summarise.

A candle covers one UTC-aligned bucket (`bucket = time − time mod interval`) and holds the prices
set by the changes in it: `open` is the first change's price, `close` the last's, in chain order
(block, log index), `high`/`low` the extremes, `changes` how many there were. Buckets without a
change have no row (the API fills them with the previous close).

`batch_candles` makes a batch's partial candles from its pool-state rows (pure, and free of
SQLAlchemy: it runs in the writer or in the backfill worker, like the rest of `prepare_batch`);
`indexer.candle_store.write` merges them into the stored ones in the batch's transaction.
Merging is exact in any batching, because a batch's rows all come after the stored ones: `open`
stays, `close` is taken, extremes combine, counts add.
A rollback (`indexer.candle_store.cut_buckets` and `rebuild`) deletes the candles that held dropped
rows and rebuilds, from the pool states left, the ones that also held rows below the ancestor (at
most one per interval, the bucket it falls in).
"""

from __future__ import annotations

from collections.abc import Sequence

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
