"""The gateway outbox's schema, changed only through its own Alembic migrations
(`merchant/migrations/`), recorded in its own version table `gateway_alembic_version`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "gateway_alembic_version"
# The newest revision (a test keeps it equal to Alembic's head): start-up skips Alembic when current.
HEAD = "0001_gateway_outbox"


def sqlalchemy_url(database_url: str) -> str:
    """`database_url` with the psycopg 3 driver SQLAlchemy needs."""
    if database_url.startswith("postgresql://"):
        return "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    return database_url


def libpq_url(database_url: str) -> str:
    """`database_url` as libpq (psycopg) takes it."""
    return "postgresql://" + database_url.split("://", 1)[1]


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(database_url).replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(database_url), revision)


def current(database_url: str) -> str | None:
    """The revision of the outbox schema, or None when it has none yet."""
    with psycopg.connect(libpq_url(database_url), connect_timeout=5) as conn:
        exists = conn.execute("SELECT to_regclass(%s)", (VERSION_TABLE,)).fetchone()
        if exists is None or exists[0] is None:
            return None
        row = conn.execute(sql.SQL("SELECT version_num FROM {}").format(sql.Identifier(VERSION_TABLE))).fetchone()
        return None if row is None else str(row[0])


def upgrade_if_needed(database_url: str) -> None:
    """`upgrade head`, unless the outbox is already at `HEAD` (Alembic is not even imported then).

    Two gateways starting together take turns: the migration runs under an advisory lock."""
    if current(database_url) == HEAD:
        return
    with psycopg.connect(libpq_url(database_url), autocommit=True, connect_timeout=5) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (VERSION_TABLE,))
        try:
            if current(database_url) != HEAD:
                upgrade(database_url)
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (VERSION_TABLE,))
