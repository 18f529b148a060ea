"""What every route is handed: the process's `ApiContext` and, per request, a pooled connection."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool

from api.account_query import account_rows
from api.cursors import Cursors
from api.database import Connection
from api.lookups import Coalescer
from api.mirror import ChainChoice, Indexed, read_state
from api.responses import VersionCache
from api.settings import ApiSettings


@dataclass
class ApiContext:
    """One per worker process: settings, the pool, the chain served, caches keyed by indexed version."""

    settings: ApiSettings
    pool: AsyncConnectionPool[Connection]
    chain: ChainChoice
    cursors: Cursors
    deployment_path: Path | None  # GREENPOINTS_DEPLOYMENT; else deployments/<chainId>.json
    cache: VersionCache = field(default_factory=VersionCache)
    deployment_file: dict[str, Any] | None = None
    accounts: Coalescer = field(init=False)  # account lookups, coalesced per batch

    def __post_init__(self) -> None:
        async def fetch(holders: list[str], block: int | None) -> list[TupleRow]:
            async with self.pool.connection() as conn:
                return await account_rows(conn, await self.chain.resolve(conn), holders, block)

        self.accounts = Coalescer(fetch)

    async def state(self, conn: Connection) -> Indexed:
        return await read_state(conn, await self.chain.resolve(conn))

    def load_deployment_file(self, chain_id: int) -> dict[str, Any] | None:
        """The deployment file's fields (read once), or None when there is no file for this chain."""
        if self.deployment_file is None:
            from greenpoints.deployment import default_path

            path = self.deployment_path or default_path(chain_id)
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError):
                return None
            if not isinstance(data, dict) or data.get("chain_id") != chain_id:
                return None
            self.deployment_file = data
        return self.deployment_file


async def context(request: Request) -> ApiContext:
    """(Async: FastAPI runs a plain function dependency in a thread, two thread hops per request.)"""
    ctx: ApiContext = request.app.state.ctx
    return ctx


async def connection(request: Request) -> AsyncIterator[Connection]:
    """A connection from the pool for the duration of the request."""
    ctx: ApiContext = request.app.state.ctx
    async with ctx.pool.connection() as conn:
        yield conn


Ctx = Annotated[ApiContext, Depends(context)]
Conn = Annotated[Connection, Depends(connection)]
