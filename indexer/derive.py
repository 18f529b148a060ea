"""Turn a batch of decoded events into the rows of the derived tables (pure, no I/O).

Balances come from `Transfer` (mint from 0x0, burn to 0x0). The pool-state series takes reserve
and supply from each state event's `reserveAfter`/`supplyAfter` (SPEC §3.5, `TaxWithdrawn`
included); the accrued tax follows `Redeemed.tax` and `TaxWithdrawn.amount`; a mint or burn seen
only as a `Transfer` (no state event in the same transaction) still gets a row, from the tracked
supply.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from indexer.decode import STATE_EVENTS, ZERO_ADDRESS, Event


@dataclass(frozen=True, slots=True)
class PoolSnapshot:
    """Reserve, points supply and accrued tax after some event."""

    reserve: int = 0
    supply: int = 0
    tax_accrued: int = 0


@dataclass(slots=True)
class BatchRows:
    """Everything one batch adds, ready for bulk writes."""

    # One per Transfer event, in order: (sender's, receiver's) balance after it, None for 0x0.
    transfer_balances: list[tuple[int | None, int | None]] = field(default_factory=list)
    # holder -> balance after the batch (only holders the batch touched)
    balances: dict[str, int] = field(default_factory=dict)
    # (block_number, log_index, block_time, reserve, supply, tax_accrued, price, kind)
    pool_states: list[tuple[int, int, int, int, int, int, int, str]] = field(default_factory=list)
    # merchant -> (rate_bps, daily_cap, active, updated_block); the batch's last setting wins
    merchants: dict[str, tuple[int, int, bool, int]] = field(default_factory=dict)
    # (merchant, day) -> [minted, spent, checkouts, pool_in, sales]
    merchant_daily: dict[tuple[str, date], list[int]] = field(default_factory=dict)
    last_state: PoolSnapshot = field(default_factory=PoolSnapshot)


def price_of(reserve: int, supply: int, asset_decimals: int) -> int:
    """The contract's `price()`: reserve per whole point, 18-decimal fixed point, 0 with no supply."""
    if supply == 0:
        return 0
    return reserve * 10 ** (18 - asset_decimals) * 10**18 // supply


def utc_day(timestamp: int) -> date:
    return datetime.fromtimestamp(timestamp, UTC).date()


def holders_of(events: Iterable[Event]) -> set[str]:
    """Every non-zero address whose balance a batch changes."""
    out: set[str] = set()
    for e in events:
        if e.name == "Transfer":
            for key in ("from", "to"):
                account = e.args[key]
                if account != ZERO_ADDRESS:
                    out.add(str(account))
    return out


def derive(
    events: Sequence[Event],
    prior_balances: dict[str, int],
    prior_state: PoolSnapshot,
    asset_decimals: int,
) -> BatchRows:
    """Rows for `events` (in chain order), starting from the balances and pool state before them."""
    rows = BatchRows()
    balances = rows.balances
    after = rows.transfer_balances
    reserve, supply, tax = prior_state.reserve, prior_state.supply, prior_state.tax_accrued
    # Transactions whose supply change is described by a state event (so the Transfer needs no row).
    described = {e.tx_hash for e in events if e.name in STATE_EVENTS}
    days: dict[int, date] = {}

    def day_of(timestamp: int) -> date:
        d = days.get(timestamp)
        if d is None:
            d = days[timestamp] = utc_day(timestamp)
        return d

    def state_row(e: Event, kind: str) -> None:
        rows.pool_states.append(
            (
                e.block_number,
                e.log_index,
                e.block_time,
                reserve,
                supply,
                tax,
                price_of(reserve, supply, asset_decimals),
                kind,
            )
        )

    for e in events:
        name = e.name
        a = e.args
        if name == "Transfer":
            sender, receiver, value = str(a["from"]), str(a["to"]), int(a["value"])
            sender_after: int | None = None
            receiver_after: int | None = None
            if sender == receiver:
                if sender != ZERO_ADDRESS:
                    sender_after = receiver_after = balances[sender] = balances.get(
                        sender, prior_balances.get(sender, 0)
                    )
                after.append((sender_after, receiver_after))
                continue
            if sender != ZERO_ADDRESS:
                sender_after = balances[sender] = balances.get(sender, prior_balances.get(sender, 0)) - value
            else:
                supply += value
            if receiver != ZERO_ADDRESS:
                receiver_after = balances[receiver] = balances.get(receiver, prior_balances.get(receiver, 0)) + value
            else:
                supply -= value
            after.append((sender_after, receiver_after))
            if (sender == ZERO_ADDRESS or receiver == ZERO_ADDRESS) and e.tx_hash not in described:
                state_row(e, "Mint" if sender == ZERO_ADDRESS else "Burn")
        elif name in STATE_EVENTS:
            reserve, supply = int(a["reserveAfter"]), int(a["supplyAfter"])
            if name == "Redeemed":
                tax += int(a["tax"])
            elif name == "TaxWithdrawn":
                tax -= int(a["amount"])
            state_row(e, name)
            if name == "CheckedOut":
                entry = rows.merchant_daily.setdefault((str(a["merchant"]), day_of(e.block_time)), [0, 0, 0, 0, 0])
                entry[0] += int(a["points"])
                entry[2] += 1
                entry[3] += int(a["poolIn"])
                entry[4] += int(a["saleAmount"])
            elif name == "Spent":
                entry = rows.merchant_daily.setdefault((str(a["merchant"]), day_of(e.block_time)), [0, 0, 0, 0, 0])
                entry[1] += int(a["points"])
        elif name == "MerchantSet":
            rows.merchants[str(a["merchant"])] = (
                int(a["rateBps"]),
                int(a["dailyCap"]),
                bool(a["active"]),
                e.block_number,
            )
    rows.last_state = PoolSnapshot(reserve, supply, tax)
    return rows
