"""Initial schema: the block-hash chain, events, balances, pool states, merchants, the cursor.

Every table carries `chain_id`, so one database can hold the mirrors of several chains. Every
uint256 is NUMERIC(78,0); addresses and hashes are lowercase 0x-hex text.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

UINT = sa.Numeric(78, 0)


def upgrade() -> None:
    op.create_table(
        "indexer_state",
        sa.Column("chain_id", sa.BigInteger, nullable=False),
        sa.Column("pool", sa.Text, nullable=False),
        sa.Column("token", sa.Text, nullable=False),
        sa.Column("asset", sa.Text, nullable=False),
        sa.Column("asset_decimals", sa.SmallInteger, nullable=False),
        sa.Column("deployment_block", sa.BigInteger, nullable=False),
        sa.Column("cursor_block", sa.BigInteger, nullable=False),
        sa.Column("cursor_hash", sa.Text, nullable=True),
        sa.Column("halted_reason", sa.Text, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("chain_id", "pool"),
    )
    op.create_table(
        "blocks",
        sa.Column("chain_id", sa.BigInteger, nullable=False),
        sa.Column("number", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.Text, nullable=False),
        # NULL for blocks known only from their logs (outside the recent window).
        sa.Column("parent_hash", sa.Text, nullable=True),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("has_events", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("chain_id", "number"),
    )
    op.create_table(
        "events",
        sa.Column("chain_id", sa.BigInteger, nullable=False),
        sa.Column("block_number", sa.BigInteger, nullable=False),
        sa.Column("log_index", sa.Integer, nullable=False),
        sa.Column("block_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tx_hash", sa.Text, nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("args", postgresql.JSONB, nullable=False),
        # Typed columns for the API: the points holder the event is about (customer, holder,
        # transfer sender), the other party (transfer receiver), the merchant, the main amount.
        sa.Column("holder", sa.Text, nullable=True),
        sa.Column("counterparty", sa.Text, nullable=True),
        sa.Column("merchant", sa.Text, nullable=True),
        sa.Column("amount", UINT, nullable=True),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index"),
    )
    # An account's activity by keyset (block_number, log_index): its transfers are balance_changes'
    # primary key; its other events (redeem, spend, fund, approve, ...) this index. Transfers are
    # left out here: they are most rows, and balance_changes already covers them.
    op.create_index(
        "events_account_idx",
        "events",
        ["chain_id", "holder", "block_number", "log_index"],
        postgresql_where=sa.text("holder IS NOT NULL AND name <> 'Transfer'"),
    )
    op.create_index(
        "events_merchant_idx",
        "events",
        ["chain_id", "merchant", "block_number", "log_index"],
        postgresql_where=sa.text("merchant IS NOT NULL"),
    )
    op.create_table(
        "balances",
        sa.Column("chain_id", sa.BigInteger, nullable=False),
        sa.Column("holder", sa.Text, nullable=False),
        sa.Column("balance", UINT, nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "holder"),
    )
    op.create_table(
        "balance_changes",
        sa.Column("chain_id", sa.BigInteger, nullable=False),
        sa.Column("holder", sa.Text, nullable=False),
        sa.Column("block_number", sa.BigInteger, nullable=False),
        sa.Column("log_index", sa.Integer, nullable=False),
        sa.Column("delta", UINT, nullable=False),
        sa.Column("balance_after", UINT, nullable=False),
        # Serves "balance at block" and an account's transfers by keyset; a rollback deletes by the
        # holders of the dropped Transfer events (found through the events' primary key).
        sa.PrimaryKeyConstraint("chain_id", "holder", "block_number", "log_index"),
    )
    op.create_table(
        "pool_states",
        sa.Column("chain_id", sa.BigInteger, nullable=False),
        sa.Column("block_number", sa.BigInteger, nullable=False),
        sa.Column("log_index", sa.Integer, nullable=False),
        sa.Column("block_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reserve", UINT, nullable=False),
        sa.Column("supply", UINT, nullable=False),
        sa.Column("tax_accrued", UINT, nullable=False),
        # 18-decimal fixed point, exactly the contract's price(): reserve * 10**(18-d) * 1e18 // supply.
        sa.Column("price", UINT, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index"),
    )
    op.create_index("pool_states_time_idx", "pool_states", ["chain_id", "block_time"])
    op.create_table(
        "merchants",
        sa.Column("chain_id", sa.BigInteger, nullable=False),
        sa.Column("merchant", sa.Text, nullable=False),
        sa.Column("rate_bps", sa.Integer, nullable=False),
        sa.Column("daily_cap", UINT, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("updated_block", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "merchant"),
    )
    op.create_table(
        "merchant_daily",
        sa.Column("chain_id", sa.BigInteger, nullable=False),
        sa.Column("merchant", sa.Text, nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("minted", UINT, nullable=False, server_default="0"),
        sa.Column("spent", UINT, nullable=False, server_default="0"),
        sa.Column("checkouts", sa.BigInteger, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("chain_id", "merchant", "day"),
    )


def downgrade() -> None:
    for table in (
        "merchant_daily",
        "merchants",
        "pool_states",
        "balance_changes",
        "balances",
        "events",
        "blocks",
        "indexer_state",
    ):
        op.drop_table(table)
