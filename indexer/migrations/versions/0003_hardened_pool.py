"""The hardened pool's events: `TaxWithdrawn` carries the reserve and supply after it, and the new
events get tables (spend permissions cancelled, the global daily cap, the 2-step admin transfer).

The events of a pool deployed before the hardening have other layouts, so the upgrade empties the
mirror and sets the cursor back to the deployment: the next `greenpoints index` re-indexes (the
downgrade does the same in the other direction).

Revision ID: 0003_hardened_pool
Revises: 0002_typed_event_tables
Create Date: 2026-12-03
"""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic import op

revision: str = "0003_hardened_pool"
down_revision: str | None = "0002_typed_event_tables"
branch_labels: str | None = None
depends_on: str | None = None

# The 0002 revision's table list and view builder, frozen there; this revision extends them.
_v2 = importlib.import_module("indexer.migrations.versions.0002_typed_event_tables")

UINT = sa.Numeric(78, 0)

# table -> (contract, event, [(column, ABI parameter, kind)]): the events new in this revision.
NEW_EVENT_TABLES: dict[str, tuple[str, str, list[tuple[str, str, str]]]] = {
    "spend_permission_cancellations": (
        "pool",
        "SpendPermissionsCancelled",
        [("holder", "holder", "address"), ("nonce", "nonce", "uint")],
    ),
    "global_cap_updates": ("pool", "GlobalDailyCapSet", [("cap", "cap", "uint")]),
    "admin_transfer_schedules": (
        "pool",
        "DefaultAdminTransferScheduled",
        [("new_admin", "newAdmin", "address"), ("accept_schedule", "acceptSchedule", "uint")],
    ),
    "admin_transfer_cancellations": ("pool", "DefaultAdminTransferCanceled", []),
    "admin_delay_schedules": (
        "pool",
        "DefaultAdminDelayChangeScheduled",
        [("new_delay", "newDelay", "uint"), ("effect_schedule", "effectSchedule", "uint")],
    ),
    "admin_delay_cancellations": ("pool", "DefaultAdminDelayChangeCanceled", []),
}
TAX_WITHDRAWN = (
    "pool",
    "TaxWithdrawn",
    [
        ("recipient", "to", "address"),
        ("amount", "amount", "uint"),
        ("reserve_after", "reserveAfter", "uint"),
        ("supply_after", "supplyAfter", "uint"),
    ],
)


def _all_event_tables() -> dict[str, tuple[str, str, list[tuple[str, str, str]]]]:
    return {**_v2.EVENT_TABLES, "tax_withdrawals": TAX_WITHDRAWN, **NEW_EVENT_TABLES}


def _reset_mirror() -> None:
    """Empty every event and derived table and set the cursor back to just before the deployment."""
    for table in _v2.EVENT_TABLES:
        op.execute(f"DELETE FROM {table}")
    for table in NEW_EVENT_TABLES:
        if op.get_bind().dialect.has_table(op.get_bind(), table):
            op.execute(f"DELETE FROM {table}")
    _v2._reset_mirror()


def _recreate_events_view(tables: dict[str, tuple[str, str, list[tuple[str, str, str]]]]) -> None:
    """The `events` view over `tables`, with the typed columns 0002 defined (and the new holder one)."""
    view_columns = {**_v2._VIEW_COLUMNS, "spend_permission_cancellations": ("holder", "NULL", "NULL", "NULL")}
    selects = []
    for table, (contract, event, columns) in tables.items():
        pairs = ", ".join(f"'{param}', {_v2._json_value(column, kind)}" for column, param, kind in columns)
        holder, counterparty, merchant, amount = view_columns.get(table, ("NULL", "NULL", "NULL", "NULL"))
        selects.append(
            f"SELECT t.chain_id, t.block_number, t.log_index, b.timestamp AS block_time, t.tx_hash,"
            f" s.{contract} AS address, '{event}'::text AS name, jsonb_build_object({pairs}) AS args,"
            f" {holder}::text AS holder, {counterparty}::text AS counterparty, {merchant}::text AS merchant,"
            f" {amount}::numeric(78,0) AS amount"
            f" FROM {table} t JOIN blocks b ON b.chain_id = t.chain_id AND b.number = t.block_number"
            f" JOIN indexer_state s ON s.chain_id = t.chain_id"
        )
    op.execute("DROP VIEW events")
    op.execute("CREATE VIEW events AS " + " UNION ALL ".join(selects))


def upgrade() -> None:
    _reset_mirror()
    op.add_column("tax_withdrawals", sa.Column("reserve_after", UINT, nullable=False))
    op.add_column("tax_withdrawals", sa.Column("supply_after", UINT, nullable=False))
    for table, (_, _, columns) in NEW_EVENT_TABLES.items():
        op.create_table(
            table,
            sa.Column("chain_id", sa.BigInteger, nullable=False),
            sa.Column("block_number", sa.BigInteger, nullable=False),
            sa.Column("log_index", sa.Integer, nullable=False),
            sa.Column("tx_hash", sa.Text, nullable=False),
            *(sa.Column(column, _v2._TYPES[kind], nullable=False) for column, _, kind in columns),
            sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index"),
        )
    _recreate_events_view(_all_event_tables())


def downgrade() -> None:
    _reset_mirror()
    _recreate_events_view(_v2.EVENT_TABLES)
    for table in NEW_EVENT_TABLES:
        op.drop_table(table)
    op.drop_column("tax_withdrawals", "supply_after")
    op.drop_column("tax_withdrawals", "reserve_after")
