"""The account lookup's statement: a batch of holders at one block (see `api.lookups`)."""

from __future__ import annotations

from psycopg.rows import TupleRow

from api.database import Connection, fetchall
from api.mirror import STATE_COLUMNS, STATE_FROM, not_indexed
from api.routes.common import NO_BLOCK, ZERO

_SIDE = (
    "SELECT block_number AS b, log_index AS l, {side}_balance_after AS v FROM transfers"
    f" WHERE chain_id = s.chain_id AND {{side}} = q.a AND {{side}} <> '{ZERO}' AND block_number <= %(n)s"
    " ORDER BY block_number DESC, log_index DESC LIMIT 1"
)
_FIRST = (
    "SELECT block_number AS b FROM transfers"
    f" WHERE chain_id = s.chain_id AND {{side}} = q.a AND {{side}} <> '{ZERO}'"
    " ORDER BY block_number, log_index LIMIT 1"
)
_AT = "WHERE chain_id = s.chain_id AND block_number <= %(n)s ORDER BY block_number DESC, log_index DESC LIMIT 1"
# One statement for a batch of holders at one block (one snapshot, one round trip; see
# `api.lookups`): the indexed state and the pool then, once; per holder, its last balance at or
# below the block from each side of its transfers and its first transfers.
ACCOUNTS_QUERY = (
    f"SELECT q.i, {STATE_COLUMNS}, so.b, so.l, so.v, ro.b, ro.l, ro.v, ps.reserve, ps.supply, f.fee_bps, f.tax_bps,"
    " LEAST(sf.b, rf.b), (SELECT extract(epoch FROM timestamp)::bigint FROM blocks"
    "  WHERE chain_id = s.chain_id AND number = LEAST(sf.b, rf.b)),"
    " (SELECT extract(epoch FROM timestamp)::bigint FROM blocks WHERE chain_id = s.chain_id"
    "  AND number = GREATEST(so.b, ro.b))"
    f" FROM {STATE_FROM}"
    f" LEFT JOIN LATERAL (SELECT reserve, supply FROM pool_states {_AT}) ps ON true"
    f" LEFT JOIN LATERAL (SELECT fee_bps, tax_bps FROM fee_updates {_AT}) f ON true"
    " CROSS JOIN unnest(string_to_array(%(a)s, ',')) WITH ORDINALITY AS q(a, i)"
    f" LEFT JOIN LATERAL ({_SIDE.format(side='sender')}) so ON true"
    f" LEFT JOIN LATERAL ({_SIDE.format(side='receiver')}) ro ON true"
    f" LEFT JOIN LATERAL ({_FIRST.format(side='sender')}) sf ON true"
    f" LEFT JOIN LATERAL ({_FIRST.format(side='receiver')}) rf ON true"
    " WHERE s.chain_id = %(c)s"
)


async def account_rows(conn: Connection, chain_id: int, holders: list[str], block: int | None) -> list[TupleRow]:
    """The rows of `ACCOUNTS_QUERY` for `holders` (lowercase) now or at `block`, in their order."""
    at = NO_BLOCK if block is None else block
    # The holders as one comma-separated text: psycopg's list-to-array adaptation cost a third of
    # the client's CPU per statement here (addresses are hex, so never hold a comma).
    rows = await fetchall(conn, ACCOUNTS_QUERY, {"c": chain_id, "a": ",".join(holders), "n": at})
    if not rows:
        raise not_indexed()
    by_position = {row[0]: row[1:] for row in rows}  # q.i, 1-based
    return [by_position[i] for i in range(1, len(holders) + 1)]
