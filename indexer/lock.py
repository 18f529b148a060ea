"""One writer per (chain, pool): a PostgreSQL session advisory lock on a dedicated connection.

A second indexer waits as a hot standby, trying `pg_try_advisory_lock` every `poll` seconds; when
the holder dies its session ends, the lock is released, and the standby takes over.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from types import TracebackType

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from indexer.errors import LockLost

log = logging.getLogger("indexer.lock")


def lock_key(chain_id: int, pool: str) -> int:
    """A signed 64-bit advisory-lock key for `(chain_id, pool)`."""
    digest = hashlib.sha256(f"greenpoints-indexer:{chain_id}:{pool.lower()}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class IndexerLock:
    """The advisory lock of one (chain, pool); `acquire()` waits, `release()` or exit frees it."""

    def __init__(self, engine: Engine, chain_id: int, pool: str, *, poll: float = 0.5) -> None:
        self.engine = engine
        self.key = lock_key(chain_id, pool)
        self.poll = poll
        self.chain_id = chain_id
        self.pool = pool
        self._conn: Connection | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None

    def try_acquire(self) -> bool:
        """Take the lock if it is free right now."""
        if self._conn is None:
            self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        got = bool(self._conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar())
        if not got:
            self._conn.close()
            self._conn = None
        return got

    def acquire(self, timeout: float | None = None, on_wait: Callable[[], None] | None = None) -> bool:
        """Wait for the lock (polling); False if `timeout` seconds passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        waited = False
        while not self.try_acquire():
            if not waited:
                waited = True
                log.info(
                    "standby: another indexer holds the lock chain_id=%d pool=%s; waiting", self.chain_id, self.pool
                )
                if on_wait is not None:
                    on_wait()
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(self.poll)
        if waited:
            log.info("lock acquired, taking over chain_id=%d pool=%s", self.chain_id, self.pool)
        return True

    def ensure_held(self) -> None:
        """Raise `LockLost` if the lock's connection died (the lock may be someone else's now)."""
        if self._conn is None:
            raise LockLost("the indexer lock is not held")
        try:
            held = self._conn.execute(
                # This connection takes no other advisory lock, so any granted one is ours.
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted")
            ).scalar()
        except DBAPIError:
            self._drop()
            raise LockLost("lost the database connection that held the indexer lock") from None
        if not held:
            self._drop()
            raise LockLost("the indexer lock is no longer held")

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.invalidate()
                self._conn.close()
            except Exception:  # the connection is already broken
                pass
            self._conn = None

    def release(self) -> None:
        if self._conn is None:
            return
        try:
            self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            self._conn.close()
        except DBAPIError:
            self._drop()
        self._conn = None

    def __enter__(self) -> IndexerLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
