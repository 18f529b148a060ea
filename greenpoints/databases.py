"""Create and drop whole PostgreSQL databases (the demo's own database, test and bench databases)."""

from __future__ import annotations

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

LOCAL_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _admin_dsn(server: URL) -> str:
    return server.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)


def database_url(name: str, server_url: str | None = None) -> str:
    """The SQLAlchemy URL of database `name` on the server of `server_url` (default: the local one)."""
    server = make_url(server_url or LOCAL_SERVER)
    return server.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)


def create_database(name: str, server_url: str | None = None, *, replace: bool = False) -> str:
    """Create the empty database `name` (dropping an old one first when `replace`); its URL."""
    server = make_url(server_url or LOCAL_SERVER)
    with psycopg.connect(_admin_dsn(server), autocommit=True, connect_timeout=5) as conn:
        if replace:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return database_url(name, server_url)


def drop_database(name: str, server_url: str | None = None) -> None:
    """Drop database `name` if it exists, closing its connections."""
    server = make_url(server_url or LOCAL_SERVER)
    with psycopg.connect(_admin_dsn(server), autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
