"""The backfill worker: a second process that reads, decodes and derives batches ahead of the writer.

Python runs one thread at a time per process, and in a backfill the reading side (parsing and
decoding logs, deriving rows, making COPY text) costs as much CPU as everything the writer does.
The worker does it in its own process, on another core, and hands the writer finished batches
(`PreparedBatch`: COPY text as bytes and a few small dicts, cheap to pass between processes).

It carries the balances and the pool state from batch to batch (a holder it has not seen yet is
read from the database, where nothing has changed it since the worker started). Each batch names
the state it started from, and the writer checks that against the database, in the transaction
that writes the batch, before it writes anything (`indexer.sync`). A batch from a stale or wrong
state is never stored: the writer reads that range itself and stops the worker.

The writer forks it as soon as it knows the node, the database and the deployment, before it
imports the rest and migrates the schema; the worker sends its batches, then one `WorkerEnd`,
pickled through a pipe, and exits when the writer stops it or dies.
"""

from __future__ import annotations

import logging
import os
import pickle
import queue
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

import psycopg

from greenpoints.errors import GreenPointsError
from indexer import stored
from indexer.collector import tune_garbage_collector
from indexer.derive import PoolSnapshot, holders_of
from indexer.errors import ChainMoved, IndexerError
from indexer.prepare import PreparedBatch, prepare_batch
from indexer.reader import MAX_BATCH_EVENTS, Batch, Source, next_span, read_batch
from indexer.rpc import RpcClient
from indexer.target import Target

if TYPE_CHECKING:
    from greenpoints.config import Settings

# The worker is forked: where the platform cannot fork, the writer reads by itself.
AVAILABLE = hasattr(os, "fork")
# A backfill of at least this many blocks is read and prepared by a worker (a smaller one by the
# writer's reading thread: a worker costs a process start).
MIN_BLOCKS = 256
# Finished batches a worker keeps ready for the writer, at most.
DEPTH = 3
# Carried balances above this many holders are dropped once the writer has stored every batch made
# so far (then the database holds them again): memory stays bounded on chains with many holders.
MAX_CARRIED_HOLDERS = 200_000


@dataclass(frozen=True)
class WorkerParams:
    """What the worker reads, from where, and how far ahead."""

    rpc_url: str
    database_url: str
    target: Target
    reorg_window: int
    confirmations: int
    batch_size: int
    max_batch_events: int
    min_blocks: int  # the worker ends at once unless at least this many blocks are left to index
    depth: int  # finished batches waiting for the writer, at most
    start: int | None = None  # the cursor to read after; None: the stored one
    log_range_limit: int | None = None


@dataclass(frozen=True)
class WorkerEnd:
    """The worker's last message: why it stopped (`failed` when the writer should know)."""

    reason: str
    failed: bool = False


# ---------------------------------------------------------------------- the writer's side


def start_early(settings: Settings) -> BackfillWorker | None:
    """A worker reading after the stored cursor, started before the writer imports its database
    modules and migrates (the worker ends at once if fewer than `MIN_BLOCKS` blocks are left).
    None when `GREENPOINTS_BACKFILL_WORKER` is off, or when the node, the database or the
    deployment is not at hand yet: then the writer starts one itself once it knows them, if
    there is a backfill."""
    from greenpoints.deployment import default_path, load_deployment

    if not (AVAILABLE and settings.backfill_worker) or settings.rpc_url is None or settings.database_url is None:
        return None
    try:
        client = RpcClient(settings.rpc_url, timeout=2.0, retries=0)  # a slow node: no early worker
        try:
            chain_id = client.chain_id()
        finally:
            client.close()
        deployment = load_deployment(settings.deployment or default_path(chain_id), chain_id)
    except (GreenPointsError, OSError):
        return None  # the writer reports it, in its own words
    return BackfillWorker(
        WorkerParams(
            rpc_url=settings.rpc_url,
            database_url=settings.database_url,
            target=Target.from_deployment(deployment),
            reorg_window=settings.reorg_window,
            confirmations=settings.confirmations,
            batch_size=settings.batch_size,
            max_batch_events=MAX_BATCH_EVENTS,
            min_blocks=MIN_BLOCKS,
            depth=DEPTH,
            log_range_limit=settings.log_range_limit,
        )
    )


