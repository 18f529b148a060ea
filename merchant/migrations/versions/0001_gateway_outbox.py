"""The gateway's outbox: checkouts by idempotency key, their signed transactions, webhooks.

Every table is prefixed `gateway_` and every uint256 is NUMERIC(78,0); addresses and hashes are
0x-hex text (addresses checksummed, hashes lowercase). A checkout row moves accepted → sent →
final | failed; each transaction signed for it is kept whole (raw bytes), before it is sent, so
that a restart can send it again byte for byte.

Revision ID: 0001_gateway_outbox
Revises:
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001_gateway_outbox"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

UINT = sa.Numeric(78, 0)
NOW = sa.func.now()


def upgrade() -> None:
    op.create_table(
        "gateway_checkouts",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("chain_id", sa.BigInteger, nullable=False),
        sa.Column("pool", sa.Text, nullable=False),
        sa.Column("merchant", sa.Text, nullable=False),
        sa.Column("idempotency_key", sa.Text, nullable=False),
        # sha256 of the normalised request (customer, amount in base units, order_ref).
        sa.Column("request_hash", sa.Text, nullable=False),
        sa.Column("customer", sa.Text, nullable=False),
        sa.Column("sale_amount", UINT, nullable=False),
        sa.Column("order_ref", sa.Text, nullable=False),
        sa.Column("order_id", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False, server_default="accepted"),
        # The transaction in flight (its latest replacement); all of them are in gateway_transactions.
        sa.Column("nonce", sa.BigInteger, nullable=True),
        sa.Column("tx_hash", sa.Text, nullable=True),
        sa.Column("broadcasts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("reorgs", sa.Integer, nullable=False, server_default="0"),
        # Where it was last seen mined (cleared when a reorg drops that block).
        sa.Column("block_number", sa.BigInteger, nullable=True),
        sa.Column("block_hash", sa.Text, nullable=True),
        sa.Column("points", UINT, nullable=True),
        sa.Column("pool_in", UINT, nullable=True),
        sa.Column("error_code", sa.Text, nullable=True),
        sa.Column("error_message", sa.Text, nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mined_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.CheckConstraint("state IN ('accepted', 'sent', 'final', 'failed')", name="gateway_checkouts_state"),
        sa.CheckConstraint("sale_amount >= 0", name="gateway_checkouts_amount"),
        sa.UniqueConstraint("chain_id", "pool", "merchant", "idempotency_key", name="gateway_checkouts_key"),
    )
    # One live checkout per order: a failed one frees its order reference for a new key.
    op.create_index(
        "gateway_checkouts_live_order",
        "gateway_checkouts",
        ["chain_id", "pool", "merchant", "order_id"],
        unique=True,
        postgresql_where=sa.text("state <> 'failed'"),
    )
    op.create_index(
        "gateway_checkouts_open",
        "gateway_checkouts",
        ["chain_id", "pool", "merchant", "state", "id"],
        postgresql_where=sa.text("state IN ('accepted', 'sent')"),
    )
    op.create_table(
        "gateway_transactions",
        sa.Column("tx_hash", sa.Text, primary_key=True),
        sa.Column("checkout_id", sa.BigInteger, sa.ForeignKey("gateway_checkouts.id"), nullable=False),
        sa.Column("nonce", sa.BigInteger, nullable=False),
        sa.Column("raw_tx", sa.LargeBinary, nullable=False),
        sa.Column("max_fee", UINT, nullable=False),
        sa.Column("tip", UINT, nullable=False),
        sa.Column("gas", sa.BigInteger, nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )
    op.create_index("gateway_transactions_checkout", "gateway_transactions", ["checkout_id"])
    op.create_table(
        "gateway_webhooks",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        # What receivers deduplicate on: the same event keeps its id through every retry.
        sa.Column("event_id", sa.Text, nullable=False, unique=True),
        sa.Column("checkout_id", sa.BigInteger, sa.ForeignKey("gateway_checkouts.id"), nullable=False),
        sa.Column("event_type", sa.Text, nullable=False),
        # The exact body that is signed and sent.
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("gave_up_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )
    op.create_index(
        "gateway_webhooks_due",
        "gateway_webhooks",
        ["next_attempt_at"],
        postgresql_where=sa.text("delivered_at IS NULL AND gave_up_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("gateway_webhooks")
    op.drop_table("gateway_transactions")
    op.drop_table("gateway_checkouts")
