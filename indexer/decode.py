"""Decode the pool's and the points token's logs straight from topics/data hex into `Event`s.

The event layouts are fixed by the contracts; topics come from the compiled ABIs. Decoding is
plain string slicing and `int(x, 16)`, with no web3 contract machinery on the hot path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from operator import attrgetter
from typing import Any

from eth_hash.auto import keccak

from greenpoints.artifacts import abi
from indexer.errors import IndexerError
from indexer.rpc import Log

ZERO_ADDRESS = "0x" + "0" * 40
# Events whose `reserveAfter`/`supplyAfter` describe the pool after the change.
STATE_EVENTS = frozenset({"CheckedOut", "Redeemed", "Spent", "Funded", "PointsBurned", "TaxWithdrawn"})

# The events we decode: contract, event, the table its rows go to (see the 0002 migration), and
# per parameter (ABI name, column, kind, indexed). "uint" covers every uintN.
_LAYOUTS: tuple[tuple[str, str, str, tuple[tuple[str, str, str, bool], ...]], ...] = (
    (
        "DividendPool",
        "CheckedOut",
        "checkouts",
        (
            ("merchant", "merchant", "address", True),
            ("customer", "customer", "address", True),
            ("orderId", "order_id", "bytes32", True),
            ("saleAmount", "sale_amount", "uint", False),
            ("points", "points", "uint", False),
            ("poolIn", "pool_in", "uint", False),
            ("reserveAfter", "reserve_after", "uint", False),
            ("supplyAfter", "supply_after", "uint", False),
        ),
    ),
    (
        "DividendPool",
        "Redeemed",
        "redemptions",
        (
            ("holder", "holder", "address", True),
            ("points", "points", "uint", False),
            ("payout", "payout", "uint", False),
            ("tax", "tax", "uint", False),
            ("kept", "kept", "uint", False),
            ("reserveAfter", "reserve_after", "uint", False),
            ("supplyAfter", "supply_after", "uint", False),
        ),
    ),
    (
        "DividendPool",
        "Spent",
        "spends",
        (
            ("holder", "holder", "address", True),
            ("merchant", "merchant", "address", True),
            ("orderId", "order_id", "bytes32", True),
            ("points", "points", "uint", False),
            ("reserveAfter", "reserve_after", "uint", False),
            ("supplyAfter", "supply_after", "uint", False),
        ),
    ),
    (
        "DividendPool",
        "Funded",
        "fundings",
        (
            ("from", "funder", "address", True),
            ("amount", "amount", "uint", False),
            ("reserveAfter", "reserve_after", "uint", False),
            ("supplyAfter", "supply_after", "uint", False),
        ),
    ),
    (
        "DividendPool",
        "TaxWithdrawn",
        "tax_withdrawals",
        (
            ("to", "recipient", "address", True),
            ("amount", "amount", "uint", False),
            ("reserveAfter", "reserve_after", "uint", False),
            ("supplyAfter", "supply_after", "uint", False),
        ),
    ),
    (
        "DividendPool",
        "SpendPermissionsCancelled",
        "spend_permission_cancellations",
        (("holder", "holder", "address", True), ("nonce", "nonce", "uint", False)),
    ),
    ("DividendPool", "GlobalDailyCapSet", "global_cap_updates", (("cap", "cap", "uint", False),)),
    (
        "DividendPool",
        "DefaultAdminTransferScheduled",
        "admin_transfer_schedules",
        (("newAdmin", "new_admin", "address", True), ("acceptSchedule", "accept_schedule", "uint", False)),
    ),
    ("DividendPool", "DefaultAdminTransferCanceled", "admin_transfer_cancellations", ()),
    (
        "DividendPool",
        "DefaultAdminDelayChangeScheduled",
        "admin_delay_schedules",
        (("newDelay", "new_delay", "uint", False), ("effectSchedule", "effect_schedule", "uint", False)),
    ),
    ("DividendPool", "DefaultAdminDelayChangeCanceled", "admin_delay_cancellations", ()),
    (
        "DividendPool",
        "MerchantSet",
        "merchant_updates",
        (
            ("merchant", "merchant", "address", True),
            ("rateBps", "rate_bps", "uint", False),
            ("dailyCap", "daily_cap", "uint", False),
            ("active", "active", "bool", False),
        ),
    ),
    (
        "DividendPool",
        "FeesSet",
        "fee_updates",
        (("feeBps", "fee_bps", "uint", False), ("taxBps", "tax_bps", "uint", False)),
    ),
    ("DividendPool", "PoolShareSet", "pool_share_updates", (("poolShareBps", "pool_share_bps", "uint", False),)),
    ("DividendPool", "TaxCollectorSet", "tax_collector_updates", (("collector", "collector", "address", True),)),
    ("DividendPool", "Paused", "pauses", (("account", "account", "address", False),)),
    ("DividendPool", "Unpaused", "unpauses", (("account", "account", "address", False),)),
    (
        "DividendPool",
        "RoleGranted",
        "role_grants",
        (
            ("role", "role", "bytes32", True),
            ("account", "account", "address", True),
            ("sender", "sender", "address", True),
        ),
    ),
    (
        "DividendPool",
        "RoleRevoked",
        "role_revocations",
        (
            ("role", "role", "bytes32", True),
            ("account", "account", "address", True),
            ("sender", "sender", "address", True),
        ),
    ),
    (
        "DividendPool",
        "RoleAdminChanged",
        "role_admin_changes",
        (
            ("role", "role", "bytes32", True),
            ("previousAdminRole", "previous_admin_role", "bytes32", True),
            ("newAdminRole", "new_admin_role", "bytes32", True),
        ),
    ),
    (
        "PointsToken",
        "Transfer",
        "transfers",
        (("from", "sender", "address", True), ("to", "receiver", "address", True), ("value", "value", "uint", False)),
    ),
    (
        "PointsToken",
        "Approval",
        "approvals",
        (
            ("owner", "owner", "address", True),
            ("spender", "spender", "address", True),
            ("value", "value", "uint", False),
        ),
    ),
    (
        "PointsToken",
        "PointsBurned",
        "point_burns",
        (
            ("holder", "holder", "address", True),
            ("amount", "amount", "uint", False),
            ("reserveAfter", "reserve_after", "uint", False),
            ("supplyAfter", "supply_after", "uint", False),
        ),
    ),
)

ArgValue = int | str | bool
# The columns of an event table, in order (the key columns, then the parameters in ABI order).
KEY_COLUMNS = ("chain_id", "block_number", "log_index", "tx_hash")
TABLES: dict[str, tuple[str, ...]] = {table: tuple(p[1] for p in params) for _, _, table, params in _LAYOUTS}
TABLE_OF: dict[str, str] = {name: table for _, name, table, _ in _LAYOUTS}


@dataclass(slots=True)
class Event:
    """One decoded log. `args` holds ints for uint, lowercase hex for address/bytes32, bools;
    `row` is its table's parameter columns as COPY text (tab-separated), made while decoding."""

    block_number: int
    log_index: int
    block_hash: str
    block_time: int
    tx_hash: str
    address: str
    name: str
    args: dict[str, ArgValue]
    row: str = ""


