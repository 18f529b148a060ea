"""Migrations run clean both ways; the CLI refuses a missing or bad database URL in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from indexer import db, migrate
from indexer.copy_text import TRANSFER_COLUMNS
from indexer.decode import KEY_COLUMNS
from indexer.decode import TABLES as EVENT_TABLES
from indexer.errors import IndexerError
from indexer.service import _require_schema
from tests.indexer.conftest import GREENPOINTS, cli_env, run_cli

TABLES = {
    "blocks",
    "balances",
    "pool_states",
    "merchants",
    "merchant_daily",
    "indexer_state",
    "price_candles",
    "audit_runs",
    "indexer_heartbeat",
    *EVENT_TABLES,
}
# The 0001 tables, kept readable as views over the typed event tables.
VIEWS = {"events", "balance_changes"}


def relation_names(url: str, *, views: bool = False) -> set[str]:
    engine = create_engine(url)
    try:
        inspector = inspect(engine)
        return set(inspector.get_view_names() if views else inspector.get_table_names())
    finally:
        engine.dispose()


def table_names(url: str) -> set[str]:
    return relation_names(url)


def view_names(url: str) -> set[str]:
    return relation_names(url, views=True)


def test_upgrade_to_head_and_downgrade_to_base(empty_db: str) -> None:
    assert table_names(empty_db) == set()
    migrate.upgrade(empty_db)
    assert table_names(empty_db) == TABLES | {"alembic_version"}
    assert view_names(empty_db) == VIEWS
    assert migrate.current(empty_db) == migrate.HEAD
    engine = create_engine(empty_db)
    with engine.connect() as conn:
        numeric = conn.execute(
            text(
                "SELECT table_name, column_name FROM information_schema.columns WHERE data_type = 'numeric'"
                " AND (numeric_precision <> 78 OR numeric_scale <> 0)"
            )
        ).all()
        no_chain = conn.execute(
            text(
                "SELECT t.table_name FROM information_schema.tables t WHERE t.table_schema = 'public'"
                " AND t.table_name <> 'alembic_version' AND NOT EXISTS (SELECT 1 FROM information_schema.columns c"
                " WHERE c.table_name = t.table_name AND c.column_name = 'chain_id')"
            )
        ).all()
    engine.dispose()
    assert numeric == []  # every amount is NUMERIC(78,0)
    assert no_chain == []  # every table carries chain_id
    migrate.downgrade(empty_db, "base")
    # Only Alembic's own (empty) bookkeeping table remains.
    assert table_names(empty_db) <= {"alembic_version"}
    assert view_names(empty_db) == set()
    assert migrate.current(empty_db) is None
    migrate.upgrade(empty_db)  # and up again
    assert table_names(empty_db) >= TABLES


def test_event_tables_have_the_columns_the_decoder_writes(empty_db: str) -> None:
    """The migration and `indexer.decode` describe each event table separately (a migration is
    frozen); the COPY column lists come from the decoder, so they must match the schema."""
    migrate.upgrade(empty_db)
    engine = create_engine(empty_db)
    try:
        with engine.connect() as conn:
            for table, params in EVENT_TABLES.items():
                columns = conn.execute(
                    text(
                        "SELECT column_name FROM information_schema.columns WHERE table_name = :t"
                        " ORDER BY ordinal_position"
                    ),
                    {"t": table},
                ).scalars()
                expected = (*KEY_COLUMNS, *params)
                if table == "transfers":
                    expected = TRANSFER_COLUMNS
                assert tuple(columns) == expected, table
    finally:
        engine.dispose()


def test_typed_tables_migration_resets_the_mirror_for_a_reindex(empty_db: str) -> None:
    """0001 -> 0002 drops the JSONB event rows, so the derived rows go too and the cursor returns
    to the deployment: the next `index` rebuilds everything (and the same on the way down)."""
    migrate.upgrade(empty_db, "0001_initial")
    engine = create_engine(empty_db)
    state = (
        "INSERT INTO indexer_state (chain_id, pool, token, asset, asset_decimals, deployment_block, cursor_block,"
        " cursor_hash, halted_reason) VALUES (1, '0xp', '0xt', '0xa', 6, 10, 500, '0xh', 'deep reorg')"
    )
    with engine.begin() as conn:
        conn.execute(text(state))
        conn.execute(text("INSERT INTO balances VALUES (1, '0xh1', 5)"))
        conn.execute(text("INSERT INTO blocks VALUES (1, 500, '0xh', NULL, now(), true)"))
    try:
        for revision in (migrate.HEAD, "0001_initial"):
            (migrate.upgrade if revision == migrate.HEAD else migrate.downgrade)(empty_db, revision)
            with engine.connect() as conn:
                row = conn.execute(text("SELECT cursor_block, cursor_hash, halted_reason FROM indexer_state")).one()
                assert tuple(row) == (9, None, None)
                assert conn.execute(text("SELECT count(*) FROM balances")).scalar() == 0
                assert conn.execute(text("SELECT count(*) FROM blocks")).scalar() == 0
            with engine.begin() as conn:  # dirty it again for the way down
                conn.execute(text("UPDATE indexer_state SET cursor_block = 500, cursor_hash = '0xh'"))
                conn.execute(text("INSERT INTO balances VALUES (1, '0xh1', 5)"))
                conn.execute(text("INSERT INTO blocks VALUES (1, 500, '0xh', NULL, now(), true)"))
    finally:
        engine.dispose()


def test_head_constant_matches_the_migrations() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert script.get_current_head() == migrate.HEAD


def test_cli_db_upgrade_and_downgrade(empty_db: str, tmp_path: Path) -> None:
    env = cli_env(empty_db, "http://127.0.0.1:1", tmp_path / "none.json")
    up = run_cli(["db", "upgrade"], env, tmp_path)
    assert up.returncode == 0, up.stderr
    assert table_names(empty_db) >= TABLES
    down = run_cli(["db", "downgrade", "base"], env, tmp_path)
    assert down.returncode == 0, down.stderr
    assert table_names(empty_db) <= {"alembic_version"}


@pytest.mark.parametrize(
    ("url", "message", "command"),
    [
        (None, "GREENPOINTS_DATABASE_URL: not set", ["index", "--once"]),
        (None, "GREENPOINTS_DATABASE_URL: not set", ["audit"]),
        ("mysql://root@localhost/x", "must be a PostgreSQL URL", ["index", "--once"]),
        ("postgresql+psycopg://postgres@127.0.0.1:1/nothing", "cannot connect to the database", ["index", "--once"]),
    ],
)
def test_cli_refuses_a_missing_or_bad_database_url(
    url: str | None, message: str, command: list[str], tmp_path: Path
) -> None:
    assert GREENPOINTS.exists()
    env = cli_env(url, "http://127.0.0.1:1", tmp_path / "none.json")
    done = run_cli(command, env, tmp_path, timeout=60)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("greenpoints: error: ") and message in lines[0]


def test_commands_that_read_the_mirror_refuse_a_database_without_the_schema(empty_db: str) -> None:
    engine = db.make_engine(empty_db)
    try:
        with pytest.raises(IndexerError, match="no indexer schema"):
            _require_schema(engine)
        migrate.upgrade(empty_db)
        _require_schema(engine)  # now there is one
    finally:
        engine.dispose()
