"""What the routers share: documented error responses, limits, and the governance reads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from api.problems import PROBLEM_JSON

# The Problem schema is added to the document's components by `api.app` (see `openapi`).
PROBLEM_REF = "#/components/schemas/Problem"

MAX_LIMIT = 1000
DEFAULT_LIMIT = 50
ZERO = "0x" + "0" * 40
# A block number above any real one: "no upper bound" in keyset conditions.
NO_BLOCK = 2**62
# Bounds of what a client may send: block numbers and unix times that PostgreSQL's bigint and
# timestamp types hold (anything larger is refused as a 400, not a 500).
MAX_BLOCK = 2**53
MAX_TIME = 253_402_300_799  # 9999-12-31T23:59:59Z
DAY_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"

# The query parameters of every keyset-paginated route.
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
MAX_CURSOR = 200
Cursor = Annotated[str | None, Query(max_length=MAX_CURSOR, description="from the previous page's `next_cursor`")]

_EXAMPLES: dict[int, dict[str, Any]] = {
    304: {},
    400: {
        "type": "urn:greenpoints:problem:invalid-parameter",
        "title": "Bad Request",
        "status": 400,
        "detail": "limit: Input should be less than or equal to 1000",
        "instance": "/v1/price/history",
        "field": "limit",
        "errors": [{"field": "limit", "in": "query", "message": "Input should be less than or equal to 1000"}],
    },
    404: {
        "type": "urn:greenpoints:problem:not-found",
        "title": "Not Found",
        "status": 404,
        "detail": "no merchant 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 in the mirror",
        "instance": "/v1/merchants/0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    },
    503: {
        "type": "urn:greenpoints:problem:unavailable",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "the database cannot be reached",
        "instance": "/v1/pool",
    },
}
_DESCRIPTIONS = {
    304: "Not modified: the `If-None-Match` ETag is the indexed state's",
    400: "A parameter is invalid (the problem names it)",
    404: "Not found",
    503: "The database is unreachable or holds no mirror yet",
}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the listed error codes (and 304), as problem+json with an example."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in (304, *codes):
        if code == 304:
            out[code] = {"description": _DESCRIPTIONS[code], "content": {}}
        else:
            out[code] = {
                "description": _DESCRIPTIONS[code],
                "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}, "example": _EXAMPLES[code]}},
            }
    return out


READ_ERRORS = problems(400, 503)
ITEM_ERRORS = problems(400, 404, 503)
