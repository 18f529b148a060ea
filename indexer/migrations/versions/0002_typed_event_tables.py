"""One typed table per event instead of one `events` table with JSONB arguments.

Every uint256 parameter gets its own NUMERIC(78,0) column and every address its own text column,
so the API sums, filters and indexes them directly, and a backfill no longer pays for building
and parsing a JSON document per event. A `Transfer` row also carries both parties' balances after
it, which replaces the `balance_changes` table. `events` and `balance_changes` stay readable as
views with the columns they had (`events.args` is rebuilt as JSON, uints as decimal strings).

The indexed data is derived from the chain: the upgrade empties the mirror and sets the cursor
back to the deployment, so the next `greenpoints index` re-indexes with the new layout (the
downgrade does the same in the other direction).

Revision ID: 0002_typed_event_tables
Revises: 0001_initial
Create Date: 2026-11-26
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_typed_event_tables"
down_revision: str | None = "0001_initial"
branch_labels: str | None = None
depends_on: str | None = None

UINT = sa.Numeric(78, 0)
ZERO = "0x0000000000000000000000000000000000000000"

# Column kinds: "address"/"bytes32" text (lowercase 0x-hex), "uint" NUMERIC(78,0), "bps" integer
# (uint16 basis points), "bool".
_TYPES: dict[str, sa.types.TypeEngine[Any]] = {
    "address": sa.Text(),
    "bytes32": sa.Text(),
    "uint": UINT,
    "bps": sa.Integer(),
    "bool": sa.Boolean(),
}

# table -> (contract, event, [(column, ABI parameter, kind)]), in the ABI's parameter order.
EVENT_TABLES: dict[str, tuple[str, str, list[tuple[str, str, str]]]] = {
    "transfers": (
        "token",
        "Transfer",
        [("sender", "from", "address"), ("receiver", "to", "address"), ("value", "value", "uint")],
    ),
    "approvals": (
        "token",
        "Approval",
        [("owner", "owner", "address"), ("spender", "spender", "address"), ("value", "value", "uint")],
    ),
    "point_burns": (
        "token",
        "PointsBurned",
        [
            ("holder", "holder", "address"),
            ("amount", "amount", "uint"),
            ("reserve_after", "reserveAfter", "uint"),
            ("supply_after", "supplyAfter", "uint"),
        ],
    ),
    "checkouts": (
        "pool",
        "CheckedOut",
        [
            ("merchant", "merchant", "address"),
            ("customer", "customer", "address"),
            ("order_id", "orderId", "bytes32"),
            ("sale_amount", "saleAmount", "uint"),
            ("points", "points", "uint"),
            ("pool_in", "poolIn", "uint"),
            ("reserve_after", "reserveAfter", "uint"),
            ("supply_after", "supplyAfter", "uint"),
        ],
    ),
    "redemptions": (
        "pool",
        "Redeemed",
        [
            ("holder", "holder", "address"),
            ("points", "points", "uint"),
            ("payout", "payout", "uint"),
            ("tax", "tax", "uint"),
            ("kept", "kept", "uint"),
            ("reserve_after", "reserveAfter", "uint"),
            ("supply_after", "supplyAfter", "uint"),
        ],
    ),
    "spends": (
        "pool",
        "Spent",
        [
            ("holder", "holder", "address"),
            ("merchant", "merchant", "address"),
            ("order_id", "orderId", "bytes32"),
            ("points", "points", "uint"),
            ("reserve_after", "reserveAfter", "uint"),
            ("supply_after", "supplyAfter", "uint"),
        ],
    ),
    "fundings": (
        "pool",
        "Funded",
        [
            ("funder", "from", "address"),
            ("amount", "amount", "uint"),
            ("reserve_after", "reserveAfter", "uint"),
            ("supply_after", "supplyAfter", "uint"),
        ],
    ),
    "tax_withdrawals": ("pool", "TaxWithdrawn", [("recipient", "to", "address"), ("amount", "amount", "uint")]),
    "merchant_updates": (
        "pool",
        "MerchantSet",
        [
            ("merchant", "merchant", "address"),
            ("rate_bps", "rateBps", "bps"),
            ("daily_cap", "dailyCap", "uint"),
            ("active", "active", "bool"),
        ],
    ),
    "fee_updates": ("pool", "FeesSet", [("fee_bps", "feeBps", "bps"), ("tax_bps", "taxBps", "bps")]),
    "pool_share_updates": ("pool", "PoolShareSet", [("pool_share_bps", "poolShareBps", "bps")]),
    "tax_collector_updates": ("pool", "TaxCollectorSet", [("collector", "collector", "address")]),
    "pauses": ("pool", "Paused", [("account", "account", "address")]),
    "unpauses": ("pool", "Unpaused", [("account", "account", "address")]),
    "role_grants": (
        "pool",
        "RoleGranted",
        [("role", "role", "bytes32"), ("account", "account", "address"), ("sender", "sender", "address")],
    ),
    "role_revocations": (
        "pool",
        "RoleRevoked",
        [("role", "role", "bytes32"), ("account", "account", "address"), ("sender", "sender", "address")],
    ),
    "role_admin_changes": (
        "pool",
        "RoleAdminChanged",
        [
            ("role", "role", "bytes32"),
            ("previous_admin_role", "previousAdminRole", "bytes32"),
            ("new_admin_role", "newAdminRole", "bytes32"),
        ],
    ),
}

# The `events` view's typed columns per table: (holder, counterparty, merchant, amount) expressions.
_VIEW_COLUMNS: dict[str, tuple[str, str, str, str]] = {
    "transfers": (
        f"NULLIF(sender, '{ZERO}')",
        f"NULLIF(receiver, '{ZERO}')",
        "NULL",
        "value",
    ),
    "approvals": ("owner", "spender", "NULL", "value"),
    "point_burns": ("holder", "NULL", "NULL", "amount"),
    "checkouts": ("customer", "NULL", "merchant", "points"),
    "redemptions": ("holder", "NULL", "NULL", "points"),
    "spends": ("holder", "NULL", "merchant", "points"),
    "fundings": ("funder", "NULL", "NULL", "amount"),
    "tax_withdrawals": ("recipient", "NULL", "NULL", "amount"),
    "merchant_updates": ("NULL", "NULL", "merchant", "NULL"),
    "tax_collector_updates": ("collector", "NULL", "NULL", "NULL"),
    "pauses": ("account", "NULL", "NULL", "NULL"),
    "unpauses": ("account", "NULL", "NULL", "NULL"),
    "role_grants": ("account", "sender", "NULL", "NULL"),
    "role_revocations": ("account", "sender", "NULL", "NULL"),
}

# Secondary indexes for the API: an account's events by keyset (block, log index). Transfers by
# party are served by the balance indexes below; merchants' figures by `merchant_daily` (an index
# per merchant on checkouts would cost a backfill about a tenth of its write time).
_ACCOUNT_INDEXES: dict[str, list[str]] = {
    "checkouts": ["customer"],
    "redemptions": ["holder"],
    "spends": ["holder"],
    "fundings": ["funder"],
    "point_burns": ["holder"],
    "approvals": ["owner"],
}


def _reset_mirror() -> None:
    """Empty the derived tables and set every cursor back to just before its deployment."""
    for table in ("blocks", "balances", "pool_states", "merchants", "merchant_daily"):
        op.execute(f"DELETE FROM {table}")
    op.execute(
        "UPDATE indexer_state SET cursor_block = deployment_block - 1, cursor_hash = NULL,"
        " halted_reason = NULL, updated_at = now()"
    )


def _json_value(column: str, kind: str) -> str:
    return column if kind in ("bool", "address", "bytes32") else f"{column}::text"


def _events_view() -> str:
    selects = []
    for table, (contract, event, columns) in EVENT_TABLES.items():
        pairs = ", ".join(f"'{param}', {_json_value(column, kind)}" for column, param, kind in columns)
        holder, counterparty, merchant, amount = _VIEW_COLUMNS.get(table, ("NULL", "NULL", "NULL", "NULL"))
        selects.append(
            f"SELECT t.chain_id, t.block_number, t.log_index, b.timestamp AS block_time, t.tx_hash,"
            f" s.{contract} AS address, '{event}'::text AS name, jsonb_build_object({pairs}) AS args,"
            f" {holder}::text AS holder, {counterparty}::text AS counterparty, {merchant}::text AS merchant,"
            f" {amount}::numeric(78,0) AS amount"
            f" FROM {table} t JOIN blocks b ON b.chain_id = t.chain_id AND b.number = t.block_number"
            f" JOIN indexer_state s ON s.chain_id = t.chain_id"
        )
    return "CREATE VIEW events AS " + " UNION ALL ".join(selects)


BALANCE_CHANGES_VIEW = (
    "CREATE VIEW balance_changes AS"
    " SELECT chain_id, sender AS holder, block_number, log_index,"
    "  CASE WHEN sender = receiver THEN 0 ELSE -value END::numeric(78,0) AS delta,"
    "  sender_balance_after AS balance_after"
    f" FROM transfers WHERE sender <> '{ZERO}'"
    " UNION ALL"
    " SELECT chain_id, receiver, block_number, log_index, value, receiver_balance_after"
    f" FROM transfers WHERE receiver <> '{ZERO}' AND receiver <> sender"
)


def upgrade() -> None:
    _reset_mirror()
    op.drop_table("events")
    op.drop_table("balance_changes")
    for table, (_, _, columns) in EVENT_TABLES.items():
        extra = []
        if table == "transfers":
            # Each party's balance after the transfer (NULL for the zero address): the balance history.
            extra = [sa.Column("sender_balance_after", UINT), sa.Column("receiver_balance_after", UINT)]
        op.create_table(
            table,
            sa.Column("chain_id", sa.BigInteger, nullable=False),
            sa.Column("block_number", sa.BigInteger, nullable=False),
            sa.Column("log_index", sa.Integer, nullable=False),
            sa.Column("tx_hash", sa.Text, nullable=False),
            *(sa.Column(column, _TYPES[kind], nullable=False) for column, _, kind in columns),
            *extra,
            sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index"),
        )
    # Balance history and "balance at block" per holder, one index per side of a transfer.
    for side in ("sender", "receiver"):
        op.create_index(
            f"transfers_{side}_idx",
            "transfers",
            ["chain_id", side, "block_number", "log_index"],
            postgresql_where=sa.text(f"{side} <> '{ZERO}'"),
        )
    for table, indexed in _ACCOUNT_INDEXES.items():
        for column in indexed:
            op.create_index(f"{table}_{column}_idx", table, ["chain_id", column, "block_number", "log_index"])
    op.execute(_events_view())
    op.execute(BALANCE_CHANGES_VIEW)


def downgrade() -> None:
    _reset_mirror()
    op.execute("DROP VIEW balance_changes")
    op.execute("DROP VIEW events")
    for table in EVENT_TABLES:
        op.drop_table(table)
    # The 0001 tables, as 0001 created them.
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
        sa.Column("holder", sa.Text, nullable=True),
        sa.Column("counterparty", sa.Text, nullable=True),
        sa.Column("merchant", sa.Text, nullable=True),
        sa.Column("amount", UINT, nullable=True),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index"),
    )
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
        "balance_changes",
        sa.Column("chain_id", sa.BigInteger, nullable=False),
        sa.Column("holder", sa.Text, nullable=False),
        sa.Column("block_number", sa.BigInteger, nullable=False),
        sa.Column("log_index", sa.Integer, nullable=False),
        sa.Column("delta", UINT, nullable=False),
        sa.Column("balance_after", UINT, nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "holder", "block_number", "log_index"),
    )
