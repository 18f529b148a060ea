"""Where the demo keeps its data: the configured PostgreSQL, else the local server, else an
embedded private one (PyPI `pgserver`) in a data folder of the project.

The demo always works in a database of its own (`greenpoints_demo`), created afresh on the chosen
server at every run, because its chain is new at every run too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from greenpoints.databases import create_database
from greenpoints.errors import ConfigError

DEMO_DATABASE = "greenpoints_demo"


@dataclass
class DemoDatabase:
    """The server the demo uses, which kind it is, and its own database on it."""

    kind: str  # "configured", "local" or "embedded"
    server_url: str
    url: str = ""
    _embedded: Any = field(default=None, repr=False)

    def describe(self) -> str:
        server = make_url(self.server_url)
        where = server.query.get("host") or f"{server.host}:{server.port or 5432}"
        names = {
            "configured": "the server of GREENPOINTS_DATABASE_URL",
            "local": "the local server",
            "embedded": "an embedded PostgreSQL (pgserver)",
        }
        return f"{names[self.kind]} at {where}, database {DEMO_DATABASE}"

    def stop(self) -> None:
        """Stop the embedded server (a server the demo did not start is left running)."""
        if self._embedded is not None:
            self._embedded.cleanup()
            self._embedded = None


def _answers(server_url: str) -> str | None:
    """None when the server at `server_url` accepts a connection, else the first line of why not."""
    dsn = make_url(server_url).set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    try:
        with psycopg.connect(dsn, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        text = str(exc).strip()
        return text.splitlines()[0] if text else exc.__class__.__name__


def choose_database(configured: str | None, local_server: str, data_dir: Path) -> DemoDatabase:
    """The configured server (refused when it does not answer), else `local_server` when it
    answers, else an embedded server in `data_dir`; with the demo's own fresh database on it."""
    if configured is not None:
        why = _answers(configured)
        if why is not None:
            where = make_url(configured)
            raise ConfigError(f"GREENPOINTS_DATABASE_URL: cannot connect to {where.host}:{where.port or 5432} ({why})")
        chosen = DemoDatabase("configured", configured)
    elif _answers(local_server) is None:
        chosen = DemoDatabase("local", local_server)
    else:
        chosen = _embedded(data_dir)
    chosen.url = create_database(DEMO_DATABASE, chosen.server_url, replace=True)
    return chosen


def _embedded(data_dir: Path) -> DemoDatabase:
    try:
        import pgserver
    except ImportError:  # pragma: no cover - pgserver is a dependency of the project
        raise ConfigError("no PostgreSQL answers and pgserver is not installed; run `make setup`") from None
    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(str(data_dir.resolve()), cleanup_mode="stop")
    # pgserver gives `postgresql://postgres:@/postgres?host=<socket dir>`.
    url = make_url(server.get_uri()).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return DemoDatabase("embedded", url, _embedded=server)
