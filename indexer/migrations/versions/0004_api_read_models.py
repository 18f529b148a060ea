"""Read models for the REST API: price candles, stored audits, the indexer's heartbeat, merchant sales.

- `price_candles`: OHLC of `pool_states.price` per interval (1m, 5m, 15m, 1h, 4h, 1d) and UTC-aligned
  bucket, kept by the indexer in the transaction that writes the pool states (`indexer.candles`)
  and rebuilt for the buckets a rollback touches. Only buckets with a change have a row.
- `audit_runs`: every audit of the mirror against the chain (the live indexer's, every
  `GREENPOINTS_AUDIT_EVERY` blocks, and `greenpoints audit`'s), with each check.
- `indexer_heartbeat`: the chain head the indexer last saw and when, so readers know its lag and
  whether it still runs (kept apart from `indexer_state`: it changes while the mirror does not).
- `merchant_daily.pool_in` and `.sales`: per-day pool-in and reported sales, beside the points.
- `checkouts_merchant_idx`: a merchant's checkouts by keyset.

The upgrade derives the new figures from the rows already stored, so no re-index is needed.

Revision ID: 0004_api_read_models
Revises: 0003_hardened_pool
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004_api_read_models"
down_revision: str | None = "0003_hardened_pool"
branch_labels: str | None = None
depends_on: str | None = None

UINT = sa.Numeric(78, 0)
# The candle intervals in seconds (the same list as `indexer.candles.INTERVALS`; a migration keeps
# its own copy so later code changes cannot change what it did).
INTERVALS = (60, 300, 900, 3600, 14400, 86400)


def upgrade() -> None:
    op.create_table(
        "price_candles",
        sa.Column("chain_id", sa.BigInteger, nullable=False),
        sa.Column("interval_s", sa.Integer, nullable=False),
        sa.Column("bucket", sa.DateTime(timezone=True), nullable=False),
        sa.Column("open", UINT, nullable=False),
        sa.Column("high", UINT, nullable=False),
        sa.Column("low", UINT, nullable=False),
        sa.Column("close", UINT, nullable=False),
        sa.Column("changes", sa.BigInteger, nullable=False),
        # The first and last pool-state rows in the bucket, in chain order: merging a later batch
        # keeps `open` and takes `close`; a rollback finds the buckets it cut by `last_block`.
        sa.Column("first_block", sa.BigInteger, nullable=False),
        sa.Column("first_log", sa.Integer, nullable=False),
        sa.Column("last_block", sa.BigInteger, nullable=False),
        sa.Column("last_log", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "interval_s", "bucket"),
    )
    op.create_index("price_candles_last_block_idx", "price_candles", ["chain_id", "last_block"])
    for seconds in INTERVALS:
        op.execute(
            sa.text(
                "INSERT INTO price_candles (chain_id, interval_s, bucket, open, high, low, close, changes,"
                " first_block, first_log, last_block, last_log)"
                " SELECT chain_id, :s, to_timestamp(floor(extract(epoch FROM block_time) / :s) * :s) AS bucket,"
                "  (array_agg(price ORDER BY block_number, log_index))[1], max(price), min(price),"
                "  (array_agg(price ORDER BY block_number DESC, log_index DESC))[1], count(*),"
                "  (array_agg(block_number ORDER BY block_number, log_index))[1],"
                "  (array_agg(log_index ORDER BY block_number, log_index))[1],"
                "  (array_agg(block_number ORDER BY block_number DESC, log_index DESC))[1],"
                "  (array_agg(log_index ORDER BY block_number DESC, log_index DESC))[1]"
                " FROM pool_states GROUP BY chain_id, bucket"
            ).bindparams(s=seconds)
        )
    op.create_table(
        "audit_runs",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("chain_id", sa.BigInteger, nullable=False),
        sa.Column("block_number", sa.BigInteger, nullable=False),
        sa.Column("block_hash", sa.Text, nullable=True),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("holders", sa.Integer, nullable=False),
        # [{"name", "ok", "mirror", "chain"}] in the order `greenpoints audit` prints them.
        sa.Column("checks", postgresql.JSONB, nullable=False),
        sa.Column("differences", postgresql.JSONB, nullable=False),
        sa.Column("source", sa.Text, nullable=False),  # "live" or "command"
        sa.Column("every", sa.Integer, nullable=True),  # the live schedule it ran under (blocks)
    )
    op.create_index("audit_runs_block_idx", "audit_runs", ["chain_id", "block_number", "id"])
    op.create_table(
        "indexer_heartbeat",
        sa.Column("chain_id", sa.BigInteger, nullable=False),
        sa.Column("pool", sa.Text, nullable=False),
        sa.Column("head_block", sa.BigInteger, nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("chain_id", "pool"),
    )
    op.add_column("merchant_daily", sa.Column("pool_in", UINT, nullable=False, server_default="0"))
    op.add_column("merchant_daily", sa.Column("sales", UINT, nullable=False, server_default="0"))
    op.execute(
        "UPDATE merchant_daily d SET pool_in = x.pool_in, sales = x.sales FROM ("
        " SELECT c.chain_id, c.merchant, (b.timestamp AT TIME ZONE 'UTC')::date AS day,"
        "  sum(c.pool_in) AS pool_in, sum(c.sale_amount) AS sales"
        " FROM checkouts c JOIN blocks b ON b.chain_id = c.chain_id AND b.number = c.block_number"
        " GROUP BY 1, 2, 3) x"
        " WHERE d.chain_id = x.chain_id AND d.merchant = x.merchant AND d.day = x.day"
    )
    op.create_index("checkouts_merchant_idx", "checkouts", ["chain_id", "merchant", "block_number", "log_index"])


def downgrade() -> None:
    op.drop_index("checkouts_merchant_idx", "checkouts")
    op.drop_column("merchant_daily", "sales")
    op.drop_column("merchant_daily", "pool_in")
    op.drop_table("indexer_heartbeat")
    op.drop_table("audit_runs")
    op.drop_table("price_candles")
