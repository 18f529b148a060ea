"""Price candles from pool-state rows: the same in any batching, and equal to a direct grouping."""

from __future__ import annotations

import random

import pytest

from indexer.candles import INTERVALS, Candle, StateRow, batch_candles


def rows(seed: int, n: int = 400) -> list[StateRow]:
    rng = random.Random(seed)
    out: list[StateRow] = []
    block, stamp = 10, 1_700_000_000
    for _ in range(n):
        block += rng.choice((0, 1, 1, 2))
        if block != (out[-1][0] if out else None):
            stamp += rng.choice((1, 12, 30, 200, 3000, 20_000))
        index = (out[-1][1] + 1) if out and out[-1][0] == block else 0
        out.append((block, index, stamp, 0, 0, 0, rng.randrange(10**17, 10**18), "CheckedOut"))
    return out


def merge(parts: list[list[Candle]]) -> dict[tuple[int, int], tuple[int, ...]]:
    """What `indexer.candles.write`'s upsert does with batches in chain order."""
    out: dict[tuple[int, int], list[int]] = {}
    for part in parts:
        for s, b, o, h, low, c, n, fb, fl, lb, ll in part:
            m = out.get((s, b))
            if m is None:
                out[(s, b)] = [o, h, low, c, n, fb, fl, lb, ll]
            else:
                m[1], m[2], m[3], m[4], m[7], m[8] = max(m[1], h), min(m[2], low), c, m[4] + n, lb, ll
    return {k: tuple(v) for k, v in out.items()}


def direct(data: list[StateRow]) -> dict[tuple[int, int], tuple[int, ...]]:
    out: dict[tuple[int, int], tuple[int, ...]] = {}
    for seconds in INTERVALS.values():
        groups: dict[int, list[StateRow]] = {}
        for r in data:
            groups.setdefault(r[2] - r[2] % seconds, []).append(r)
        for bucket, g in groups.items():
            prices = [r[6] for r in g]
            out[(seconds, bucket)] = (
                prices[0],
                max(prices),
                min(prices),
                prices[-1],
                len(g),
                g[0][0],
                g[0][1],
                g[-1][0],
                g[-1][1],
            )
    return out


@pytest.mark.parametrize("seed", range(6))
def test_candles_are_the_same_in_any_batching(seed: int) -> None:
    data = rows(seed)
    whole = merge([batch_candles(data)])
    assert whole == direct(data)
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(data)), 7))
    parts = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    assert merge([batch_candles(p) for p in parts]) == whole
    assert batch_candles([]) == []
