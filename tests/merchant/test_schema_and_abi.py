"""What the merchant tools assume of others: the compiled ABIs behind their hand-written call
signatures, and a database shared with the indexer, each schema under its own migrations."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from alembic.script import ScriptDirectory
from eth_hash.auto import keccak

from greenpoints import databases
from greenpoints.artifacts import abi as compiled_abi
from indexer import migrate as indexer_migrate
from merchant import abi, migrate


def _functions(contract: str) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    return {
        e["name"]: (tuple(i["type"] for i in e["inputs"]), tuple(o["type"] for o in e["outputs"]))
        for e in compiled_abi(contract)
        if e["type"] == "function"
    }


@pytest.mark.parametrize("fn", abi.FUNCTIONS, ids=lambda f: f.name)
def test_pool_calls_match_the_compiled_pool(artifacts: None, fn: abi.Function) -> None:
    assert _functions("DividendPool")[fn.name] == (fn.inputs, fn.outputs)


@pytest.mark.parametrize("fn", abi.ERC20_FUNCTIONS, ids=lambda f: f.name)
def test_asset_calls_match_the_compiled_stablecoin(artifacts: None, fn: abi.Function) -> None:
    assert _functions("TestStablecoin")[fn.name] == (fn.inputs, fn.outputs)


def test_event_topics_match_the_compiled_pool(artifacts: None) -> None:
    events = {e["name"]: e for e in compiled_abi("DividendPool") if e["type"] == "event"}
    for name, topic in (("CheckedOut", abi.CHECKED_OUT_TOPIC), ("Spent", abi.SPENT_TOPIC)):
        signature = f"{name}({','.join(i['type'] for i in events[name]['inputs'])})"
        assert "0x" + bytes(keccak(signature.encode())).hex() == topic
        assert [i["indexed"] for i in events[name]["inputs"]][:3] == [True, True, True]


def test_head_constant_is_alembics_head() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config("postgresql+psycopg://unused/unused"))
    assert script.get_heads() == [migrate.HEAD]


@pytest.fixture
def shared_db() -> Iterator[str]:
    name = f"gp_shared_{uuid.uuid4().hex[:10]}"
    url = databases.create_database(name)
    try:
        yield url
    finally:
        databases.drop_database(name)


def _tables(url: str) -> set[str]:
    with psycopg.connect(migrate.libpq_url(url)) as conn:
        rows = conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'").fetchall()
    return {r[0] for r in rows}


def test_the_outbox_shares_a_database_with_the_indexer(shared_db: str) -> None:
    indexer_migrate.upgrade(shared_db)
    indexer_tables = _tables(shared_db)
    migrate.upgrade_if_needed(shared_db)
    both = _tables(shared_db)
    assert both - indexer_tables == {
        "gateway_alembic_version",
        "gateway_checkouts",
        "gateway_transactions",
        "gateway_webhooks",
    }
    assert migrate.current(shared_db) == migrate.HEAD
    assert indexer_migrate.current(shared_db) == indexer_migrate.HEAD  # its own version table, untouched
    migrate.upgrade_if_needed(shared_db)  # already at head: nothing to do
    migrate.downgrade(shared_db)
    assert _tables(shared_db) == indexer_tables | {"gateway_alembic_version"}
    assert indexer_migrate.current(shared_db) == indexer_migrate.HEAD
