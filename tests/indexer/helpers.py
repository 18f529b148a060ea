"""Helpers shared by the indexer tests: table dumps and chain reads."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, text
from web3 import Web3

from indexer.decode import TABLES as EVENT_TABLES

# Every table of the mirror (the `events` and `balance_changes` views read from these).
TABLES = ("blocks", *EVENT_TABLES, "balances", "pool_states", "merchants", "merchant_daily", "price_candles")


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every mirror table (and the cursor), sorted: equal dumps mean equal mirrors."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in TABLES:
            out[table] = sorted(tuple(r) for r in conn.execute(text(f"SELECT * FROM {table}")))
        out["indexer_state"] = [
            tuple(r)
            for r in conn.execute(
                text("SELECT chain_id, pool, cursor_block, cursor_hash, halted_reason FROM indexer_state")
            )
        ]
    return out


def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def rows(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(sql), params))


def tx_hashes_of_blocks(w3: Web3, first: int, last: int) -> set[str]:
    """Transaction hashes (lowercase 0x-hex) of blocks `[first, last]`."""
    out: set[str] = set()
    for n in range(first, last + 1):
        for tx in w3.eth.get_block(n)["transactions"]:
            out.add(tx.to_0x_hex() if hasattr(tx, "to_0x_hex") else str(tx))
    return out


def assert_aggregates_consistent(engine: Engine) -> None:
    """merchant_daily and balances equal what the events and the balance history say."""
    daily = rows(
        engine,
        "SELECT merchant, day, minted, spent, checkouts FROM merchant_daily ORDER BY merchant, day",
    )
    expected = rows(
        engine,
        "SELECT merchant, (block_time AT TIME ZONE 'UTC')::date AS day,"
        " COALESCE(SUM(amount) FILTER (WHERE name = 'CheckedOut'), 0) AS minted,"
        " COALESCE(SUM(amount) FILTER (WHERE name = 'Spent'), 0) AS spent,"
        " COUNT(*) FILTER (WHERE name = 'CheckedOut') AS checkouts"
        " FROM events WHERE name IN ('CheckedOut', 'Spent') GROUP BY 1, 2 ORDER BY 1, 2",
    )
    assert [tuple(r) for r in daily] == [tuple(r) for r in expected]
    stale = rows(
        engine,
        "SELECT b.holder FROM balances b WHERE b.balance <> COALESCE((SELECT bc.balance_after FROM balance_changes bc"
        " WHERE bc.holder = b.holder ORDER BY bc.block_number DESC, bc.log_index DESC LIMIT 1), 0)",
    )
    assert stale == []
