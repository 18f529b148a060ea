"""Alembic environment of the gateway's outbox: its own version table, so the outbox can share a
database with the indexer without either touching the other's schema."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection

VERSION_TABLE = "gateway_alembic_version"

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection, target_metadata=None, transaction_per_migration=True, version_table=VERSION_TABLE
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported; `greenpoints merchant serve` migrates")
run_migrations_online()
