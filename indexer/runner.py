"""Scheduling: `index --once` catches up and returns; `index` polls every `poll_interval` seconds
with an APScheduler interval job (one instance at a time, missed runs coalesced)."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime
from types import FrameType
from typing import TYPE_CHECKING

import psycopg
from sqlalchemy.exc import OperationalError

from indexer.errors import ChainMoved, IndexerHalted, LockLost, RpcError
from indexer.progress import Progress
from indexer.sync import Indexer

if TYPE_CHECKING:
    from indexer.audit_runs import LiveAuditor

log = logging.getLogger("indexer.runner")

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_HALTED = 3


def run_once(indexer: Indexer, progress: Progress | None = None) -> int:
    """Catch up to head − confirmations; the number of events written (raises `IndexerHalted`)."""
    indexer.prepare()
    return indexer.catch_up(progress)


def run_live(indexer: Indexer, poll_interval: float, auditor: LiveAuditor | None = None) -> int:
    """Poll until stopped (SIGINT/SIGTERM) or halted; the process exit code (0, 1 or 3).

    Transient faults (node or database unreachable, chain moving under a batch) are logged and
    retried at the next tick; a deep reorg stops the loop with code 3, a lost lock with code 1.
    Each tick records the head it saw (`indexer_heartbeat`) and starts the `auditor` when an
    audit is due.
    """
    from apscheduler.schedulers.blocking import BlockingScheduler

    indexer.prepare()
    scheduler = BlockingScheduler(timezone=UTC)
    outcome = {"code": EXIT_OK}

    busy = threading.Lock()  # held while a tick runs, so shutdown can wait for its batch

    def stop(code: int) -> None:
        outcome["code"] = code
        indexer.stopping.set()  # the tick in progress returns after its current batch
        if scheduler.running:
            scheduler.shutdown(wait=False)

    def tick() -> None:
        with busy:
            _tick()

    def _tick() -> None:
        if indexer.stopping.is_set():
            return
        try:
            written = indexer.catch_up()
            if written:
                log.info("indexed events=%d", written)
            indexer.heartbeat()
            if auditor is not None and indexer.last_cursor is not None:
                auditor.maybe_start(indexer.last_cursor)
        except IndexerHalted as exc:
            log.error("halted: %s", exc)
            stop(EXIT_HALTED)
        except LockLost as exc:
            log.error("stopping: %s", exc)
            stop(EXIT_ERROR)
        except (RpcError, ChainMoved, OperationalError, psycopg.OperationalError) as exc:
            log.warning("cycle failed, retrying next tick error=%r", str(exc).splitlines()[0][:200])
        except Exception:
            log.exception("cycle failed with an unexpected error; stopping")
            stop(EXIT_ERROR)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d received; stopping", signum)
        stop(outcome["code"])

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    scheduler.add_job(
        tick,
        "interval",
        seconds=poll_interval,
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(UTC),
        id="index",
        misfire_grace_time=None,
    )
    log.info(
        "live indexing poll_interval=%.2fs chain_id=%d pool=%s",
        poll_interval,
        indexer.target.chain_id,
        indexer.target.pool,
    )
    try:
        scheduler.start()
        with busy:  # a batch in progress commits (or rolls back) before the lock is released
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return outcome["code"]
