"""What the fast path takes on itself from an activity query string, and what it leaves to the
FastAPI route (which validates and refuses): anything unknown, repeated, malformed or out of
bounds. The answers it gives are compared with the route's in `test_values.py`."""

from __future__ import annotations

import pytest

from api.fastpath import activity_page
from api.routes.accounts import KINDS
from api.routes.common import DEFAULT_LIMIT

CURSOR = "eyJzIjoiYWN0aXZpdHkifQ.dGFn"


@pytest.mark.parametrize(
    ("query", "page"),
    [
        (b"", (KINDS, DEFAULT_LIMIT, None)),
        (b"limit=7", (KINDS, 7, None)),
        (b"limit=1000", (KINDS, 1000, None)),
        (b"limit=0005", (KINDS, 5, None)),
        (f"cursor={CURSOR}&limit=3".encode(), (KINDS, 3, CURSOR)),
        (b"kind=redemption&kind=checkout", (("checkout", "redemption"), DEFAULT_LIMIT, None)),
        (b"kind=spend&kind=spend", (("spend",), DEFAULT_LIMIT, None)),
    ],
)
def test_pages_the_fast_path_answers(query: bytes, page: tuple[object, ...]) -> None:
    assert activity_page(query) == page


@pytest.mark.parametrize(
    "query",
    [
        b"limit=0",
        b"limit=1001",
        b"limit=-1",
        b"limit=1e3",
        b"limit=%EF%BC%95",  # a full-width digit
        b"limit=5&limit=6",
        b"cursor=",
        b"cursor=" + b"a" * 201,
        b"cursor=a&cursor=b",
        b"kind=mint",
        b"kind=",
        b"page=2",
        b"limit",
        b"limit=5&&kind=spend",
        "kind=spénd".encode(),
    ],
)
def test_everything_else_is_left_to_the_route(query: bytes) -> None:
    assert activity_page(query) is None
