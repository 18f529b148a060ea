"""One indexing cycle: verify the stored hash chain, read the next batch of logs, write it with the
cursor in ONE transaction.

The cycle (ethereum-etl's streamer shape, with Ponder's reorg handling):
1. the node's block at the cursor must still have the stored hash; if not, roll back to the common
   ancestor in the kept window (or halt when the fork is deeper);
2. fetch logs for `[cursor + 1, min(head - confirmations, cursor + batch_size)]`;
3. fetch the recent headers of the batch (the last `reorg_window` blocks) and check that they link
   to each other, to the cursor, and to the logs' block hashes;
4. decode, derive balances / pool states / merchant totals, and write them, the recent blocks and
   the new cursor in one transaction.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import Engine

from indexer import db
from indexer.db import Target
from indexer.decode import Event, decode_logs
from indexer.derive import derive, holders_of
from indexer.errors import ChainMoved, IndexerHalted
from indexer.lock import IndexerLock
from indexer.progress import Progress
from indexer.reorg import handle_mismatch
from indexer.rpc import BlockHeader, RpcClient

log = logging.getLogger("indexer.sync")


@dataclass(frozen=True)
class CycleResult:
    """What one cycle did."""

    from_block: int
    to_block: int  # the cursor after the cycle
    events: int
    head: int
    rolled_back_to: int | None = None

    @property
    def idle(self) -> bool:
        return self.rolled_back_to is None and self.to_block < self.from_block


@dataclass
class _Batch:
    """A range read from the node: its recent headers (read first) and its decoded events."""

    first: int
    last: int
    headers: list[BlockHeader]
    events: list[Event]
    lines: list[str]  # the events' COPY lines, made by the reading thread


class Indexer:
    """Mirrors one `Target` from `rpc` into the database behind `engine`.

    The caller holds the target's `IndexerLock` (passed as `lock` to check it before each write).
    A batch spans at most `batch_size` blocks; the span adapts so that a batch holds about
    `max_batch_events` events (bounded memory on dense chains, few round trips on sparse ones).
    While a batch is written, the next one is read from the node on a second connection.
    """

    def __init__(
        self,
        engine: Engine,
        rpc: RpcClient,
        target: Target,
        *,
        confirmations: int = 0,
        batch_size: int = 5000,
        reorg_window: int = 128,
        max_batch_events: int = 20_000,
        prefetch: bool = True,
        lock: IndexerLock | None = None,
    ) -> None:
        self.engine = engine
        self.rpc = rpc
        self.target = target
        self.confirmations = confirmations
        self.batch_size = batch_size
        self.reorg_window = reorg_window
        self.max_batch_events = max_batch_events
        self.lock = lock
        self.addresses = [target.pool, target.token]
        self.span = min(batch_size, 16)  # grows (doubling) while batches stay small
        self._prefetch_enabled = prefetch
        self._executor: ThreadPoolExecutor | None = None
        self._prefetch_rpc: RpcClient | None = None
        self._pending: tuple[int, int, Future[_Batch]] | None = None
        # Set to make `catch_up` return after the batch in progress (graceful shutdown).
        self.stopping = threading.Event()

    def close(self) -> None:
        """Stop the read-ahead thread (the indexer can still be used; it then reads inline)."""
        self._pending = None
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        if self._prefetch_rpc is not None:
            self._prefetch_rpc.close()
            self._prefetch_rpc = None

    def prepare(self) -> None:
        """Create the cursor row if needed and refuse to start while halted."""
        with self.engine.begin() as conn:
            db.ensure_state(conn, self.target)
            state = db.load_state(conn, self.target)
        if state.halted_reason is not None:
            raise IndexerHalted(f"the indexer is halted: {state.halted_reason}")

    def cycle(self) -> CycleResult:
        """Index at most one batch (or roll back one reorg)."""
        target = self.target
        with self.engine.connect() as conn:
            state = db.load_state(conn, target)
        if state.halted_reason is not None:
            self._pending = None
            raise IndexerHalted(f"the indexer is halted: {state.halted_reason}")
        head = self.rpc.block_number()
        cursor = state.cursor_block
        if state.cursor_hash is not None:
            node = self.rpc.get_block(cursor)
            if node is None or node.hash != state.cursor_hash:
                self._pending = None
                if self.lock is not None:
                    self.lock.ensure_held()
                ancestor = self._roll_back()
                return CycleResult(cursor + 1, ancestor, 0, head, rolled_back_to=ancestor)
        tip = head - self.confirmations
        first = cursor + 1
        if tip < first:
            return CycleResult(first, cursor, 0, head)
        started = time.monotonic()
        batch = self._take_pending(first, tip)
        if batch is None:
            batch = self._read(self.rpc, first, min(tip, cursor + self.span))
        read_s = time.monotonic() - started
        if state.cursor_hash is not None and batch.headers[0].parent_hash != state.cursor_hash:
            self._pending = None
            raise ChainMoved(f"block {first} does not link to the indexed block {cursor}")
        self._adapt(batch)
        if batch.last < tip and self._prefetch_enabled:
            self._start_prefetch(batch.last + 1, min(tip, batch.last + self.span))
        try:
            written = self._write(batch, cursor)
        except BaseException:
            self._pending = None
            raise
        log.debug(
            "batch first=%d last=%d events=%d read_wait_s=%.3f write_s=%.3f next_span=%d",
            batch.first,
            batch.last,
            written,
            read_s,
            time.monotonic() - started - read_s,
            self.span,
        )
        return CycleResult(batch.first, batch.last, written, head)

    def _adapt(self, batch: _Batch) -> None:
        """Aim the next span at `max_batch_events` events."""
        count = len(batch.events)
        span = batch.last - batch.first + 1
        if count > self.max_batch_events:
            self.span = max(1, span * self.max_batch_events // count)
        elif count < self.max_batch_events // 2 and span >= self.span:
            self.span = min(self.batch_size, max(span * 2, 1))

    def _take_pending(self, first: int, tip: int) -> _Batch | None:
        pending, self._pending = self._pending, None
        if pending is None or pending[0] != first or pending[1] > tip:
            return None
        try:
            batch = pending[2].result()
        except ChainMoved:
            return None
        if self._prefetch_rpc is not None and self._prefetch_rpc.log_range_limit is not None:
            self.rpc.log_range_limit = self._prefetch_rpc.log_range_limit
        return batch

    def _start_prefetch(self, first: int, last: int) -> None:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="indexer-prefetch")
            self._prefetch_rpc = RpcClient(
                self.rpc.url,
                timeout=self.rpc.timeout,
                retries=self.rpc.retries,
                backoff=self.rpc.backoff,
                log_range_limit=self.rpc.log_range_limit,
            )
        rpc = self._prefetch_rpc
        assert rpc is not None
        rpc.log_range_limit = self.rpc.log_range_limit
        self._pending = (first, last, self._executor.submit(self._read, rpc, first, last))

    def _roll_back(self) -> int:
        """Roll back to the common ancestor; a halt is committed before `IndexerHalted` propagates."""
        halted: IndexerHalted | None = None
        with self.engine.begin() as conn:
            try:
                return handle_mismatch(conn, self.rpc, self.target, self.reorg_window)
            except IndexerHalted as exc:
                halted = exc  # leave the block normally so the halt is committed
        raise halted

    def _read(self, rpc: RpcClient, first: int, last: int) -> _Batch:
        """Read `[first, last]`: the recent headers FIRST, then the logs, then check they agree.

        Reading the headers first closes the race with a reorg between the two reads: a fork
        that changes a block of the window after the headers were read either shows up as a log
        whose block hash differs from the header (retried), or leaves the old fork's hash as the
        cursor hash, which the next cycle finds replaced and rolls back.
        """
        low = max(first, last - self.reorg_window)
        numbers = sorted({first, *range(low, last + 1)})
        fetched = rpc.get_blocks(numbers)
        if any(h is None for h in fetched):
            raise ChainMoved(f"the node lost blocks of [{first}, {last}] while they were read")
        by_number: dict[int, BlockHeader] = {h.number: h for h in fetched if h is not None}
        for n in range(low + 1, last + 1):
            if by_number[n].parent_hash != by_number[n - 1].hash:
                raise ChainMoved(f"blocks {n - 1} and {n} do not link")
        raw_logs = rpc.get_logs(self.addresses, first, last)
        events = decode_logs(raw_logs, self.target.pool, self.target.token)
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
        lines = db.event_lines(self.target.chain_id, events)
        return _Batch(first, last, [by_number[n] for n in numbers], events, lines)

    def _write(self, batch: _Batch, cursor: int) -> int:
        target = self.target
        first, last, events, lines, headers = batch.first, batch.last, batch.events, batch.lines, batch.headers
        if self.lock is not None:
            self.lock.ensure_held()
        with self.engine.begin() as conn:
            state = db.load_state(conn, target, for_update=True)
            if state.cursor_block != cursor or state.halted_reason is not None:
                raise ChainMoved("the cursor moved under this cycle (another writer?)")
            stored = db.stored_event_keys(conn, target.chain_id, first, last) if events else set()
            if stored:
                keep = [(e.block_number, e.log_index) not in stored for e in events]
                events = [e for e, k in zip(events, keep, strict=True) if k]
                lines = [x for x, k in zip(lines, keep, strict=True) if k]
            if events:
                prior_balances = db.current_balances(conn, target.chain_id, holders_of(events))
                rows = derive(events, prior_balances, db.last_pool_state(conn, target.chain_id), target.asset_decimals)
                # A replay (rows of this range already stored) goes through ON CONFLICT DO NOTHING.
                db.write_events(conn, target.chain_id, events, lines, skip_existing=bool(stored))
                db.write_rows(conn, target.chain_id, rows, skip_existing=bool(stored))
            event_blocks = {e.block_number: (e.block_hash, e.block_time) for e in events}
            recent = [h for h in headers if h.number > last - self.reorg_window - 1]
            db.write_blocks(conn, target.chain_id, recent, event_blocks)
            db.prune_blocks(conn, target.chain_id, first - self.reorg_window - 1, last - self.reorg_window)
            db.set_cursor(conn, target, last, headers[-1].hash)
        return len(events)

    def catch_up(self, progress: Progress | None = None, *, max_retries: int = 10) -> int:
        """Run cycles until the cursor reaches head − confirmations; the number of events written.

        A chain that moved during a batch (`ChainMoved`) is retried after a short pause.
        """
        total = 0
        retries = 0
        while not self.stopping.is_set():
            try:
                result = self.cycle()
            except ChainMoved as exc:
                self._pending = None
                retries += 1
                if retries > max_retries:
                    raise
                log.warning("chain moved during a batch, retrying reason=%r", str(exc))
                time.sleep(min(2.0, 0.1 * retries))
                continue
            retries = 0
            total += result.events
            if progress is not None:
                progress.extend(result.head - self.confirmations)
                progress.update(result.to_block, result.events)
            if result.rolled_back_to is None and result.to_block >= result.head - self.confirmations:
                return total
        self._pending = None
        return total
