"""Reading one batch of blocks from the node: headers, logs, decoded events and their COPY lines.

Used by the sync cycle inline and by its reading thread (the read-ahead); needs no database.
"""

from __future__ import annotations

from dataclasses import dataclass

from indexer.copy_text import event_lines
from indexer.decode import Event, decode_logs
from indexer.errors import ChainMoved
from indexer.rpc import BlockHeader, RpcClient

# Events per batch the batch spans aim at (bounded memory on dense chains, few requests on sparse ones).
MAX_BATCH_EVENTS = 20_000


@dataclass(frozen=True)
class Source:
    """What to read: the pool's and token's logs on one chain, and the reorg window kept."""

    chain_id: int
    pool: str
    token: str
    reorg_window: int


@dataclass
class Batch:
    """A range read from the node: its headers (read first) and its decoded events."""

    first: int
    last: int
    headers: list[BlockHeader]
    events: list[Event]
    lines: dict[str, list[str]]  # the events' COPY lines per table (Transfers apart, see copy_text)
    window_start: int  # headers from here on are within the reorg window of the head: all read
    log_range_limit: int | None  # what the reading client learned about eth_getLogs ranges


def read_batch(rpc: RpcClient, source: Source, first: int, last: int, tip: int) -> Batch:
    """Read `[first, last]`: the headers FIRST, then the logs, then check they agree.

    Headers are read for the batch's first and last blocks and for those within the reorg window
    of `tip` (the rest of a deep backfill cannot be reorganised away within the window, and each
    log names its block's hash anyway). Reading the headers first closes the race with a reorg
    between the two reads: a fork that changes a block of the window after the headers were read
    either shows up as a log whose block hash differs from the header (retried), or leaves the
    old fork's hash as the cursor hash, which the next cycle finds replaced and rolls back.
    """
    low = max(first, tip - source.reorg_window)
    numbers = sorted({first, last, *range(low, last + 1)})
    fetched = rpc.get_blocks(numbers)
    if any(h is None for h in fetched):
        raise ChainMoved(f"the node lost blocks of [{first}, {last}] while they were read")
    by_number: dict[int, BlockHeader] = {h.number: h for h in fetched if h is not None}
    for n in range(low + 1, last + 1):
        if by_number[n].parent_hash != by_number[n - 1].hash:
            raise ChainMoved(f"blocks {n - 1} and {n} do not link")
    raw_logs = rpc.get_logs([source.pool, source.token], first, last)
    events = decode_logs(raw_logs, source.pool, source.token)
    del raw_logs
    missing_time = sorted({e.block_number for e in events if e.block_time < 0} - by_number.keys())
    extra = {h.number: h for h in rpc.get_blocks(missing_time) if h is not None} if missing_time else {}
    for e in events:
        header = by_number.get(e.block_number) or extra.get(e.block_number)
        if header is not None:
            if header.hash != e.block_hash:
                raise ChainMoved(f"block {e.block_number} changed while its logs were read")
            if e.block_time < 0:
                e.block_time = header.timestamp
        elif e.block_time < 0:
            raise ChainMoved(f"no header for block {e.block_number}")
    lines = event_lines(source.chain_id, events)
    headers = [by_number[n] for n in numbers]
    return Batch(first, last, headers, events, lines, low, rpc.log_range_limit)


def next_span(span: int, batch: Batch, batch_size: int, max_batch_events: int) -> int:
    """The span of the read after `batch` (whose span was `span`): aimed at `max_batch_events`
    events from its density, growing at most eightfold per batch (a sparse start says little
    about what follows), and never over `batch_size` blocks."""
    count = len(batch.events)
    read = batch.last - batch.first + 1
    if count > max_batch_events:
        return max(1, read * max_batch_events // count)
    if count < max_batch_events // 2 and read >= span:
        return min(batch_size, read * 8, max(read, read * max_batch_events // max(count, 1)))
    return span
