"""Hot standby: two live `greenpoints index` processes on one database and one node while
transactions trickle in. The first takes the advisory lock and writes; the second waits. When
the first is SIGKILLed the second takes the lock and goes on indexing. At the end `audit`
passes and the mirror equals a fresh single-process backfill into another database.

Who holds the lock is read from PostgreSQL (pg_locks joined with pg_stat_activity) and mapped to
the indexer process owning that client connection, so the test does not rely on log wording.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import psycopg
import pytest

from greenpoints.build import build
from tests.resilience.conftest import (
    PG_PORT,
    CursorWatch,
    IndexerProcess,
    IndexerSetup,
    describe,
    diff_snapshots,
    dsn,
    run_cli,
    snapshot_tables,
)
from tests.resilience.workload import CachedChain, Rpc, cached_simulation, checkout_data

ACTIONS = 250
POLL_INTERVAL = 0.3
TRICKLE_EVERY = 0.25  # seconds between trickled checkouts (one block each)
WAIT = 60.0  # generous upper bound for any single wait (not a performance assertion)


class Trickle:
    """A thread sending one checkout every `every` seconds (anvil automines a block per tx)."""

    def __init__(self, url: str, chain: CachedChain, every: float) -> None:
        self.rpc = Rpc(url)
        self.deployment = chain.deployment
        self.every = every
        self.sent = 0
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="trickle", daemon=True)

    def _run(self) -> None:
        merchants = [m.address for m in self.deployment.merchants]
        customers: list[str] = self.rpc.call("eth_accounts")[5:]
        unit = 10**self.deployment.asset_decimals
        while not self._stop.wait(self.every):
            i = self.sent
            order = hashlib.sha256(f"trickle:{self.deployment.pool}:{i}".encode()).digest()
            tx = {
                "from": merchants[i % len(merchants)],
                "to": self.deployment.pool,
                "data": checkout_data(customers[i % len(customers)], (1 + i % 7) * unit, order),
                "gas": hex(400_000),
            }
            try:
                self.rpc.call("eth_sendTransaction", [tx])
                self.sent += 1
            except Exception as exc:  # reported by the test, never silently lost
                self.errors.append(repr(exc))
                return

    def start(self) -> Trickle:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        self.rpc.close()


def tcp_connections(process: psutil.Process) -> list[Any]:
    """The process's TCP connections (psutil >= 6 names the method `net_connections`)."""
    method = getattr(process, "net_connections", None) or process.connections
    return list(method(kind="tcp"))


def lock_holders(database: str, candidates: list[IndexerProcess]) -> list[IndexerProcess]:
    """The candidates owning a database session that holds a granted advisory lock."""
    with psycopg.connect(dsn("postgres"), autocommit=True) as conn:
        ports = {
            int(r[0])
            for r in conn.execute(
                "SELECT a.client_port FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE l.locktype = 'advisory' AND l.granted AND a.datname = %s AND a.client_port IS NOT NULL",
                (database,),
            )
        }
    holders = []
    for proc in candidates:
        if not proc.alive():
            continue
        try:
            tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        except psutil.Error:
            continue
        local_ports: set[int] = set()
        for member in tree:
            try:
                connections = tcp_connections(member)
            except psutil.Error:  # a member that just exited (the backfill worker ends at the head)
                continue
            local_ports |= {c.laddr.port for c in connections if c.raddr and c.raddr.port == PG_PORT and c.laddr}
        if local_ports & ports:
            holders.append(proc)
    return holders


def parent_hashes(database: str) -> dict[int, str]:
    """`number -> parent_hash` of the blocks table where the parent hash is known."""
    with psycopg.connect(dsn(database)) as conn:
        rows = conn.execute("SELECT number, parent_hash FROM blocks WHERE parent_hash IS NOT NULL").fetchall()
    return {int(n): str(h) for n, h in rows}


def wait_until(predicate: Any, timeout: float, poll: float = 0.05) -> float | None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(poll)
    return None


@pytest.fixture
def chain() -> Iterator[tuple[CachedChain, str]]:
    build()
    cached = cached_simulation(ACTIONS, seed=11)
    with cached.start() as node:
        yield cached, node.url


