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

In a long backfill, steps 2 and most of 3 (everything but the database) run ahead in the backfill
worker process (`indexer.worker`); the writer checks the state each of its batches was derived
from against the database before it writes one, and reads the range itself when they differ.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace

from sqlalchemy import Engine

from indexer import db
from indexer.copy_text import event_lines
from indexer.derive import PoolSnapshot, holders_of
from indexer.errors import ChainMoved, IndexerHalted
from indexer.lock import IndexerLock
from indexer.prepare import PreparedBatch, prepare_batch
from indexer.progress import Progress
from indexer.reader import MAX_BATCH_EVENTS, Batch, Source, next_span, read_batch
from indexer.reorg import handle_mismatch
from indexer.rpc import RpcClient
from indexer.target import Target
from indexer.worker import DEPTH, BackfillWorker, WorkerParams

log = logging.getLogger("indexer.sync")


class _StaleBatch(Exception):
    """A worker's batch was derived from another state than the database's: not written."""


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
    same time only slows the writer down, as both need the interpreter lock). When at least
    `worker_min_blocks` blocks are behind, a backfill worker process reads and prepares up to
    `worker_depth` batches ahead instead (None: never).
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
        max_batch_events: int = MAX_BATCH_EVENTS,
        read_ahead: int = 2,
        lock: IndexerLock | None = None,
        worker_min_blocks: int | None = None,
        worker_depth: int = DEPTH,
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
        self.worker_min_blocks = worker_min_blocks
        self.worker_depth = worker_depth
        self._worker: BackfillWorker | None = None
        # Set to make `catch_up` return after the batch in progress (graceful shutdown).
        self.stopping = threading.Event()
        self.last_head: int | None = None  # the node's head as the last cycle read it
        self.last_cursor: int | None = None  # the cursor after the last cycle of `catch_up`

    def heartbeat(self) -> None:
        """Record the head the last cycle saw (an idle live indexer writes nothing else)."""
        if self.last_head is not None:
            with self.engine.begin() as conn:
                db.write_heartbeat(conn, self.target, self.last_head)

    def close(self) -> None:
        """Stop the reading thread and the worker (the indexer can still be used; it then starts
        them again)."""
        self._drop_pending()
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        if self._reader_rpc is not None:
            self._reader_rpc.close()
            self._reader_rpc = None

    def _drop_pending(self) -> None:
        self._stop_worker()
        with self._pending_lock:
            for _, _, future in self._pending:
                future.cancel()
            self._pending.clear()

    def start_reading(self, cursor: int) -> None:
        """Start reading the blocks after `cursor` in the background, before `prepare` (the first
        cycle uses what was read if the stored cursor turns out to be `cursor`): with a backfill
        worker if at least `worker_min_blocks` blocks are left, else with the reading thread (one
        read only: it queues the next ones, sized by what the first one found)."""
        tip = self.rpc.block_number() - self.confirmations
        if self.worker_min_blocks is not None and tip - cursor >= max(self.worker_min_blocks, 1):
            self.start_worker(cursor)
        else:
            self._read_ahead(cursor, tip, depth=1)

    def stop_reading(self) -> None:
        """Drop whatever was read ahead and stop the worker (a standby waits without them)."""
        self._drop_pending()

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
        head = self.last_head = self.rpc.block_number()
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
        batch: Batch | PreparedBatch | None = self._take_from_worker(first, tip)
        if batch is None:
            batch = self._take_pending(first, tip)
        if batch is None:
            batch = self._read(first, tip)
        read_s = time.monotonic() - started
        if state.cursor_hash is not None and batch.headers[0].parent_hash != state.cursor_hash:
            self._drop_pending()
            raise ChainMoved(f"block {first} does not link to the indexed block {cursor}")
        if self._worker is None:
            self._read_ahead(batch.last, tip)
        try:
            try:
                written = self._write(batch, cursor, head)
            except _StaleBatch as exc:
                log.warning("backfill worker batch not used, reading it again reason=%r", str(exc))
                self._stop_worker()
                batch = self._read(first, tip)
                written = self._write(batch, cursor, head)
        except BaseException:
            self._drop_pending()
            raise
        if isinstance(batch, PreparedBatch) and batch.last >= tip:
            # The worker read up to the head it saw when it started, which this one is not below.
            self._stop_worker(reason=f"caught up with block {tip}")
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

    def _read(self, first: int, tip: int) -> Batch:
        """Read the next batch here and now (no read-ahead or worker batch to use)."""
        batch = read_batch(self.rpc, self.source, first, min(tip, first - 1 + self.span), tip)
        self._adapt(batch)  # (the reading thread adapts the span after each read-ahead)
        return batch

    def _adapt(self, batch: Batch) -> None:
        self.span = next_span(self.span, batch, self.batch_size, self.max_batch_events)

    # ------------------------------------------------------------------ the backfill worker

    def worker_params(self, start: int | None) -> WorkerParams:
        """Parameters of a worker reading after `start` (None: after the stored cursor)."""
        return WorkerParams(
            rpc_url=self.rpc.url,
            database_url=db.url_string(self.engine),
            target=self.target,
            reorg_window=self.reorg_window,
            confirmations=self.confirmations,
            batch_size=self.batch_size,
            max_batch_events=self.max_batch_events,
            min_blocks=self.worker_min_blocks or 0,
            depth=self.worker_depth,
            start=start,
            log_range_limit=self.rpc.log_range_limit,
        )

    def adopt_worker(self, worker: BackfillWorker) -> None:
        """Use `worker` (started early, see `indexer.worker.start_early`) for the first cycles."""
        self._stop_worker()
        self._worker = worker

    def start_worker(self, start: int) -> None:
        """Start a backfill worker now (before `prepare`, at start-up: it reads while the lock is
        taken and the schema migrated); the cycles use its batches while they follow the cursor."""
        self._stop_worker()
        self._worker = BackfillWorker(self.worker_params(start))

    def _take_from_worker(self, first: int, tip: int) -> PreparedBatch | None:
        """The worker's next batch if it starts at `first` (else the worker is stopped: once it
        ends or strays from the cursor, the reading thread takes over)."""
        if self._worker is None:
            return None
        batch = self._worker.peek()
        if batch is None:
            self._stop_worker()
            return None
        if batch.first != first or batch.last > tip:
            log.info(
                "backfill worker read after another cursor, reading here first=%d worker_first=%d", first, batch.first
            )
            self._stop_worker()
            return None
        return self._worker.take()

    def _stop_worker(self, reason: str = "stopped") -> None:
        worker, self._worker = self._worker, None
        if worker is None:
            return
        worker.stop()
        ended = worker.ended
        if ended is not None and ended.failed:
            log.warning("backfill worker failed, reading here batches=%d reason=%r", worker.batches, ended.reason)
        elif worker.batches:
            log.info("backfill worker done batches=%d reason=%r", worker.batches, ended.reason if ended else reason)

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

    def _write(self, batch: Batch | PreparedBatch, cursor: int, head: int) -> int:
        """Write `batch` and move the cursor to its last block, in one transaction; the number of
        events written. A worker's batch is checked first (`_StaleBatch` if it does not hold)."""
        target = self.target
        chain_id = target.chain_id
        if self.lock is not None:
            self.lock.ensure_held()
        with self.engine.begin() as conn:
            state = db.load_state(conn, target, for_update=True)
            if state.cursor_block != cursor or state.halted_reason is not None:
                raise ChainMoved("the cursor moved under this cycle (another writer?)")
            stored = db.stored_event_keys(conn, chain_id, batch.first, batch.last) if batch.events else set()
            if isinstance(batch, PreparedBatch):
                prepared = batch
                if stored:
                    raise _StaleBatch(f"rows of blocks [{batch.first}, {batch.last}] are stored already")
                balances = db.current_balances(conn, chain_id, prepared.prior_balances)
                if any(balances.get(h, 0) != v for h, v in prepared.prior_balances.items()):
                    raise _StaleBatch("a holder's balance differs from the one the worker started from")
                if db.last_pool_state(conn, chain_id) != prepared.prior_state:
                    raise _StaleBatch("the pool state differs from the one the worker started from")
            else:
                if stored:
                    events = [e for e in batch.events if (e.block_number, e.log_index) not in stored]
                    batch = replace(batch, events=events, lines=event_lines(chain_id, events))
                balances, pool = {}, PoolSnapshot()
                if batch.events:
                    balances = db.current_balances(conn, chain_id, holders_of(batch.events))
                    pool = db.last_pool_state(conn, chain_id)
                prepared = prepare_batch(batch, chain_id, target.asset_decimals, balances, pool)
            # A replay (rows of this range already stored) goes through ON CONFLICT DO NOTHING.
            db.write_prepared(conn, chain_id, prepared, skip_existing=bool(stored))
            # Only the window's headers are kept (not a deep batch's first and last), so what is
            # stored does not depend on where batches start.
            recent = [h for h in prepared.headers if h.number >= prepared.window_start]
            db.write_blocks(conn, chain_id, recent, prepared.event_blocks)
            db.prune_blocks(conn, chain_id, prepared.first - self.reorg_window - 1, prepared.last - self.reorg_window)
            db.set_cursor(conn, target, prepared.last, prepared.headers[-1].hash)
            db.write_heartbeat(conn, target, head)
        return prepared.events

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
            self.last_cursor = result.to_block
            if progress is not None:
                progress.extend(result.head - self.confirmations)
                progress.update(result.to_block, result.events)
            if result.rolled_back_to is None and result.to_block >= result.head - self.confirmations:
                return total
        self._drop_pending()
        return total