class BackfillWorker:
    """A running worker process, as the writer sees it: `peek`/`take` its batches in order, `stop` it.

    The worker is forked (it shares the modules this process imported; nothing is pickled to
    start it) and talks back through a pipe; a second pipe, which only this process holds open
    for writing, ends it when closed: by `stop`, or by the kernel when this process dies.
    """

    def __init__(self, params: WorkerParams) -> None:
        self.params = params
        self.ended: WorkerEnd | None = None
        self.batches = 0  # handed over so far
        self._next: PreparedBatch | None = None
        frames_read, frames_write = os.pipe()
        alive_read, alive_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker
            try:
                os.close(frames_read)
                os.close(alive_write)
                _worker_main(params, frames_write, alive_read)
            finally:
                os._exit(0)
        os.close(frames_write)
        os.close(alive_read)
        self._pid: int | None = pid
        self._frames: IO[bytes] | None = os.fdopen(frames_read, "rb")
        self._alive: int | None = alive_write

    def peek(self) -> PreparedBatch | None:
        """The next batch (waiting for it), or None once the worker has ended."""
        if self._next is None and self._frames is not None:
            try:
                message = pickle.load(self._frames)
            except (EOFError, OSError, pickle.UnpicklingError) as exc:
                message = WorkerEnd(f"the worker process exited ({exc.__class__.__name__})", failed=True)
            if isinstance(message, PreparedBatch):
                self._next = message
            else:
                self.ended = message if isinstance(message, WorkerEnd) else WorkerEnd("unexpected message", True)
                self.stop()
        return self._next

    def take(self) -> PreparedBatch:
        """Hand over the batch `peek` returned."""
        batch = self._next
        assert batch is not None
        self._next = None
        self.batches += 1
        return batch

    def stop(self) -> None:
        """End the worker (it only reads, so stopping it at any moment is safe)."""
        self._next = None
        if self._alive is not None:
            os.close(self._alive)
            self._alive = None
        if self._frames is not None:
            self._frames.close()
            self._frames = None
        pid, self._pid = self._pid, None
        if pid is not None:
            os.waitpid(pid, 0)


# ---------------------------------------------------------------------- the worker process


def produce(params: WorkerParams, put: Callable[[PreparedBatch], None]) -> WorkerEnd:
    """Read, decode and derive batches from the cursor up to the tip seen at the start; `put` each.

    Two reading threads (each with its own connection to the node) read consecutive batches, so
    the node answers one while this process decodes the other; this thread derives them in order.
    """
    target = params.target
    database = psycopg.connect(conninfo(params.database_url), autocommit=True)
    clients: list[RpcClient] = []
    local = threading.local()

    def read(first: int, last: int, tip: int) -> Batch:
        client = getattr(local, "rpc", None)
        if client is None:
            client = local.rpc = RpcClient(params.rpc_url, log_range_limit=params.log_range_limit)
            clients.append(client)
        return read_batch(client, source, first, last, tip)

    source = Source(target.chain_id, target.pool, target.token, params.reorg_window)
    try:
        cursor = params.start if params.start is not None else stored.cursor_hint(database.cursor(), target)
        tip = _read_tip(params)
        if tip - cursor < params.min_blocks:
            return WorkerEnd("nothing worth a worker left to index")
        balances: dict[str, int] = {}
        state: PoolSnapshot | None = None
        span = min(params.batch_size, 16)
        queued = cursor_at_start = cursor  # the last block of the reads started so far
        reads: deque[Future[Batch]] = deque()
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="worker-read") as pool:
            while cursor < tip:
                # One read at first: the next ones are sized by what it finds.
                while len(reads) < (2 if cursor > cursor_at_start else 1) and queued < tip:
                    first, queued = queued + 1, min(tip, queued + span)
                    reads.append(pool.submit(read, first, queued, tip))
                try:
                    batch = reads.popleft().result()
                except ChainMoved as exc:
                    return WorkerEnd(f"the chain moved: {exc}")
                span = next_span(span, batch, params.batch_size, params.max_batch_events)
                unseen = holders_of(batch.events) - balances.keys()
                if unseen or state is None:
                    with database.cursor() as cur:
                        # No schema yet (the writer is migrating a new database): nothing stored.
                        schema = stored.has_schema(cur)
                        found = stored.current_balances(cur, target.chain_id, unseen) if schema else {}
                        balances.update({holder: found.get(holder, 0) for holder in unseen})
                        if state is None:
                            state = stored.last_pool_state(cur, target.chain_id) if schema else PoolSnapshot()
                prepared = prepare_batch(batch, target.chain_id, target.asset_decimals, balances, state)
                balances.update(prepared.balances)
                state = prepared.last_state
                put(prepared)
                cursor = batch.last
                if len(balances) > MAX_CARRIED_HOLDERS:
                    _wait_until_stored(database, target, cursor)
                    balances.clear()
        return WorkerEnd(f"read up to block {tip}")
    except IndexerError as exc:
        return WorkerEnd(f"{exc.__class__.__name__}: {exc}", failed=True)
    finally:
        database.close()
        for client in clients:
            client.close()


