"""The indexed state every response reflects: which pool, the cursor block and its hash and time,
the head the indexer last saw. Read in the same snapshot as the data it describes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg.rows import TupleRow

from api.database import Connection, fetchall
from api.problems import UNAVAILABLE, ApiProblem
from api.shapes import checksum, iso, moment

# The state columns, prefixed to a route's own statement where it runs as one statement.
STATE_COLUMNS = (
    "s.chain_id, s.pool, s.token, s.asset, s.asset_decimals, s.deployment_block, s.cursor_block,"
    " s.cursor_hash, s.halted_reason, extract(epoch FROM cb.timestamp)::bigint, h.head_block,"
    " extract(epoch FROM h.seen_at)::float8"
)
STATE_FROM = (
    "indexer_state s LEFT JOIN blocks cb ON cb.chain_id = s.chain_id AND cb.number = s.cursor_block"
    " LEFT JOIN indexer_heartbeat h ON h.chain_id = s.chain_id AND h.pool = s.pool"
)
STATE_WIDTH = 12
STATE_QUERY = f"SELECT {STATE_COLUMNS} FROM {STATE_FROM} WHERE s.chain_id = %(chain)s"


@dataclass(frozen=True, slots=True)
class Indexed:
    """One mirror's state (the `indexer_state` row and its heartbeat)."""

    chain_id: int
    pool: str
    token: str
    asset: str
    asset_decimals: int
    deployment_block: int
    block: int  # the cursor: everything up to it is indexed
    block_hash: str | None
    halted_reason: str | None
    block_time: int | None
    head: int | None
    seen_at: float | None

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> Indexed:
        return cls(*row[:STATE_WIDTH])

    @property
    def lag(self) -> int | None:
        return None if self.head is None else max(0, self.head - self.block)

    @property
    def version(self) -> str:
        """What a response of this state is keyed by (ETag, caches): the cursor and its hash."""
        return f"{self.chain_id}-{self.block}-{(self.block_hash or '0x')[2:14]}"

    def block_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"number": self.block, "hash": self.block_hash}
        if self.block_time is not None:
            out.update(moment(self.block_time))
        else:
            out.update({"time": None, "timestamp": None})
        return out

    def head_json(self) -> dict[str, Any]:
        return {
            "head_block": self.head,
            "lag_blocks": self.lag,
            "head_seen_at": None if self.seen_at is None else iso(int(self.seen_at)),
        }

    @property
    def head_version(self) -> str:
        """`version` plus the heartbeat, for answers that show the head."""
        return f"{self.version}-{self.head}-{int(self.seen_at or 0)}"

    def pool_addresses(self) -> dict[str, str]:
        return {"pool": checksum(self.pool), "points_token": checksum(self.token), "asset": checksum(self.asset)}


class ChainChoice:
    """Which chain's mirror this process serves: the configured one, or the only one there is."""

    def __init__(self, configured: int | None) -> None:
        self.chain_id = configured

    async def resolve(self, conn: Connection) -> int:
        if self.chain_id is not None:
            return self.chain_id
        rows = await fetchall(conn, "SELECT DISTINCT chain_id FROM indexer_state ORDER BY 1")
        if not rows:
            raise not_indexed()
        if len(rows) > 1:
            raise ApiProblem(
                503,
                f"the database mirrors {len(rows)} chains; set GREENPOINTS_API_CHAIN_ID",
                type_=UNAVAILABLE,
                title="Service Unavailable",
            )
        self.chain_id = int(rows[0][0])
        return self.chain_id


def not_indexed() -> ApiProblem:
    return ApiProblem(
        503, "nothing is indexed yet (run `greenpoints index`)", type_=UNAVAILABLE, title="Service Unavailable"
    )


async def read_state(conn: Connection, chain_id: int) -> Indexed:
    rows = await fetchall(conn, STATE_QUERY, {"chain": chain_id})
    if not rows:
        raise not_indexed()
    return Indexed.from_row(rows[0])


def with_state(listing: str) -> str:
    """`listing` (rows with `block_number` and `log_index`, newest first) as one statement with the
    indexed state in front of every row: one round trip, one snapshot. Without rows, one row of
    the state alone (the listing's columns NULL)."""
    return (
        f"SELECT {STATE_COLUMNS}, x.* FROM {STATE_FROM} LEFT JOIN LATERAL ({listing}) x ON true"
        " WHERE s.chain_id = %(c)s ORDER BY x.block_number DESC, x.log_index DESC"
    )


async def state_and_rows(conn: Connection, query: str, params: dict[str, Any]) -> tuple[Indexed, list[TupleRow]]:
    """Run a `with_state` statement: the indexed state and the listing's rows."""
    rows = await fetchall(conn, query, params)
    if not rows:
        raise not_indexed()
    listed = [row[STATE_WIDTH:] for row in rows if row[STATE_WIDTH] is not None]
    return Indexed.from_row(rows[0]), listed
