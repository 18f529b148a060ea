"""The backfill worker process ends with its writer, and a standby keeps none while it waits.

`greenpoints index --once` forks a worker that reads and prepares batches for it. When the
writer is SIGKILLed alone (not its process group, so nothing else kills the worker), the worker
must exit within 2 s on its own: it writes nothing, but a lingering reader would hold a
database session and keep the node busy. A new `index --once` then completes and `audit` passes.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest

from greenpoints.build import build
from greenpoints.deployment import load_deployment
from indexer.lock import lock_key
from tests.resilience.conftest import (
    CursorWatch,
    IndexerProcess,
    IndexerSetup,
    create_database,
    describe,
    drop_database,
    dsn,
    run_cli,
)
from tests.resilience.workload import WorkloadSpec, cached_chain

pytestmark = pytest.mark.slow

SPEC = WorkloadSpec(blocks=400, checkouts_per_block=25, transfers_per_block=40, seed=3)  # the crash test's chain
BATCH_SIZE = 4  # blocks per transaction: the backfill takes long enough to be killed in its middle
EXIT_LIMIT = 2.0  # seconds for the orphaned worker to exit


def exited(process: psutil.Process) -> bool:
    """Gone, or a zombie waiting for its new parent to reap it."""
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.fixture
def setup(postgres: None, tmp_path: Path) -> Iterator[IndexerSetup]:
    """The crash test's chain on a node of its own and a fresh database."""
    build()
    chain = cached_chain(SPEC)
    database = create_database("worker")
    try:
        with chain.start() as node:
            yield IndexerSetup(node.url, database, chain.deployment_path, tmp_path)
    finally:
        drop_database(database)


def index_once(setup: IndexerSetup, name: str) -> IndexerProcess:
    """`index --once` in the background (BATCH_SIZE blocks per transaction)."""
    return IndexerProcess(setup, "index", "--once", name=name, batch_size=BATCH_SIZE, confirmations=0)


def writing_with_worker(setup: IndexerSetup, proc: IndexerProcess) -> psutil.Process:
    """Wait for `proc`'s first write; its backfill worker, with the backfill still running."""
    floor = load_deployment(setup.deployment).deployment_block
    with CursorWatch(setup.database) as watch:
        assert watch.wait_for(lambda c: c is not None and c >= floor, 60) is not None, proc.output()
    workers = psutil.Process(proc.pid).children()
    assert len(workers) == 1, f"expected the backfill worker as the only child: {workers}"
    assert proc.alive(), "the backfill ended before the test could act"
    return workers[0]


def assert_audit_passes(setup: IndexerSetup) -> None:
    checked = run_cli(setup, "audit")
    assert checked.returncode == 0, describe(checked)


def test_worker_exits_when_its_writer_is_killed(setup: IndexerSetup) -> None:
    proc = index_once(setup, "killed")
    try:
        worker = writing_with_worker(setup, proc)
        os.kill(proc.pid, signal.SIGKILL)  # the writer alone
        proc.process.wait(timeout=30)
        deadline = time.monotonic() + EXIT_LIMIT
        while not exited(worker) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert exited(worker), f"the worker outlived its writer by more than {EXIT_LIMIT} s"
    finally:
        proc.close()
    done = run_cli(setup, "index", "--once", batch_size=BATCH_SIZE, confirmations=0)
    assert done.returncode == 0, describe(done)
    assert_audit_passes(setup)


def test_a_standby_waits_without_a_worker_and_starts_one_when_it_takes_over(setup: IndexerSetup) -> None:
    """While another writer holds the lock, a waiting `index` keeps no worker (what it read would
    be stale); once the lock is its own it forks one for the backfill and completes it."""
    deployment = load_deployment(setup.deployment)
    key = lock_key(deployment.chain_id, deployment.pool)
    with psycopg.connect(dsn(setup.database), autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (key,))  # another writer, as far as it knows
        proc = index_once(setup, "standby")
        try:
            deadline = time.monotonic() + 60
            while "waiting as a standby" not in proc.output() and time.monotonic() < deadline:
                assert proc.alive(), proc.output()
                time.sleep(0.05)
            assert "waiting as a standby" in proc.output()
            time.sleep(0.5)
            children = [c for c in psutil.Process(proc.pid).children() if not exited(c)]
            assert children == [], f"the standby keeps a worker while it waits: {children}"
            holder.execute("SELECT pg_advisory_unlock(%s)", (key,))
            code = proc.wait(timeout=120)
            output = proc.output()
        finally:
            proc.close()
    assert code == 0, output
    assert re.search(r"backfill worker done batches=\d+", output), output
    assert_audit_passes(setup)


def test_the_writer_finishes_by_itself_when_its_worker_dies(setup: IndexerSetup) -> None:
    """SIGKILL the worker (not the writer) in the middle of a backfill: the writer notices, reads
    the rest by itself, and the mirror is exact."""
    proc = index_once(setup, "writer")
    try:
        writing_with_worker(setup, proc).kill()
        code = proc.wait(timeout=120)
        output = proc.output()
    finally:
        proc.close()
    assert code == 0, output
    assert "backfill worker failed, reading here" in output, output
    assert_audit_passes(setup)
