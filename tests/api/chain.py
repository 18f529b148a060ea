"""What the chain itself says, read with web3 (eth_call at a block, eth_getLogs): the tests'
independent side, never the mirror's tables."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from web3 import Web3

from greenpoints.chain import contract
from greenpoints.deployment import Deployment

STATE_EVENTS = ("CheckedOut", "Redeemed", "Spent", "Funded")
ZERO = "0x" + "0" * 40


@dataclass(frozen=True)
class Log:
    name: str
    block: int
    index: int
    tx_hash: str
    args: dict[str, Any]


def logs(w3: Web3, deployment: Deployment, to_block: int) -> list[Log]:
    """Every pool and token event up to `to_block`, in chain order (addresses lowercase)."""
    pool = contract(w3, "DividendPool", deployment.pool)
    token = contract(w3, "PointsToken", deployment.points_token)
    out: list[Log] = []
    span = {"from_block": deployment.deployment_block, "to_block": to_block}
    for source, names in (
        (pool, (*STATE_EVENTS, "TaxWithdrawn", "MerchantSet")),
        (token, ("Transfer", "PointsBurned")),
    ):
        for name in names:
            for entry in getattr(source.events, name).get_logs(**span):
                args = {
                    k: (v.lower() if isinstance(v, str) and v.startswith("0x") else v) for k, v in entry.args.items()
                }
                if isinstance(args.get("orderId"), bytes):
                    args["orderId"] = "0x" + args["orderId"].hex()
                out.append(Log(name, entry.blockNumber, entry.logIndex, entry.transactionHash.to_0x_hex(), args))
    return sorted(out, key=lambda e: (e.block, e.index))


def block_times(w3: Web3, numbers: set[int]) -> dict[int, int]:
    return {n: int(w3.eth.get_block(n)["timestamp"]) for n in numbers}


def price_of(reserve: int, supply: int, decimals: int) -> int:
    return 0 if supply == 0 else reserve * 10 ** (18 - decimals) * 10**18 // supply


@dataclass(frozen=True)
class Point:
    block: int
    index: int
    time: int
    reserve: int
    supply: int
    price: int
    kind: str


def price_series(events: list[Log], times: dict[int, int], decimals: int) -> list[Point]:
    """The pool state after each change, rebuilt from the events alone (SPEC §3.5)."""
    out: list[Point] = []
    reserve = supply = 0
    for e in events:
        if e.name in (*STATE_EVENTS, "PointsBurned", "TaxWithdrawn"):
            reserve, supply = int(e.args["reserveAfter"]), int(e.args["supplyAfter"])
        else:
            continue
        out.append(
            Point(e.block, e.index, times[e.block], reserve, supply, price_of(reserve, supply, decimals), e.name)
        )
    return out


def candles(series: list[Point], seconds: int, last_time: int) -> list[tuple[int, int, int, int, int, int]]:
    """(bucket, open, high, low, close, changes) for every bucket from the first change's to the one
    of `last_time`, flat at the previous close where nothing changed: computed here, independently."""
    if not series:
        return []
    grouped: dict[int, list[int]] = {}
    for p in series:
        grouped.setdefault(p.time - p.time % seconds, []).append(p.price)
    out = []
    close = None
    bucket = min(grouped)
    while bucket <= last_time - last_time % seconds:
        prices = grouped.get(bucket)
        if prices:
            out.append((bucket, prices[0], max(prices), min(prices), prices[-1], len(prices)))
            close = prices[-1]
        else:
            assert close is not None
            out.append((bucket, close, close, close, close, 0))
        bucket += seconds
    return out


def pages(get: Any, path: str, **params: Any) -> Iterator[dict[str, Any]]:
    """Every item of a paginated listing, following `next_cursor`."""
    cursor = None
    while True:
        query = dict(params)
        if cursor is not None:
            query["cursor"] = cursor
        body = get(path, **query)
        yield from body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return
