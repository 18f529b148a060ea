"""Alembic, configured in code: the schema changes only through these migrations.

`script_location` points at this package's `migrations` folder, so `upgrade`/`downgrade` work
from any working directory and from an installed package.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import Connection

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The newest revision in migrations/versions (a test keeps it equal to Alembic's head): lets
# `index` skip importing Alembic when the schema is current.
HEAD = "0004_api_read_models"


def alembic_config(database_url: str | None = None, connection: Connection | None = None) -> Config:
    """An Alembic config for our migrations, on `database_url` or an open `connection`."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if database_url is not None:
        # ConfigParser interpolation: a literal % must be doubled.
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database at `database_url` up to `revision`."""
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    """Migrate the database at `database_url` down to `revision` (`base`: no tables left)."""
    from alembic import command

    command.downgrade(alembic_config(database_url), revision)


def current(database_url: str) -> str | None:
    """The revision the database is at, or None when it has no schema yet."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def upgrade_if_needed(engine: Engine) -> None:
    """`upgrade head`, unless the database is already at `HEAD`."""
    with engine.connect() as conn:
        if inspect(conn).has_table("alembic_version"):
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
            if versions == [HEAD]:
                return
    upgrade(engine.url.render_as_string(hide_password=False))