def test_standby_takes_over_after_sigkill(
    chain: tuple[CachedChain, str], make_db: Any, processes: list[IndexerProcess], tmp_path: Path
) -> None:
    cached, url = chain
    setup = IndexerSetup(url, make_db("standby"), cached.deployment_path, tmp_path)
    live = {"poll_interval": POLL_INTERVAL, "confirmations": 0}
    rpc = Rpc(url)
    trickle = Trickle(url, cached, TRICKLE_EVERY).start()
    try:
        with CursorWatch(setup.database) as watch:
            first = IndexerProcess(setup, "index", name="first", **live)
            processes.append(first)
            initial_head = int(cached.info["head"])
            assert watch.wait_for(lambda c: c is not None and c >= initial_head, WAIT) is not None, first.output()
            holders = lock_holders(setup.database, [first])
            assert holders == [first], "the first indexer does not hold the lock:\n" + first.output()

            second = IndexerProcess(setup, "index", name="second", **live)
            processes.append(second)

            # The second one connects to the database but must not get the lock while the first lives.
            def second_connected() -> bool:
                try:
                    conns = tcp_connections(psutil.Process(second.pid))
                except psutil.Error:
                    return False
                return any(c.raddr and c.raddr.port == PG_PORT for c in conns)

            assert wait_until(second_connected, WAIT) is not None, second.output()
            time.sleep(2.0)
            assert second.alive(), f"the standby exited:\n{second.output()}"
            assert lock_holders(setup.database, [first, second]) == [first], "the lock moved while the first lived"
            before = watch.read()
            assert before is not None
            assert watch.wait_for(lambda c: c is not None and c > before, WAIT) is not None, "first stopped writing"

            first.kill()
            t_kill = time.monotonic()
            killed_at = watch.read()
            assert killed_at is not None
            t_lock = wait_until(lambda: lock_holders(setup.database, [second]) == [second], WAIT)
            assert t_lock is not None, f"the standby never took the lock:\n{second.output()}"
            wrote = watch.wait_for(lambda c: c is not None and c > killed_at, WAIT)
            assert wrote is not None, f"the standby took the lock but never wrote:\n{second.output()}"
            t_write = time.monotonic() - t_kill
            print(f"takeover after SIGKILL: lock taken after {t_lock:.2f} s, cursor advancing after {t_write:.2f} s")

            # It keeps indexing: several more advances while the trickle goes on.
            advances = 0
            last = watch.read()
            deadline = time.monotonic() + 3.0
            while time.monotonic() < deadline:
                now = watch.read()
                if now is not None and last is not None and now > last:
                    advances += 1
                    last = now
                time.sleep(0.05)
            assert advances >= 2, f"the new writer advanced {advances} times in 3 s:\n{second.output()}"

            trickle.stop()
            assert not trickle.errors, trickle.errors
            head = int(rpc.call("eth_blockNumber"), 16)
            assert watch.wait_for(lambda c: c == head, WAIT) is not None, f"standby did not reach head {head}"
        second.signal(15)  # SIGTERM: a clean stop
        code = second.wait(timeout=WAIT)
        assert code == 0, f"the standby exited {code} on SIGTERM:\n{second.output()[-3000:]}"
    finally:
        trickle.stop()
        rpc.close()

    audit = run_cli(setup, "audit")
    assert audit.returncode == 0, f"`greenpoints audit` after the takeover: {describe(audit)}"
    fresh = setup.with_(database=make_db("standby_ref"))
    backfill = run_cli(fresh, "index", "--once", confirmations=0)
    assert backfill.returncode == 0, describe(backfill)
    # `blocks.parent_hash` depends on the batch history, not on the chain: a block with events that
    # was once within the reorg window keeps its parent hash, a backfill that reads it from logs
    # only stores NULL. It is compared where both mirrors know it; every other column exactly.
    ignore = {"blocks": {"parent_hash"}}
    problems = diff_snapshots(snapshot_tables(setup.database, ignore), snapshot_tables(fresh.database, ignore))
    assert not problems, "the two-process mirror differs from a fresh backfill:\n" + "\n".join(problems)
    known = [parent_hashes(setup.database), parent_hashes(fresh.database)]
    clash = {n: (known[0][n], known[1][n]) for n in known[0].keys() & known[1].keys() if known[0][n] != known[1][n]}
    assert not clash, f"blocks whose parent hash differs between the mirrors: {sorted(clash.items())[:3]}"
    print(f"trickled {trickle.sent} checkouts; final head {head}")
