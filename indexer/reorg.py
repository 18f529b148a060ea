"""Reorgs: find the common ancestor in the kept block-hash window, roll every derived row back.

`rollback_rows` deletes everything above a block in one transaction (the caller's) and rebuilds
what is aggregated (balances, merchants, per-day merchant totals, price candles) for what it
touched; stored audits of the dropped blocks go too.
A reorg deeper than the window cannot be rolled back safely: the indexer is halted
(`indexer_state.halted_reason`) until an operator runs `greenpoints resync`.
"""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.engine import Connection

from indexer import candle_store
from indexer.db import load_state, set_cursor, set_halted
from indexer.decode import TABLES, ZERO_ADDRESS
from indexer.errors import IndexerError, IndexerHalted
from indexer.rpc import RpcClient
from indexer.target import Target

log = logging.getLogger("indexer.reorg")


def find_common_ancestor(
    conn: Connection, rpc: RpcClient, chain_id: int, cursor: int, window: int
) -> tuple[int, str] | None:
    """The highest stored block in `[cursor - window, cursor]` whose hash the node still has."""
    stored = conn.execute(
        text("SELECT number, hash FROM blocks WHERE chain_id = :c AND number BETWEEN :a AND :b ORDER BY number DESC"),
        {"c": chain_id, "a": cursor - window, "b": cursor},
    ).all()
    if not stored:
        return None
    headers = rpc.get_blocks([row.number for row in stored])
    for row, header in zip(stored, headers, strict=True):
        if header is not None and header.hash == row.hash:
            return int(row.number), str(row.hash)
    return None


def rollback_rows(conn: Connection, chain_id: int, ancestor: int) -> dict[str, int]:
    """Delete every row above block `ancestor` and rebuild the aggregates it fed. Counts per table."""
    params: dict[str, object] = {"c": chain_id, "a": ancestor}
    counts: dict[str, int] = {}
    # The holders whose balance the dropped blocks changed: the parties of their transfers.
    holders = (
        conn.execute(
            text(
                "SELECT sender FROM transfers WHERE chain_id = :c AND block_number > :a"
                " UNION SELECT receiver FROM transfers WHERE chain_id = :c AND block_number > :a"
            ),
            params,
        )
        .scalars()
        .all()
    )
    params["h"] = [h for h in holders if h != ZERO_ADDRESS]
    # Per-day merchant totals and merchant settings the dropped events fed (read before deleting).
    affected_days = conn.execute(
        text(
            "SELECT DISTINCT merchant, (block_time AT TIME ZONE 'UTC')::date AS day FROM events"
            " WHERE chain_id = :c AND block_number > :a AND name IN ('CheckedOut', 'Spent')"
        ),
        params,
    ).all()
    affected_merchants = (
        conn.execute(
            text("SELECT DISTINCT merchant FROM merchant_updates WHERE chain_id = :c AND block_number > :a"),
            params,
        )
        .scalars()
        .all()
    )
    # Candles holding dropped pool states (read before those go), and audits of dropped blocks.
    cut = candle_store.cut_buckets(conn, chain_id, ancestor)
    conn.execute(text("DELETE FROM audit_runs WHERE chain_id = :c AND block_number > :a"), params)
    # The events themselves; the balance history goes with the transfers.
    counts["events"] = sum(
        conn.execute(text(f"DELETE FROM {table} WHERE chain_id = :c AND block_number > :a"), params).rowcount
        for table in TABLES
    )
    counts["pool_states"] = conn.execute(
        text("DELETE FROM pool_states WHERE chain_id = :c AND block_number > :a"), params
    ).rowcount
    candle_store.rebuild(conn, chain_id, cut)
    # Each holder gets back its last balance at or below the ancestor; holders first seen in the
    # dropped blocks disappear again.
    conn.execute(
        text(
            "UPDATE balances b SET balance = COALESCE((SELECT bc.balance_after FROM balance_changes bc"
            "  WHERE bc.chain_id = b.chain_id AND bc.holder = b.holder"
            "  ORDER BY bc.block_number DESC, bc.log_index DESC LIMIT 1), 0)"
            " WHERE b.chain_id = :c AND b.holder = ANY(:h)"
        ),
        params,
    )
    conn.execute(
        text(
            "DELETE FROM balances b WHERE b.chain_id = :c AND b.holder = ANY(:h) AND NOT EXISTS"
            " (SELECT 1 FROM balance_changes bc WHERE bc.chain_id = b.chain_id AND bc.holder = b.holder)"
        ),
        params,
    )
    if affected_days:
        merchants = [r.merchant for r in affected_days]
        days = [r.day for r in affected_days]
        conn.execute(
            text(
                "DELETE FROM merchant_daily d USING unnest(CAST(:m AS text[]), CAST(:d AS date[])) AS x(m, day)"
                " WHERE d.chain_id = :c AND d.merchant = x.m AND d.day = x.day"
            ),
            {"c": chain_id, "m": merchants, "d": days},
        )
        conn.execute(
            text(
                "INSERT INTO merchant_daily (chain_id, merchant, day, minted, spent, checkouts, pool_in, sales)"
                " SELECT :c, e.merchant, e.day, SUM(e.minted), SUM(e.spent), SUM(e.n), SUM(e.pool_in), SUM(e.sales)"
                " FROM (SELECT t.merchant, (b.timestamp AT TIME ZONE 'UTC')::date AS day, t.points AS minted,"
                "   0 AS spent, 1 AS n, t.pool_in, t.sale_amount AS sales"
                "  FROM checkouts t JOIN blocks b ON b.chain_id = t.chain_id AND b.number = t.block_number"
                "  WHERE t.chain_id = :c AND t.merchant = ANY(:ms)"
                "  UNION ALL SELECT t.merchant, (b.timestamp AT TIME ZONE 'UTC')::date, 0, t.points, 0, 0, 0"
                "  FROM spends t JOIN blocks b ON b.chain_id = t.chain_id AND b.number = t.block_number"
                "  WHERE t.chain_id = :c AND t.merchant = ANY(:ms)) AS e"
                " JOIN unnest(CAST(:m AS text[]), CAST(:d AS date[])) AS x(m, day)"
                "  ON e.merchant = x.m AND e.day = x.day"
                " GROUP BY e.merchant, e.day"
            ),
            {"c": chain_id, "m": merchants, "d": days, "ms": sorted(set(merchants))},
        )
    if affected_merchants:
        conn.execute(
            text("DELETE FROM merchants WHERE chain_id = :c AND merchant = ANY(:m)"),
            {"c": chain_id, "m": list(affected_merchants)},
        )
        conn.execute(
            text(
                "INSERT INTO merchants (chain_id, merchant, rate_bps, daily_cap, active, updated_block)"
                " SELECT DISTINCT ON (merchant) chain_id, merchant, rate_bps, daily_cap, active, block_number"
                " FROM merchant_updates WHERE chain_id = :c AND merchant = ANY(:m)"
                " ORDER BY merchant, block_number DESC, log_index DESC"
            ),
            {"c": chain_id, "m": list(affected_merchants)},
        )
    # Blocks last: the `events` view above reads block times through them.
    counts["blocks"] = conn.execute(text("DELETE FROM blocks WHERE chain_id = :c AND number > :a"), params).rowcount
    return counts