def _read_tip(params: WorkerParams) -> int:
    """The block the worker reads up to: the node's head less the confirmations."""
    client = RpcClient(params.rpc_url)
    try:
        return client.block_number() - params.confirmations
    finally:
        client.close()


def _wait_until_stored(database: psycopg.Connection[tuple[Any, ...]], target: Target, cursor: int) -> None:
    """Wait until the writer's cursor reaches `cursor` (every batch made so far is stored)."""
    while stored.cursor_hint(database.cursor(), target) < cursor:
        time.sleep(0.05)


def conninfo(database_url: str) -> str:
    """The libpq connection URI of a `postgresql[+psycopg]://` SQLAlchemy URL."""
    return re.sub(r"^postgresql\+psycopg://", "postgresql://", database_url)


def _send_all(frames: queue.Queue[tuple[bytes, bool]], fd: int) -> None:
    """Write the pickled frames to the writer in order; exit the process after the last one (or
    when the writer is gone). One `os.write` per frame: a blocking pipe write returns only when
    all of it is written, so the transfer does not wait on this process's interpreter lock."""
    while True:
        frame, last = frames.get()
        view = memoryview(frame)
        try:
            while view:
                view = view[os.write(fd, view) :]
        except OSError:
            os._exit(0)
        if last:
            os._exit(0)


def _exit_when_closed(fd: int) -> None:
    """Block until the writer closes its end of `fd` (it stopped us, or it died), then exit at once."""
    try:
        while os.read(fd, 1 << 16):
            pass
    finally:
        os._exit(0)


def _worker_main(params: WorkerParams, frames_fd: int, alive_fd: int) -> None:
    """The forked worker: produce batches and send them pickled through `frames_fd`."""
    if not logging.getLogger().handlers:  # forked before the writer set up logging
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s [worker] %(message)s")
    threading.Thread(target=_exit_when_closed, args=(alive_fd,), daemon=True).start()
    frames: queue.Queue[tuple[bytes, bool]] = queue.Queue(maxsize=max(1, params.depth))
    sender = threading.Thread(target=_send_all, args=(frames, frames_fd), daemon=True)
    sender.start()
    tune_garbage_collector()

    def put(message: PreparedBatch | WorkerEnd) -> None:
        frames.put((pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL), isinstance(message, WorkerEnd)))

    try:
        end = produce(params, put)
    except Exception as exc:  # anything else: the writer reads the rest itself
        end = WorkerEnd(f"{exc.__class__.__name__}: {str(exc)[:300]}", failed=True)
    put(end)
    sender.join()
