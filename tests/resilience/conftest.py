"""Fixtures and helpers for the indexer's resilience tests.

Everything is real: anvil nodes (`greenpoints.anvil.Anvil`), the machine's PostgreSQL on
127.0.0.1:5432 (user postgres, trust auth) with a uniquely named database per use, dropped
afterwards, and the indexer run as subprocesses of its command line (`greenpoints index`,
`greenpoints audit`) configured through GREENPOINTS_* environment variables only.

The tests know nothing of the indexer's schema beyond what they can discover: the cursor is the
column named like `cursor_block`, and tables are compared through information_schema.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from greenpoints import databases
from greenpoints.compiler import ROOT

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_USER = "postgres"
ADMIN_DSN = f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/postgres"
# Columns holding wall-clock time, not chain data: they differ between two identical runs.
WALL_CLOCK_COLUMNS = frozenset({"updated_at", "created_at", "inserted_at", "indexed_at", "modified_at"})
# Tables about the indexer's runs rather than the chain (its heartbeat, the audits it ran): two
# identical mirrors may differ there.
OPERATIONAL_TABLES = frozenset({"indexer_heartbeat", "audit_runs"})


def greenpoints_command() -> list[str]:
    """The `greenpoints` console script of this checkout's virtualenv, else `python -m cli`."""
    script = ROOT / ".venv" / "bin" / "greenpoints"
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli"]


# ---------------------------------------------------------------------- PostgreSQL


def dsn(database: str) -> str:
    return f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"


def sqlalchemy_url(database: str) -> str:
    return f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"


def create_database(label: str) -> str:
    """Create a uniquely named empty database; its name."""
    name = f"gp_res_{label}_{uuid.uuid4().hex[:10]}"
    databases.create_database(name)
    return name


def drop_database(name: str) -> None:
    databases.drop_database(name)


@pytest.fixture(scope="session")
def postgres() -> None:
    """PostgreSQL must answer; the resilience tests are skipped (with the reason) if it does not."""
    try:
        with psycopg.connect(ADMIN_DSN, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable at {PG_HOST}:{PG_PORT} ({exc}); run tools/ensure-postgres.sh")


@pytest.fixture
def make_db(postgres: None) -> Iterator[Callable[[str], str]]:
    """`make_db(label)` creates a fresh database and returns its name; all are dropped at teardown."""
    created: list[str] = []

    def make(label: str) -> str:
        name = create_database(label)
        created.append(name)
        return name

    yield make
    for name in created:
        drop_database(name)


def find_cursor_column(conn: psycopg.Connection[Any]) -> tuple[str, str] | None:
    """(table, column) of the indexer's cursor: a column named like `cursor_block`."""
    rows = conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = 'public' AND column_name LIKE %s ORDER BY column_name = 'cursor_block' DESC",
        ("%cursor%block%",),
    ).fetchall()
    return (rows[0][0], rows[0][1]) if rows else None


class CursorWatch:
    """Reads the indexer's cursor (max over the cursor table) on one open connection."""

    def __init__(self, database: str) -> None:
        self.conn: psycopg.Connection[Any] = psycopg.connect(dsn(database), autocommit=True)
        self._column: tuple[str, str] | None = None

    def read(self) -> int | None:
        """The cursor block, or None while the schema or the cursor row does not exist yet."""
        if self._column is None:
            self._column = find_cursor_column(self.conn)
            if self._column is None:
                return None
        table, column = self._column
        row = self.conn.execute(
            sql.SQL("SELECT max({}) FROM {}").format(sql.Identifier(column), sql.Identifier(table))
        ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def wait_for(self, predicate: Callable[[int | None], bool], timeout: float, poll: float = 0.02) -> float | None:
        """Seconds until `predicate(cursor)` holds, or None after `timeout`."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if predicate(self.read()):
                return time.monotonic() - start
            time.sleep(poll)
        return None

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> CursorWatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def snapshot_tables(database: str, exclude: dict[str, set[str]] | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """Every public table's rows, ordered by all columns, without wall-clock columns (and
    without the columns `exclude` names per table)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with psycopg.connect(dsn(database)) as conn:
        tables = [
            str(r[0])
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
            )
            if str(r[0]) not in OPERATIONAL_TABLES
        ]
        for table in tables:
            columns = [
                str(r[0])
                for r in conn.execute(
                    "SELECT column_name, data_type FROM information_schema.columns"
                    " WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position",
                    (table,),
                )
                if not (str(r[0]) in WALL_CLOCK_COLUMNS or (str(r[0]).endswith("_at") and "timestamp" in str(r[1])))
                and str(r[0]) not in (exclude or {}).get(table, set())
            ]
            listed = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
            order = sql.SQL(", ").join(sql.SQL(str(i + 1)) for i in range(len(columns)))
            query = sql.SQL("SELECT {} FROM {} ORDER BY {}").format(listed, sql.Identifier(table), order)
            out[table] = [tuple(r) for r in conn.execute(query)]
    return out


