"""What the `greenpoints index | audit | db | resync` commands do, given the settings."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from greenpoints.config import Settings
from greenpoints.deployment import Deployment, default_path, load_deployment
from greenpoints.errors import ChainError, ConfigError, DeploymentError
from indexer import db, migrate, worker
from indexer.collector import tune_garbage_collector
from indexer.errors import AuditFailed, IndexerError, RpcError
from indexer.lock import IndexerLock
from indexer.progress import Progress
from indexer.reorg import resync
from indexer.rpc import RpcClient
from indexer.runner import EXIT_OK, run_live, run_once
from indexer.sync import Indexer
from indexer.target import Target

if TYPE_CHECKING:
    from indexer.audit import AuditReport

log = logging.getLogger("indexer")


def setup_logging() -> None:
    """key=value log lines on stderr, unless the application configured logging already."""
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # it logs every tick at INFO
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # one line per plugin
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(
            level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )


def database_url(settings: Settings) -> str:
    if settings.database_url is None:
        raise ConfigError(
            "GREENPOINTS_DATABASE_URL: not set (a SQLAlchemy URL such as "
            "postgresql+psycopg://postgres@127.0.0.1:5432/greenpoints)"
        )
    return settings.database_url


def open_engine(settings: Settings) -> Engine:
    engine = db.make_engine(database_url(settings))
    db.check_connection(engine)
    return engine


@dataclass
class Env:
    engine: Engine
    rpc: RpcClient
    target: Target


@contextmanager
def open_env(settings: Settings) -> Iterator[Env]:
    """The database, the node and the deployment a command works on (a local anvil if no RPC URL)."""
    engine = open_engine(settings)
    try:
        with ExitStack() as stack:
            if settings.rpc_url is not None:
                url = settings.rpc_url
            else:
                from greenpoints.session import open_chain

                w3 = stack.enter_context(open_chain(settings, log=False))
                url = str(getattr(w3.provider, "endpoint_uri", ""))
            rpc = RpcClient(url, log_range_limit=settings.log_range_limit)
            stack.callback(rpc.close)
            yield Env(engine, rpc, Target.from_deployment(load_checked_deployment(settings, rpc)))
    finally:
        engine.dispose()


def load_checked_deployment(settings: Settings, rpc: RpcClient) -> Deployment:
    """The deployment file for the node's chain, checked to still have code at the pool's address."""
    try:
        chain_id = rpc.chain_id()
    except RpcError as exc:
        raise ChainError(f"cannot reach JSON-RPC at {rpc.url}: {exc}") from None
    deployment = load_deployment(settings.deployment or default_path(chain_id), chain_id)
    if rpc.call("eth_getCode", [deployment.pool, "latest"]) in (None, "0x", "0x0"):
        raise DeploymentError(
            f"no contract at the pool address {deployment.pool} on chain {chain_id}: "
            "the chain was reset; run `greenpoints deploy` again"
        )
    return deployment


def _require_schema(engine: Engine) -> None:
    with engine.connect() as conn:
        present = db.has_schema(conn)
    if not present:
        raise IndexerError("the database has no indexer schema; run `greenpoints db upgrade` or `greenpoints index`")


def index(settings: Settings, once: bool, early_worker: worker.BackfillWorker | None = None) -> int:
    """`greenpoints index [--once]`: take the lock (waiting as a standby), migrate, index.

    `early_worker`: a backfill worker started before this module was imported (its own).
    """
    setup_logging()
    tune_garbage_collector()
    with ExitStack() as stack:
        if early_worker is not None:
            stack.callback(early_worker.stop)
        env = stack.enter_context(open_env(settings))
        indexer = Indexer(
            env.engine,
            env.rpc,
            env.target,
            confirmations=settings.confirmations,
            batch_size=settings.batch_size,
            reorg_window=settings.reorg_window,
            worker_min_blocks=worker.MIN_BLOCKS if settings.backfill_worker and worker.AVAILABLE else None,
        )
        stack.callback(indexer.close)
        # The first batches are read from the node while the lock is taken and the schema migrated.
        if early_worker is not None and early_worker.params.target == env.target:
            indexer.adopt_worker(early_worker)
        else:
            indexer.start_reading(db.cursor_hint(env.engine, env.target))
        lock = IndexerLock(env.engine, env.target.chain_id, env.target.pool)
        waited: list[bool] = []

        def standing_by() -> None:
            print("another indexer holds the lock; waiting as a standby", file=sys.stderr)
            indexer.stop_reading()  # what it read would be stale by the time the lock is ours
            waited.append(True)

        lock.acquire(on_wait=standing_by)
        stack.callback(lock.release)
        indexer.lock = lock
        if waited:
            indexer.start_reading(db.cursor_hint(env.engine, env.target))
        migrate.upgrade_if_needed(env.engine)
        if not once:
            from indexer.audit_runs import LiveAuditor

            auditor = LiveAuditor(env.engine, env.rpc.url, env.target, settings.audit_every)
            return run_live(indexer, settings.poll_interval, auditor)
        indexer.prepare()
        with env.engine.connect() as conn:
            start = db.load_state(conn, env.target).cursor_block
        head = env.rpc.block_number() - settings.confirmations
        progress = Progress(start, head)
        started = time.monotonic()
        events = run_once(indexer, progress)
        indexer.heartbeat()
        progress.finish()
        elapsed = time.monotonic() - started
        with env.engine.connect() as conn:
            cursor = db.load_state(conn, env.target).cursor_block
        rate = events / max(elapsed, 1e-9)
        print(f"indexed up to block {cursor}: {events} events in {elapsed:.1f} s ({rate:,.0f} events/s)")
        return EXIT_OK


def run_audit(settings: Settings) -> AuditReport:
    """`greenpoints audit`: print the report; raise `AuditFailed` on any difference."""
    from indexer.audit import audit
    from indexer.audit_runs import store_report

    with open_env(settings) as env:
        _require_schema(env.engine)
        report = audit(env.engine, env.rpc, env.target)
        store_report(env.engine, report, source="command")
    print(report.render())
    if not report.ok:
        raise AuditFailed(f"audit failed: {len(report.differences)} difference(s); first: {report.differences[0]}")
    return report


def db_command(settings: Settings, action: str, revision: str) -> None:
    """`greenpoints db upgrade|downgrade [REVISION]`."""
    engine = open_engine(settings)
    url = db.url_string(engine)
    engine.dispose()
    if action == "upgrade":
        migrate.upgrade(url, revision)
    else:
        migrate.downgrade(url, revision)
    print(f"database at revision {migrate.current(url) or 'base (empty)'}")


def run_resync(settings: Settings, from_block: int | None) -> int:
    """`greenpoints resync`: under the lock, drop everything above the block and clear a halt."""
    setup_logging()
    with open_env(settings) as env:
        _require_schema(env.engine)
        lock = IndexerLock(env.engine, env.target.chain_id, env.target.pool)
        if not lock.acquire(timeout=10):
            raise IndexerError("another indexer holds the lock; stop it before `resync`")
        try:
            with env.engine.begin() as conn:
                cursor = resync(conn, env.rpc, env.target, from_block)
        finally:
            lock.release()
    print(f"resync: cursor set to block {cursor}, halt cleared; `greenpoints index` re-indexes from {cursor + 1}")
    return cursor
