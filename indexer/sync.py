"""One indexing cycle: verify the stored hash chain, read the next batch of logs, write it with the
cursor in ONE transaction.

The cycle (ethereum-etl's streamer shape, with Ponder's reorg handling):
1. the node's block at the cursor must still have the stored hash; if not, roll back to the common
   ancestor in the kept window (or halt when the fork is deeper);
2. read `[cursor + 1, min(head - confirmations, cursor + span)]` (`indexer.reader`): the headers
   within `reorg_window` of the head (and the batch's first and last) first, then the logs; the
   headers must link to each other, to the cursor, and to the logs' block hashes. Usually this
   batch was read ahead by the reading thread while the previous one was written;
3. derive balances / pool states / merchant totals, and write them, the events, the recent blocks
   and the new cursor in one transaction.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import Engine

from indexer import db
from indexer.copy_text import event_lines
from indexer.db import Target
from indexer.derive import derive, holders_of
from indexer.errors import ChainMoved, IndexerHalted
from indexer.lock import IndexerLock
from indexer.progress import Progress
from indexer.reader import Batch, Source, read_batch
from indexer.reorg import handle_mismatch
from indexer.rpc import RpcClient

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


class Indexer:
    """Mirrors one `Target` from `rpc` into the database behind `engine`.

    The caller holds the target's `IndexerLock` (passed as `lock` to check it before each write).
    A batch spans at most `batch_size` blocks; the span adapts so that a batch holds about
    `max_batch_events` events (bounded memory on dense chains, few round trips on sparse ones).
    While a batch is written, the next `read_ahead` batches are read from the node, one after the
    other, by a reading thread with its own connection (one thread: a second one decoding at the
    same time only slows the writer down, as both need the interpreter lock).
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
        read_ahead: int = 2,
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
        self.span = min(batch_size, 16)  # adapts to the chain's density (see `_adapt`)
        self.read_ahead = read_ahead
        self.source = Source(target.chain_id, target.pool, target.token, reorg_window)
        self._executor: ThreadPoolExecutor | None = None
        self._reader_rpc: RpcClient | None = None  # the reading thread's own connection
        self._pending: deque[tuple[int, int, Future[Batch]]] = deque()
        self._pending_lock = threading.RLock()  # the main thread and the reading thread both queue reads
        self._tip = -1  # the highest block the queued reads may reach
        # Set to make `catch_up` return after the batch in progress (graceful shutdown).
        self.stopping = threading.Event()

    def close(self) -> None:
        """Stop the reading thread (the indexer can still be used; it then starts it again)."""
        self._drop_pending()
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        if self._reader_rpc is not None:
            self._reader_rpc.close()
            self._reader_rpc = None

    def _drop_pending(self) -> None:
        with self._pending_lock:
            for _, _, future in self._pending:
                future.cancel()
            self._pending.clear()

    def start_reading(self, cursor: int) -> None:
        """Start reading the blocks after `cursor` in the background, before `prepare` (the first
        cycle uses what was read if the stored cursor turns out to be `cursor`). One read only:
        the reading thread queues the next ones, sized by what the first one found."""
        self._read_ahead(cursor, self.rpc.block_number() - self.confirmations, depth=1)

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
            self._drop_pending()
            raise IndexerHalted(f"the indexer is halted: {state.halted_reason}")
        head = self.rpc.block_number()
        cursor = state.cursor_block
        if state.cursor_hash is not None:
            node = self.rpc.get_block(cursor)
            if node is None or node.hash != state.cursor_hash:
                self._drop_pending()
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
            batch = read_batch(self.rpc, self.source, first, min(tip, cursor + self.span), tip)
            self._adapt(batch)  # (the reading thread adapts the span after each read-ahead)
        read_s = time.monotonic() - started
        if state.cursor_hash is not None and batch.headers[0].parent_hash != state.cursor_hash:
            self._drop_pending()
            raise ChainMoved(f"block {first} does not link to the indexed block {cursor}")
        self._read_ahead(batch.last, tip)
        try:
            written = self._write(batch, cursor)
        except BaseException:
            self._drop_pending()
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

    def _adapt(self, batch: Batch) -> None:
        """Aim the next span at `max_batch_events` events, from this batch's density; a span grows
        at most eightfold per batch (a sparse start says little about what follows)."""
        count = len(batch.events)
        span = batch.last - batch.first + 1
        if count > self.max_batch_events:
            self.span = max(1, span * self.max_batch_events // count)
        elif count < self.max_batch_events // 2 and span >= self.span:
            self.span = min(self.batch_size, span * 8, max(span, span * self.max_batch_events // max(count, 1)))

    def _take_pending(self, first: int, tip: int) -> Batch | None:
        """The read-ahead batch starting at `first`, if there is one (else drop the read-ahead)."""
        with self._pending_lock:
            if not self._pending or self._pending[0][0] != first or self._pending[0][1] > tip:
                self._drop_pending()
                return None
            _, _, future = self._pending.popleft()
        try:
            batch = future.result()
        except ChainMoved:
            self._drop_pending()
            return None
        except BaseException:
            self._drop_pending()
            raise
        if batch.log_range_limit is not None:
            self.rpc.log_range_limit = batch.log_range_limit
        return batch

    def _read_ahead(self, last: int, tip: int, depth: int | None = None) -> None:
        """Keep `read_ahead` (or `depth`) reads of the blocks after `last` (up to `tip`) queued or running."""
        with self._pending_lock:
            self._tip = tip
            self._queue_reads(last, depth)

    def _queue_reads(self, last: int | None, depth: int | None = None) -> None:
        """Queue reads after the last queued one (or after `last` when none is), up to `_tip`.

        One reading thread runs them in order, so the node answers one while the writer writes.
        """
        with self._pending_lock:
            if self._pending:
                last = self._pending[-1][1]
            if last is None or self.read_ahead < 1:
                return
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="indexer-read")
            while len(self._pending) < (self.read_ahead if depth is None else depth) and last < self._tip:
                first, last = last + 1, min(self._tip, last + self.span)
                future = self._executor.submit(self._read_in_thread, first, last, self._tip, self.rpc.log_range_limit)
                self._pending.append((first, last, future))

    def _read_in_thread(self, first: int, last: int, tip: int, log_range_limit: int | None) -> Batch:
        client = self._reader_rpc
        if client is None:  # only the one reading thread gets here
            client = self._reader_rpc = RpcClient(
                self.rpc.url, timeout=self.rpc.timeout, retries=self.rpc.retries, backoff=self.rpc.backoff
            )
        client.log_range_limit = log_range_limit
        batch = read_batch(client, self.source, first, last, tip)
        # Size the following reads by what this one found, and keep the queue full without
        # waiting for the writer (at start-up it is still taking the lock and migrating).
        with self._pending_lock:
            self._adapt(batch)
            self._queue_reads(None)
        return batch

    def _roll_back(self) -> int:
        """Roll back to the common ancestor; a halt is committed before `IndexerHalted` propagates."""
        halted: IndexerHalted | None = None
        with self.engine.begin() as conn:
            try:
                return handle_mismatch(conn, self.rpc, self.target, self.reorg_window)
            except IndexerHalted as exc:
                halted = exc  # leave the block normally so the halt is committed
        raise halted

    def _write(self, batch: Batch, cursor: int) -> int:
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
                events = [e for e in events if (e.block_number, e.log_index) not in stored]
                lines = event_lines(target.chain_id, events)
            if events:
                prior_balances = db.current_balances(conn, target.chain_id, holders_of(events))
                rows = derive(events, prior_balances, db.last_pool_state(conn, target.chain_id), target.asset_decimals)
                # A replay (rows of this range already stored) goes through ON CONFLICT DO NOTHING.
                db.write_events(conn, target.chain_id, events, rows, lines, skip_existing=bool(stored))
                db.write_rows(conn, target.chain_id, rows, skip_existing=bool(stored))
            event_blocks = {e.block_number: (e.block_hash, e.block_time) for e in events}
            # Only the window's headers are kept (not a deep batch's first and last), so what is
            # stored does not depend on where batches start.
            recent = [h for h in headers if h.number >= batch.window_start]
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
                self._drop_pending()
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
        self._drop_pending()
        return total
