"""The two hottest answers without FastAPI's per-request machinery: `GET /healthz` and
`GET /v1/accounts/{address}` (optionally `?block=N`).

Profiling showed FastAPI's router and dependency resolution costing more CPU per request than the
account lookup itself (about 1 ms of the 1.2 ms a constant `/healthz` took), and Starlette's
middleware stack (error handling, body limit, CORS, each wrapping `send`) a good share of what
was left. This pure ASGI layer, inside the metrics middleware and in front of all of FastAPI,
answers those two with the same code the routes use (`api.routes.accounts.account_answer`), so
the answers are the same. It handles only the success path of requests without an `Origin`
header (cross-origin requests go through the CORS middleware): anything it does not recognise,
and every error, goes on to the FastAPI app, which answers (or refuses) as documented.
"""

from __future__ import annotations

import re
from typing import Any

from api.context import ApiContext
from api.problems import ApiProblem
from api.responses import answer
from api.routes.accounts import account_answer
from api.routes.common import MAX_BLOCK
from api.routes.service import HEALTHY
from api.shapes import AddressError, parse_address

_ACCOUNT = re.compile(r"/v1/accounts/(0x[0-9a-fA-F]{40})")
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
            if path.startswith("/v1/accounts/") and await self._account(scope, send, path):
                return
        await self.app(scope, receive, send)

    async def _account(self, scope: dict[str, Any], send: Any, path: str) -> bool:
        found = _ACCOUNT.fullmatch(path)
        if found is None:
            return False
        query = scope["query_string"]
        block: int | None = None
        if query:
            given = _BLOCK.fullmatch(query)
            if given is None or int(given.group(1)) > MAX_BLOCK:
                return False
            block = int(given.group(1))
        try:
            holder = parse_address(found.group(1))
            state, body, version = await account_answer(self.ctx, holder, block)
        except (AddressError, ApiProblem):
            return False  # the route refuses it, as documented
        except Exception:  # e.g. the database is down: the route answers with a problem
            return False
        if_none_match = None
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                if_none_match = value.decode("latin-1")
        status, headers, content = answer(if_none_match, state, body, version)
        headers.append(_VARY)
        scope["route"] = ACCOUNT_ROUTE
        await _send(send, status, headers, content)
        return True


def _has_origin(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(name == b"origin" for name, _ in headers)


async def _send(send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
