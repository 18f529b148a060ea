"""The events of a batch as lines of PostgreSQL's COPY text format, per event table.

Kept apart from `indexer.db` because the reading side (`indexer.reader`) makes these lines and
needs no database.
Our values never contain tabs, newlines or backslashes (numbers, 0x-hex, names), so no escaping
is needed; `\\N` is NULL.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from indexer.decode import KEY_COLUMNS, TABLE_OF, TABLES, Event

NULL = "\\N"
TRANSFER_COLUMNS = (*KEY_COLUMNS, *TABLES["transfers"], "sender_balance_after", "receiver_balance_after")
POOL_STATE_COLUMNS = (
    "chain_id",
    "block_number",
    "log_index",
    "block_time",
    "reserve",
    "supply",
    "tax_accrued",
    "price",
    "kind",
)


def copy_columns(table: str) -> tuple[str, ...]:
    """The columns, in order, of the COPY lines made here for `table`."""
    if table == "transfers":
        return TRANSFER_COLUMNS
    if table == "pool_states":
        return POOL_STATE_COLUMNS
    return (*KEY_COLUMNS, *TABLES[table])


def event_lines(chain_id: int, events: Iterable[Event]) -> dict[str, list[str]]:
    """COPY text lines of `events` per event table, Transfers excepted: their rows carry the
    balances that `derive` computes (see `transfer_lines`). Needs no database: made while reading."""
    out: dict[str, list[str]] = {}
    prefix = f"{chain_id}\t"
    for e in events:
        if e.name != "Transfer":
            table = TABLE_OF[e.name]
            line = f"{prefix}{e.block_number}\t{e.log_index}\t{e.tx_hash}\t{e.row}\n"
            lines = out.get(table)
            if lines is None:
                out[table] = [line]
            else:
                lines.append(line)
    return out


def transfer_lines(
    chain_id: int, events: Iterable[Event], balances: Iterable[tuple[int | None, int | None]]
) -> list[str]:
    """COPY text lines of the `transfers` rows: the Transfer events of `events` with the balances
    after them (`BatchRows.transfer_balances`, one pair per Transfer in order)."""
    prefix = f"{chain_id}\t"
    pairs = iter(balances)
    out = []
    for e in events:
        if e.name == "Transfer":
            sender, receiver = next(pairs)
            out.append(
                f"{prefix}{e.block_number}\t{e.log_index}\t{e.tx_hash}\t{e.row}\t"
                f"{NULL if sender is None else sender}\t{NULL if receiver is None else receiver}\n"
            )
    return out


def pool_state_lines(chain_id: int, states: Iterable[tuple[int, int, int, int, int, int, int, str]]) -> list[str]:
    """COPY text lines of `pool_states` rows (`BatchRows.pool_states`); block times as UTC ISO text."""
    prefix = f"{chain_id}\t"
    times: dict[int, str] = {}
    out = []
    for block, index, stamp, reserve, supply, tax, price, kind in states:
        when = times.get(stamp)
        if when is None:
            when = times[stamp] = datetime.fromtimestamp(stamp, UTC).isoformat()
        out.append(f"{prefix}{block}\t{index}\t{when}\t{reserve}\t{supply}\t{tax}\t{price}\t{kind}\n")
    return out
