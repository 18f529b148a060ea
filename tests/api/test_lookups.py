"""The account lookups' coalescer (`api.lookups`): who waits together is fetched together, each
waiter gets its own row, failures reach exactly the waiters of the failed batch.

`fetch` here is a plain function recording its calls (the coalescer takes it as a parameter): the
statement itself runs against the real mirror in `test_values.py`, under concurrent load too.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from api.lookups import Coalescer


class Recorder:
    """A fetch answering (holder, block) per holder, after `delay`; fails for holders in `failing`."""

    def __init__(self, delay: float = 0.0, failing: frozenset[str] = frozenset()) -> None:
        self.calls: list[tuple[list[str], int | None]] = []
        self.delay = delay
        self.failing = failing
        self.in_flight = 0
        self.most_in_flight = 0

    async def __call__(self, holders: list[str], block: int | None) -> list[Any]:
        self.calls.append((list(holders), block))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            if self.failing & set(holders):
                raise ConnectionError(f"fetch of {holders} failed")
            return [(holder, block) for holder in holders]
        finally:
            self.in_flight -= 1


def run(coroutine: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, 5))  # a waiter never answered fails, not hangs


def test_lookups_that_wait_together_are_one_fetch_each_answered_its_own_row() -> None:
    fetch = Recorder()

    async def scenario() -> list[Any]:
        lookups = Coalescer(fetch, concurrency=1)
        return await asyncio.gather(*(lookups.lookup(f"h{i}", None) for i in range(10)))

    assert run(scenario()) == [(f"h{i}", None) for i in range(10)]
    assert fetch.calls == [([f"h{i}" for i in range(10)], None)]


def test_lookups_arriving_while_a_batch_runs_go_in_the_next_one() -> None:
    fetch = Recorder(delay=0.02)

    async def scenario() -> list[Any]:
        lookups = Coalescer(fetch, concurrency=1)
        first = asyncio.ensure_future(lookups.lookup("a", None))
        await asyncio.sleep(0.005)  # the first batch ("a") is running
        later = [asyncio.ensure_future(lookups.lookup(h, None)) for h in ("b", "c", "d")]
        return await asyncio.gather(first, *later)

    assert run(scenario()) == [("a", None), ("b", None), ("c", None), ("d", None)]
    assert fetch.calls == [(["a"], None), (["b", "c", "d"], None)]


def test_each_block_is_its_own_batch_and_batches_are_bounded() -> None:
    fetch = Recorder()

    async def scenario() -> list[Any]:
        lookups = Coalescer(fetch, concurrency=1, max_batch=3)
        wanted = [("x", None), ("y", 7), ("z", None), ("w", 7), ("v", None), ("u", None), ("t", None)]
        return await asyncio.gather(*(lookups.lookup(h, b) for h, b in wanted))

    assert run(scenario()) == [("x", None), ("y", 7), ("z", None), ("w", 7), ("v", None), ("u", None), ("t", None)]
    assert sorted(fetch.calls, key=str) == sorted(
        [(["x", "z", "v"], None), (["u", "t"], None), (["y", "w"], 7)], key=str
    )
    assert all(len(holders) <= 3 for holders, _ in fetch.calls)


def test_a_failed_batch_fails_its_waiters_only_and_later_batches_still_run() -> None:
    fetch = Recorder(delay=0.01, failing=frozenset({"bad"}))

    async def scenario() -> tuple[list[Any], Any]:
        lookups = Coalescer(fetch, concurrency=1)
        doomed = [asyncio.ensure_future(lookups.lookup(h, None)) for h in ("ok1", "bad")]
        await asyncio.sleep(0)  # both in the first batch
        other = asyncio.ensure_future(lookups.lookup("ok2", 5))
        outcomes = await asyncio.gather(*doomed, return_exceptions=True)
        return outcomes, await other

    outcomes, other = run(scenario())
    assert all(isinstance(o, ConnectionError) for o in outcomes)
    assert other == ("ok2", 5)


def test_a_waiter_that_goes_away_leaves_the_others_their_answers() -> None:
    fetch = Recorder(delay=0.02)

    async def scenario() -> list[Any]:
        lookups = Coalescer(fetch, concurrency=1)
        waiters = [asyncio.ensure_future(lookups.lookup(h, None)) for h in ("a", "b", "c")]
        await asyncio.sleep(0.005)
        waiters[1].cancel()  # its client disconnected
        return await asyncio.gather(*waiters, return_exceptions=True)

    a, b, c = run(scenario())
    assert (a, c) == (("a", None), ("c", None))
    assert isinstance(b, asyncio.CancelledError)


@pytest.mark.parametrize("concurrency", [1, 2, 3])
def test_no_more_batches_in_flight_than_the_concurrency(concurrency: int) -> None:
    fetch = Recorder(delay=0.002)

    async def scenario() -> list[Any]:
        lookups = Coalescer(fetch, concurrency=concurrency, max_batch=2)
        waiters = []
        for i in range(60):
            waiters.append(asyncio.ensure_future(lookups.lookup(f"h{i}", None)))
            if i % 5 == 0:
                await asyncio.sleep(0.001)
        return await asyncio.gather(*waiters)

    assert run(scenario()) == [(f"h{i}", None) for i in range(60)]
    assert fetch.most_in_flight == concurrency
    assert sum(len(holders) for holders, _ in fetch.calls) == 60
