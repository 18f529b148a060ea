"""JSON responses keyed by the indexed state: encoded once with msgspec, with an `ETag` made from
the state's version, `If-None-Match` answered 304, and the indexed block in a header too."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from api.mirror import Indexed

_encode = msgspec.json.Encoder().encode


def etag_of(version: str) -> str:
    return f'W/"{version}"'


def matches(if_none_match: str | None, etag: str) -> bool:
    return if_none_match is not None and (if_none_match == "*" or etag in (t.strip() for t in if_none_match.split(",")))


def not_modified(request: Request, etag: str) -> Response | None:
    """A 304 when the client already holds this version."""
    if matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": "no-cache"})
    return None


def unchanged(request: Request, state: Indexed) -> Response | None:
    """A 304 when the client already holds the answer for this indexed state."""
    return not_modified(request, etag_of(state.version))


def answer(
    if_none_match: str | None, state: Indexed, body: dict[str, Any] | bytes, version: str | None = None
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Status, headers and content of a JSON answer for `state` (304 when the client holds it)."""
    etag = etag_of(version or state.version)
    headers = [(b"etag", etag.encode()), (b"cache-control", b"no-cache")]
    if matches(if_none_match, etag):
        return 304, headers, b""
    content = body if isinstance(body, bytes) else _encode(body)
    headers += [
        (b"x-indexed-block", str(state.block).encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(content)).encode()),
    ]
    return 200, headers, content


def json_response(
    request: Request, state: Indexed, body: dict[str, Any] | bytes, *, version: str | None = None
) -> Response:
    """`body` (a dict, or bytes already encoded) for `state`; 304 when `If-None-Match` matches."""
    etag = etag_of(version or state.version)
    unchanged = not_modified(request, etag)
    if unchanged is not None:
        return unchanged
    content = body if isinstance(body, bytes) else _encode(body)
    return Response(
        content,
        media_type="application/json",
        headers={"ETag": etag, "Cache-Control": "no-cache", "X-Indexed-Block": str(state.block)},
    )


def encode(body: dict[str, Any]) -> bytes:
    return _encode(body)


class VersionCache:
    """Encoded bodies keyed by (indexed version, request key); the oldest go first. A new indexed
    block changes the version, so a body is never served for a state other than its own."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, Any], bytes] = OrderedDict()

    def get(self, version: str, key: Any) -> bytes | None:
        found = self._items.get((version, key))
        if found is not None:
            self._items.move_to_end((version, key))
        return found

    def put(self, version: str, key: Any, body: bytes) -> bytes:
        self._items[(version, key)] = body
        if len(self._items) > self.size:
            self._items.popitem(last=False)
        return body
