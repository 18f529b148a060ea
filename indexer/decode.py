"""Decode the pool's and the points token's logs straight from topics/data hex into `Event`s.

The event layouts are fixed by the contracts; topics come from the compiled ABIs. Decoding is
plain string slicing and `int(x, 16)`, with no web3 contract machinery on the hot path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_utils import event_abi_to_log_topic

from greenpoints.artifacts import abi
from indexer.errors import IndexerError

ZERO_ADDRESS = "0x" + "0" * 40
# Events whose `reserveAfter`/`supplyAfter` describe the pool after the change.
STATE_EVENTS = frozenset({"CheckedOut", "Redeemed", "Spent", "Funded", "PointsBurned"})

# The events we decode: contract, name, and per parameter (name, kind, indexed).
_LAYOUTS: tuple[tuple[str, str, tuple[tuple[str, str, bool], ...]], ...] = (
    (
        "DividendPool",
        "CheckedOut",
        (
            ("merchant", "address", True),
            ("customer", "address", True),
            ("orderId", "bytes32", True),
            ("saleAmount", "uint", False),
            ("points", "uint", False),
            ("poolIn", "uint", False),
            ("reserveAfter", "uint", False),
            ("supplyAfter", "uint", False),
        ),
    ),
    (
        "DividendPool",
        "Redeemed",
        (
            ("holder", "address", True),
            ("points", "uint", False),
            ("payout", "uint", False),
            ("tax", "uint", False),
            ("kept", "uint", False),
            ("reserveAfter", "uint", False),
            ("supplyAfter", "uint", False),
        ),
    ),
    (
        "DividendPool",
        "Spent",
        (
            ("holder", "address", True),
            ("merchant", "address", True),
            ("orderId", "bytes32", True),
            ("points", "uint", False),
            ("reserveAfter", "uint", False),
            ("supplyAfter", "uint", False),
        ),
    ),
    (
        "DividendPool",
        "Funded",
        (
            ("from", "address", True),
            ("amount", "uint", False),
            ("reserveAfter", "uint", False),
            ("supplyAfter", "uint", False),
        ),
    ),
    ("DividendPool", "TaxWithdrawn", (("to", "address", True), ("amount", "uint", False))),
    (
        "DividendPool",
        "MerchantSet",
        (
            ("merchant", "address", True),
            ("rateBps", "uint", False),
            ("dailyCap", "uint", False),
            ("active", "bool", False),
        ),
    ),
    ("DividendPool", "FeesSet", (("feeBps", "uint", False), ("taxBps", "uint", False))),
    ("DividendPool", "PoolShareSet", (("poolShareBps", "uint", False),)),
    ("DividendPool", "TaxCollectorSet", (("collector", "address", True),)),
    ("PointsToken", "Transfer", (("from", "address", True), ("to", "address", True), ("value", "uint", False))),
    ("PointsToken", "Approval", (("owner", "address", True), ("spender", "address", True), ("value", "uint", False))),
    (
        "PointsToken",
        "PointsBurned",
        (
            ("holder", "address", True),
            ("amount", "uint", False),
            ("reserveAfter", "uint", False),
            ("supplyAfter", "uint", False),
        ),
    ),
)

ArgValue = int | str | bool


@dataclass(slots=True)
class Event:
    """One decoded log. `args` holds ints for uint, lowercase hex for address/bytes32, bools."""

    block_number: int
    log_index: int
    block_hash: str
    block_time: int
    tx_hash: str
    address: str
    name: str
    args: dict[str, ArgValue]

    def args_json(self) -> str:
        """`args` as JSON with every uint as a decimal string (uint256 does not fit a JSON number)."""
        parts = []
        for key, value in self.args.items():
            if value is True:
                parts.append(f'"{key}":true')
            elif value is False:
                parts.append(f'"{key}":false')
            else:
                parts.append(f'"{key}":"{value}"')
        return "{" + ",".join(parts) + "}"


@dataclass(frozen=True)
class _Layout:
    contract: str
    name: str
    topics: int  # topic0 plus the indexed parameters
    data_length: int  # hex characters of data, with the 0x
    args: Callable[[list[str], str], dict[str, ArgValue]]


def _arg_source(kind: str, word: str) -> str:
    """Python source decoding one ABI word (`word` is an expression giving 64 hex characters or 0x+64)."""
    if kind == "uint":
        return f"int({word}, 16)"
    if kind == "bool":
        return f"int({word}, 16) != 0"
    if kind == "address":
        return f'"0x" + {word}[-40:].lower()'
    return f"{word}.lower()"  # bytes32, kept with its 0x


def _compile_args(
    name: str, params: tuple[tuple[str, str, bool], ...]
) -> Callable[[list[str], str], dict[str, ArgValue]]:
    """A function (topics, data) -> args for one event layout: straight-line slicing, no loops.

    Generated from the constant layouts above (never from input), because a generic loop over the
    parameters costs several times more per log on the hot path.
    """
    items = []
    topic = 1
    offset = 2
    for param, kind, indexed in params:
        if indexed:
            word = f"t[{topic}]"
            topic += 1
        else:
            word = f"d[{offset}:{offset + 64}]"
            offset += 64
            if kind == "bytes32":
                word = f'"0x" + {word}'
        items.append(f"{param!r}: {_arg_source(kind, word)}")
    source = f"def args_{name}(t, d):\n    return {{{', '.join(items)}}}\n"
    scope: dict[str, Any] = {}
    exec(compile(source, f"<decode {name}>", "exec"), scope)
    decoder: Callable[[list[str], str], dict[str, ArgValue]] = scope[f"args_{name}"]
    return decoder


@cache
def layouts() -> dict[str, _Layout]:
    """topic0 (lowercase 0x-hex) -> layout, with topics computed from the compiled ABIs."""
    out: dict[str, _Layout] = {}
    for contract, name, params in _LAYOUTS:
        fragment = _find_event(abi(contract), name)
        abi_params = [(p["name"], bool(p["indexed"])) for p in fragment["inputs"]]
        if abi_params != [(n, indexed) for n, _, indexed in params]:
            raise IndexerError(f"the ABI of {contract}.{name} changed; update indexer/decode.py")
        topic = "0x" + event_abi_to_log_topic(fragment).hex()  # type: ignore[arg-type]
        indexed = sum(1 for _, _, i in params if i)
        out[topic] = _Layout(
            contract=contract,
            name=name,
            topics=1 + indexed,
            data_length=2 + 64 * (len(params) - indexed),
            args=_compile_args(name, params),
        )
    return out


def _find_event(contract_abi: list[dict[str, Any]], name: str) -> dict[str, Any]:
    for item in contract_abi:
        if item.get("type") == "event" and item.get("name") == name:
            return item
    raise IndexerError(f"event {name} not found in the compiled ABI; run `greenpoints build`")


def decode_log(raw: dict[str, Any], sources: dict[str, str]) -> Event | None:
    """Decode one `eth_getLogs` entry; None for a log we do not know (it is skipped).

    `sources` maps a lowercase contract address to its contract name ("DividendPool",
    "PointsToken"): a known event from another contract is not ours. The block time comes from
    the log's `blockTimestamp` (recent nodes); else it is -1 and the caller fills it in.
    """
    topics: list[str] = raw["topics"]
    if not topics or raw.get("removed"):
        return None
    table = layouts()
    layout = table.get(topics[0]) or table.get(topics[0].lower())
    if layout is None:
        return None
    address: str = raw["address"]
    if sources.get(address) != layout.contract:
        address = address.lower()
        if sources.get(address) != layout.contract:
            return None
    data: str = raw["data"]
    if len(topics) != layout.topics or len(data) < layout.data_length:
        return None
    stamp = raw.get("blockTimestamp")
    return Event(
        int(raw["blockNumber"], 16),
        int(raw["logIndex"], 16),
        raw["blockHash"].lower(),
        -1 if stamp is None else int(stamp, 16),
        raw["transactionHash"].lower(),
        address,
        layout.name,
        layout.args(topics, data),
    )


def decode_logs(raws: Iterable[dict[str, Any]], pool: str, token: str) -> list[Event]:
    """Decode the logs of `pool` and `token`, skipping unknown and `removed` ones; in chain order."""
    sources = {pool.lower(): "DividendPool", token.lower(): "PointsToken"}
    events = [e for raw in raws if (e := decode_log(raw, sources)) is not None]
    events.sort(key=lambda e: (e.block_number, e.log_index))
    return events