def handle_mismatch(conn: Connection, rpc: RpcClient, target: Target, window: int) -> int:
    """The node no longer has the cursor's block: roll back to the common ancestor (returns it),
    or halt the indexer when the fork is deeper than the kept window (raises `IndexerHalted`).

    Runs in the caller's transaction, which must commit whether this returns or raises.
    """
    state = load_state(conn, target, for_update=True)
    found = find_common_ancestor(conn, rpc, target.chain_id, state.cursor_block, window)
    if found is None:
        reason = (
            f"reorg deeper than the kept window of {window} blocks: indexed block {state.cursor_block} "
            f"({state.cursor_hash}) is no longer on the node's chain and no stored block at or above "
            f"{max(0, state.cursor_block - window)} matches; the mirror may hold rows of the dropped fork. "
            "Run `greenpoints resync --from-block N` (N below the fork) or `greenpoints resync --from-deployment`"
        )
        set_halted(conn, target, reason)
        log.error("indexer halted chain_id=%d pool=%s reason=%r", target.chain_id, target.pool, reason)
        raise IndexerHalted(reason)
    ancestor, ancestor_hash = found
    counts = rollback_rows(conn, target.chain_id, ancestor)
    set_cursor(conn, target, ancestor, ancestor_hash)
    log.warning(
        "reorg rolled back chain_id=%d from_block=%d to_block=%d depth=%d events_deleted=%d",
        target.chain_id,
        state.cursor_block,
        ancestor,
        state.cursor_block - ancestor,
        counts["events"],
    )
    return ancestor


def resync(conn: Connection, rpc: RpcClient, target: Target, from_block: int | None) -> int:
    """Delete everything above `from_block` (None: everything since the deployment), clear the halt
    and set the cursor there, so the next `index` re-indexes from the node. Returns the cursor."""
    state = load_state(conn, target, for_update=True)
    start = target.deployment_block - 1
    block = start if from_block is None else from_block
    if block < start:
        raise IndexerError(f"--from-block {block} is before the deployment (block {target.deployment_block})")
    if block > state.cursor_block:
        raise IndexerError(f"--from-block {block} is above the indexed cursor {state.cursor_block}; nothing to redo")
    header = rpc.get_block(block) if block > start else None
    if block > start:
        if header is None:
            raise IndexerError(f"the node has no block {block}")
        stored = conn.execute(
            text("SELECT hash FROM blocks WHERE chain_id = :c AND number = :n"), {"c": target.chain_id, "n": block}
        ).scalar_one_or_none()
        if stored is not None and stored != header.hash:
            raise IndexerError(f"block {block} itself was replaced by the reorg; resync from a lower block")
    rollback_rows(conn, target.chain_id, block)
    if header is not None:
        conn.execute(
            text(
                "INSERT INTO blocks (chain_id, number, hash, parent_hash, timestamp, has_events)"
                " VALUES (:c, :n, :h, :p, to_timestamp(:t), false) ON CONFLICT (chain_id, number)"
                " DO UPDATE SET hash = EXCLUDED.hash, parent_hash = EXCLUDED.parent_hash"
            ),
            {
                "c": target.chain_id,
                "n": header.number,
                "h": header.hash,
                "p": header.parent_hash,
                "t": header.timestamp,
            },
        )
    set_cursor(conn, target, block, header.hash if header is not None else None)
    set_halted(conn, target, None)
    log.warning(
        "resync chain_id=%d cursor=%d (was %d, halted=%s)",
        target.chain_id,
        block,
        state.cursor_block,
        state.halted_reason is not None,
    )
    return block
