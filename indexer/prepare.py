"""A read batch made ready to write: its derived rows and every table's COPY text (no database).

`prepare_batch` runs in the writer, with the balances and pool state read in its transaction, or
in the backfill worker process (`indexer.worker`), with the ones it carries from batch to batch;
the writer then checks those against the database before it writes (`indexer.sync`). Either way
the rows are the same function of the same events and the same starting state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from indexer.candles import Candle, batch_candles
from indexer.copy_text import pool_state_lines, transfer_lines
from indexer.derive import PoolSnapshot, derive, holders_of
from indexer.reader import Batch
from indexer.rpc import BlockHeader


@dataclass
class PreparedBatch:
    """Everything the writer stores for blocks `[first, last]`, and what it was derived from."""

    first: int
    last: int
    headers: list[BlockHeader]  # as read (see `Batch`)
    window_start: int
    log_range_limit: int | None
    events: int
    event_blocks: dict[int, tuple[str, int]]  # block number -> (hash, time), blocks with events
    # The starting state the rows were derived from: every holder the batch touches with their
    # balance before it, and the pool state before it.
    prior_balances: dict[str, int]
    prior_state: PoolSnapshot
    copy: dict[str, bytes]  # table -> COPY text lines (see `indexer.copy_text.copy_columns`)
    balances: dict[str, int]  # holder -> balance after the batch
    merchants: dict[str, tuple[int, int, bool, int]]
    merchant_daily: dict[tuple[str, date], list[int]]
    candles: list[Candle]  # the partial price candles of the batch's pool states
    last_state: PoolSnapshot  # the pool state after the batch


def prepare_batch(
    batch: Batch, chain_id: int, asset_decimals: int, balances: dict[str, int], state: PoolSnapshot
) -> PreparedBatch:
    """Derive the rows of `batch` from `balances` (holder -> balance before it; absent means 0)
    and `state`, and make the COPY text of every table it writes."""
    events = batch.events
    priors = {holder: balances.get(holder, 0) for holder in holders_of(events)}
    rows = derive(events, priors, state, asset_decimals)
    copy = {table: "".join(lines).encode() for table, lines in batch.lines.items()}
    if rows.transfer_balances:
        copy["transfers"] = "".join(transfer_lines(chain_id, events, rows.transfer_balances)).encode()
    if rows.pool_states:
        copy["pool_states"] = "".join(pool_state_lines(chain_id, rows.pool_states)).encode()
    return PreparedBatch(
        first=batch.first,
        last=batch.last,
        headers=batch.headers,
        window_start=batch.window_start,
        log_range_limit=batch.log_range_limit,
        events=len(events),
        event_blocks={e.block_number: (e.block_hash, e.block_time) for e in events},
        prior_balances=priors,
        prior_state=state,
        copy=copy,
        balances=rows.balances,
        merchants=rows.merchants,
        merchant_daily=rows.merchant_daily,
        candles=batch_candles(rows.pool_states),
        last_state=rows.last_state,
    )
