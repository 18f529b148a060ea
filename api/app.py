"""The application: routers, problem handlers, CORS for GET, metrics, docs and the DApp mount.

`create_app()` reads the settings itself (each uvicorn worker process calls it), so the one
command line and every worker see the same validated configuration.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from psycopg import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import problems
from api.context import ApiContext
from api.cursors import Cursors
from api.database import make_pool
from api.fastpath import FastPath
from api.metrics import MetricsMiddleware
from api.mirror import ChainChoice
from api.models import Problem
from api.routes import accounts, audit, merchants, pool, price, service
from api.settings import ApiSettings, database_url, load_api_settings
from api.static import SecurityHeaders, content_security_policy, mount_app
from greenpoints.config import Settings, load_settings

DESCRIPTION = """Read-only view of the Green Points mirror (the indexer's PostgreSQL database).

Conventions: amounts are decimal strings, as raw integer units and a decimal
(`{"raw": "42857142", "value": "42.857142"}`); prices are 18-decimal fixed point the same way;
addresses are accepted in any case (mixed case must be the EIP-55 checksum) and answered
checksummed; times are ISO-8601 UTC plus unix seconds. Every answer names the indexed block it
reflects (`indexed_block`, header `X-Indexed-Block`) and carries an `ETag` of it:
`If-None-Match` gives 304. Lists are newest first with an opaque `next_cursor` (keyset; an
altered cursor is a 400). Errors are RFC 9457 `application/problem+json` naming the field.
"""


def create_app(api: ApiSettings | None = None, shared: Settings | None = None) -> MetricsMiddleware:
    """What uvicorn serves: metrics around the fast path (`api.fastpath`) around the FastAPI app."""
    app = create_fastapi(api, shared)
    return MetricsMiddleware(FastPath(app, app.state.ctx))


def create_fastapi(api: ApiSettings | None = None, shared: Settings | None = None) -> FastAPI:
    api = api or load_api_settings()
    shared = shared or load_settings()
    url = database_url(api, shared)
    ctx = ApiContext(
        settings=api,
        pool=make_pool(url, api.pool_size, api.statement_timeout_ms),
        chain=ChainChoice(api.chain_id),
        cursors=Cursors(api.cursor_key),
        deployment_path=shared.deployment,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await ctx.pool.open(wait=False)  # serve /healthz (and 503s) even while the database is down
        try:
            yield
        finally:
            await ctx.pool.close()

    app = FastAPI(
        title="Green Points API",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        # FastAPI's own OpenTelemetry hooks off: metrics are ours (/metrics), and the check costs
        # a few environment lookups per request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.ctx = ctx
    for module in (pool, price, accounts, merchants, audit, service):
        app.include_router(module.router)
    app.add_exception_handler(problems.ApiProblem, problems.on_problem)
    app.add_exception_handler(RequestValidationError, problems.on_validation)
    app.add_exception_handler(StarletteHTTPException, problems.on_http_error)
    app.add_exception_handler(OperationalError, problems.on_database_error)
    app.add_exception_handler(Exception, problems.on_unexpected)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=api.origins,
        allow_methods=["GET"],
        allow_headers=["If-None-Match"],
        expose_headers=["ETag", "X-Indexed-Block"],
        max_age=3600,
    )
    from api.docs import mount_docs

    mount_docs(app)
    if mount_app(app, api.static_dir):
        app.add_middleware(SecurityHeaders, policy=content_security_policy(api.public_rpc_url))
    app.openapi = lambda: openapi(app)  # type: ignore[method-assign]
    return app


def openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with errors as problem+json (400, not FastAPI's 422) and the Problem schema."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    for path in document.get("paths", {}).values():
        for operation in path.values():
            operation.get("responses", {}).pop("422", None)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    app.openapi_schema = document
    return document
