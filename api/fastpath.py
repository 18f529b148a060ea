"""The hottest answers without FastAPI's per-request machinery: `GET /healthz`,
`GET /v1/accounts/{address}` (optionally `?block=N`) and `GET /v1/accounts/{address}/activity`
(optionally `limit`, `cursor`, `kind`: the wallet's pages).

Profiling showed FastAPI's router and dependency resolution costing more CPU per request than the
account lookup itself (about 1 ms of the 1.2 ms a constant `/healthz` took). This pure ASGI
layer, inside the metrics middleware and in front of all of FastAPI (router and middleware),
answers those with the same code the routes use (`api.routes.accounts.account_answer` and
`activity_answer`), so the answers are the same. It handles only the success path of requests
without an `Origin` header (cross-origin requests go through the CORS middleware): anything it
does not recognise, and every error, goes on to the FastAPI app, which answers (or refuses) as
documented.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from api.context import ApiContext
from api.problems import ApiProblem, unavailable_response
from api.responses import answer
from api.routes.accounts import KINDS, account_answer, activity_answer
from api.routes.common import DEFAULT_LIMIT, MAX_BLOCK, MAX_CURSOR, MAX_LIMIT
from api.routes.service import HEALTHY
from api.shapes import AddressError, parse_address

_ACCOUNT = re.compile(r"/v1/accounts/(0x[0-9a-fA-F]{40})(/activity)?")
_LIMIT = re.compile(r"[0-9]{1,4}")
_BLOCK = re.compile(rb"block=([0-9]{1,16})")
# What the CORS middleware adds to an answer to a request without `Origin`.
_VARY = (b"vary", b"Origin")
_HEALTH_HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(HEALTHY)).encode()),
    _VARY,
]


class _Route:
    """What the metrics middleware reads from `scope["route"]`."""

    def __init__(self, path: str) -> None:
        self.path = path


HEALTH_ROUTE = _Route("/healthz")
ACCOUNT_ROUTE = _Route("/v1/accounts/{address}")
ACTIVITY_ROUTE = _Route("/v1/accounts/{address}/activity")


class FastPath:
    def __init__(self, app: Any, ctx: ApiContext) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and not _has_origin(scope["headers"]):
            path = scope["path"]
            if path == "/healthz" and not scope["query_string"]:
                scope["route"] = HEALTH_ROUTE
                await _send(send, 200, _HEALTH_HEADERS, HEALTHY)
                return
            if path.startswith("/v1/accounts/") and await self._account(scope, receive, send, path):
                return
        await self.app(scope, receive, send)

    async def _account(self, scope: dict[str, Any], receive: Any, send: Any, path: str) -> bool:
        found = _ACCOUNT.fullmatch(path)
        if found is None:
            return False
        query = scope["query_string"]
        route = ACTIVITY_ROUTE if found.group(2) else ACCOUNT_ROUTE
        try:
            holder = parse_address(found.group(1))
            if route is ACTIVITY_ROUTE:
                page = activity_page(query)
                if page is None:
                    return False
                async with self.ctx.pool.connection() as conn:
                    state, body = await activity_answer(self.ctx, conn, holder, *page)
                version = state.version
            else:
                block: int | None = None
                if query:
                    given = _BLOCK.fullmatch(query)
                    if given is None or int(given.group(1)) > MAX_BLOCK:
                        return False
                    block = int(given.group(1))
                state, body, version = await account_answer(self.ctx, holder, block)
        except (AddressError, ApiProblem):
            return False  # the route refuses it, as documented
        except Exception as exc:
            # The database is down or too slow: answered here, as the route would, rather than
            # making the client wait for the route's own try (another pool timeout).
            refusal = unavailable_response(exc, path, {"Vary": "Origin"})
            if refusal is None:
                return False  # the route answers (a 500, logged)
            scope["route"] = route
            await refusal(scope, receive, send)
            return True
        if_none_match = None
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                if_none_match = value.decode("latin-1")
        status, headers, content = answer(if_none_match, state, body, version)
        headers.append(_VARY)
        scope["route"] = route
        await _send(send, status, headers, content)
        return True


def activity_page(query: bytes) -> tuple[tuple[str, ...], int, str | None] | None:
    """The kinds, limit and cursor of an activity query string, or None for anything the route
    should judge (an unknown, repeated, malformed or out-of-bounds parameter)."""
    if not query:
        return KINDS, DEFAULT_LIMIT, None
    try:
        pairs = parse_qsl(query.decode("ascii"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return None
    limit: int | None = None
    cursor: str | None = None
    wanted: set[str] = set()
    for name, value in pairs:
        if name == "limit" and limit is None and _LIMIT.fullmatch(value) and 1 <= int(value) <= MAX_LIMIT:
            limit = int(value)
        elif name == "cursor" and cursor is None and 0 < len(value) <= MAX_CURSOR:
            cursor = value
        elif name == "kind" and value in KINDS:
            wanted.add(value)
        else:
            return None
    kinds = tuple(k for k in KINDS if not wanted or k in wanted)
    return kinds, DEFAULT_LIMIT if limit is None else limit, cursor


def _has_origin(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(name == b"origin" for name, _ in headers)


async def _send(send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