@dataclass(frozen=True)
class _Layout:
    contract: str
    name: str
    topics: int  # topic0 plus the indexed parameters
    data_length: int  # hex characters of data, with the 0x
    decode: Callable[[list[str], str], tuple[dict[str, ArgValue], str]]


def _arg_source(kind: str, word: str) -> str:
    """Python source decoding one ABI word (`word` is an expression giving 64 hex characters or 0x+64)."""
    if kind == "uint":
        return f"int({word}, 16)"
    if kind == "bool":
        return f"int({word}, 16) != 0"
    if kind == "address":
        return f'"0x" + {word}[-40:]'
    return word  # bytes32, kept with its 0x


def _compile_decoder(
    name: str, params: tuple[tuple[str, str, str, bool], ...]
) -> Callable[[list[str], str], tuple[dict[str, ArgValue], str]]:
    """A function (topics, data) -> (args, COPY row text) for one layout: straight-line slicing.

    Generated from the constant layouts above (never from input), because a generic loop over the
    parameters costs several times more per log on the hot path.
    """
    lines = []
    items = []
    cells = []
    topic = 1
    offset = 2
    for i, (param, _, kind, indexed) in enumerate(params):
        if indexed:
            word = f"t[{topic}]"
            topic += 1
        else:
            word = f"d[{offset}:{offset + 64}]"
            offset += 64
            if kind == "bytes32":
                word = f'"0x" + {word}'
        lines.append(f"    v{i} = {_arg_source(kind, word)}")
        items.append(f"{param!r}: v{i}")
        cells.append(f"{{'t' if v{i} else 'f'}}" if kind == "bool" else f"{{v{i}}}")
    body = "\n".join(lines)
    row = "\\t".join(cells)
    source = f'def decode_{name}(t, d):\n{body}\n    return {{{", ".join(items)}}}, f"{row}"\n'
    scope: dict[str, Any] = {}
    exec(compile(source, f"<decode {name}>", "exec"), scope)
    decoder: Callable[[list[str], str], tuple[dict[str, ArgValue], str]] = scope[f"decode_{name}"]
    return decoder


