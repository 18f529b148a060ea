"""Concurrent account lookups of one worker process, coalesced into one statement per batch.

A statement costs its client more than the rows it brings: psycopg's round trip, and on the
server parsing, the indexed state and the pool's price (in-process here: 289 µs of the API's CPU
per lookup one at a time, 51 µs per lookup with 20 waiting together). A lookup that arrives while
`CONCURRENCY` batches are in flight waits for the next batch and goes with everything that
arrived meanwhile: at low load a batch is one holder and nobody waits for anybody; under load the
batches grow and each lookup costs less. Every batch is one statement, so all its answers come
from one snapshot of the mirror, and that statement starts after each of its lookups arrived: no
answer is older than its request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from psycopg.rows import TupleRow

# Batches in flight per worker: one to fill while the other runs (more would only split them).
CONCURRENCY = 2
MAX_BATCH = 128

Fetch = Callable[[list[str], int | None], Awaitable[Sequence[TupleRow]]]


class Coalescer:
    """`await lookup(holder, block)` returns what `fetch(holders, block)` returned for `holder`;
    lookups of the same `block` (None: now) that wait together are fetched together."""

    def __init__(self, fetch: Fetch, concurrency: int = CONCURRENCY, max_batch: int = MAX_BATCH) -> None:
        self._fetch = fetch
        self._concurrency = concurrency
        self._max_batch = max_batch
        self._waiting: dict[int | None, list[tuple[str, asyncio.Future[Any]]]] = {}
        self._running = 0

    async def lookup(self, holder: str, block: int | None) -> TupleRow:
        future: asyncio.Future[TupleRow] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(block, []).append((holder, future))
        if self._running < self._concurrency:
            self._running += 1
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                block = next(iter(self._waiting))
                queue = self._waiting.pop(block)
                batch, rest = queue[: self._max_batch], queue[self._max_batch :]
                if rest:
                    self._waiting[block] = rest
                try:
                    rows = await self._fetch([holder for holder, _ in batch], block)
                except BaseException as exc:  # each waiter gets it (and answers as the route does)
                    for _, future in batch:
                        if future.done():
                            continue
                        if isinstance(exc, Exception):
                            future.set_exception(exc)
                        else:  # the worker is stopping
                            future.cancel()
                    if not isinstance(exc, Exception):
                        raise
                    continue
                for (_, future), row in zip(batch, rows, strict=True):
                    if not future.done():  # a waiter whose client went away is cancelled
                        future.set_result(row)
        finally:
            self._running -= 1