def diff_snapshots(a: dict[str, list[tuple[Any, ...]]], b: dict[str, list[tuple[Any, ...]]]) -> list[str]:
    """Readable differences between two table snapshots (empty: identical)."""
    problems: list[str] = []
    if set(a) != set(b):
        problems.append(f"tables differ: {sorted(set(a) ^ set(b))}")
    for table in sorted(set(a) & set(b)):
        rows_a, rows_b = a[table], b[table]
        if rows_a == rows_b:
            continue
        only_a = sorted(set(rows_a) - set(rows_b), key=repr)
        only_b = sorted(set(rows_b) - set(rows_a), key=repr)
        dup_a = len(rows_a) - len(set(rows_a))
        dup_b = len(rows_b) - len(set(rows_b))
        problems.append(
            f"{table}: {len(rows_a)} vs {len(rows_b)} rows; {len(only_a)} only in the first, "
            f"{len(only_b)} only in the second, duplicates {dup_a}/{dup_b}; "
            f"e.g. first-only {only_a[:2]!r} second-only {only_b[:2]!r}"
        )
    return problems


# ---------------------------------------------------------------------- the indexer's command line


@dataclass
class IndexerSetup:
    """The configuration of one indexer target: node, database and deployment file."""

    rpc_url: str
    database: str
    deployment: Path
    workdir: Path
    extra: dict[str, str] = field(default_factory=dict)

    def env(self, **overrides: str | int | float) -> dict[str, str]:
        """The process environment: ours, minus any inherited GREENPOINTS_* setting."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("GREENPOINTS_")}
        env.update(
            GREENPOINTS_RPC_URL=self.rpc_url,
            GREENPOINTS_DATABASE_URL=sqlalchemy_url(self.database),
            GREENPOINTS_DEPLOYMENT=str(self.deployment),
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra)
        env.update({f"GREENPOINTS_{k.upper()}": str(v) for k, v in overrides.items()})
        return env

    def with_(self, **changes: Any) -> IndexerSetup:
        values = {**self.__dict__, **changes}
        return IndexerSetup(**values)


def run_cli(
    setup: IndexerSetup, *args: str, timeout: float = 180.0, **overrides: str | int | float
) -> subprocess.CompletedProcess[str]:
    """Run `greenpoints ARGS` to completion (output captured)."""
    return subprocess.run(
        [*greenpoints_command(), *args],
        env=setup.env(**overrides),
        cwd=setup.workdir,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class IndexerProcess:
    """A background `greenpoints ...` process with its output in a log file; killable by group."""

    def __init__(self, setup: IndexerSetup, *args: str, name: str, **overrides: str | int | float) -> None:
        self.log_path = setup.workdir / f"{name}.log"
        self._log = self.log_path.open("ab")
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [*greenpoints_command(), *args],
            env=setup.env(**overrides),
            cwd=setup.workdir,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def signal(self, signum: int) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signum)

    def kill(self) -> None:
        """SIGKILL the process (and anything it started) and reap it."""
        self.signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout=timeout)

    def close(self) -> None:
        if self.alive():
            self.kill()
        self._log.close()


@pytest.fixture
def processes() -> Iterator[list[IndexerProcess]]:
    """Background indexer processes of a test; any still running at teardown are killed."""
    started: list[IndexerProcess] = []
    yield started
    for proc in started:
        proc.close()


def describe(result: subprocess.CompletedProcess[str]) -> str:
    """Exit code and the tail of the output of a finished command, for assertion messages."""
    tail = (result.stdout + result.stderr)[-3000:]
    return f"exit {result.returncode}; output tail:\n{tail}"