@cache
def layouts() -> dict[str, _Layout]:
    """topic0 (lowercase 0x-hex) -> layout, with topics computed from the compiled ABIs."""
    out: dict[str, _Layout] = {}
    for contract, name, _, params in _LAYOUTS:
        fragment = _find_event(abi(contract), name)
        abi_params = [(p["name"], bool(p["indexed"])) for p in fragment["inputs"]]
        if abi_params != [(n, indexed) for n, _, _, indexed in params]:
            raise IndexerError(f"the ABI of {contract}.{name} changed; update indexer/decode.py")
        topic = "0x" + keccak(_signature(fragment).encode()).hex()
        indexed = sum(1 for *_, i in params if i)
        out[topic] = _Layout(
            contract=contract,
            name=name,
            topics=1 + indexed,
            data_length=2 + 64 * (len(params) - indexed),
            decode=_compile_decoder(name, params),
        )
    return out


def _signature(fragment: dict[str, Any]) -> str:
    """`Name(type,type,...)`: what topic0 hashes (our events have no tuple parameters)."""
    return f"{fragment['name']}({','.join(p['type'] for p in fragment['inputs'])})"


def _find_event(contract_abi: list[dict[str, Any]], name: str) -> dict[str, Any]:
    for item in contract_abi:
        if item.get("type") == "event" and item.get("name") == name:
            return item
    raise IndexerError(f"event {name} not found in the compiled ABI; run `greenpoints build`")


def decode_logs(raws: Iterable[Log], pool: str, token: str) -> list[Event]:
    """Decode the logs of `pool` and `token` into events, in chain order.

    `raws` are lowercase (see `indexer.rpc.Log`). A log is skipped when it is `removed`, of an
    event we do not know, or of a known event but from another contract (or with another
    layout). The block time comes from the log's `blockTimestamp` (recent nodes); else it is -1
    and the caller fills it in. One loop with local names, as this runs for every log of a
    backfill; the block's fields are converted once per block.
    """
    sources = {pool.lower(): "DividendPool", token.lower(): "PointsToken"}
    table = layouts()
    events: list[Event] = []
    append = events.append
    number_hex = ""
    block_number = block_time = -1
    for raw in raws:
        topics = raw.topics
        if not topics or raw.removed:
            continue
        layout = table.get(topics[0])
        if layout is None or sources.get(raw.address) != layout.contract:
            continue
        data = raw.data
        if len(topics) != layout.topics or len(data) < layout.data_length:
            continue
        if raw.blockNumber != number_hex:
            number_hex = raw.blockNumber
            block_number = int(number_hex, 16)
            stamp = raw.blockTimestamp
            block_time = -1 if stamp is None else int(stamp, 16)
        args, row = layout.decode(topics, data)
        append(
            Event(
                block_number,
                int(raw.logIndex, 16),
                raw.blockHash,
                block_time,
                raw.transactionHash,
                raw.address,
                layout.name,
                args,
                row,
            )
        )
    events.sort(key=_CHAIN_ORDER)  # nodes answer in this order already; a sorted list costs one pass
    return events


_CHAIN_ORDER = attrgetter("block_number", "log_index")
