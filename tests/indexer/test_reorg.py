"""Reorgs made with anvil's `anvil_reorg`: shallow ones are rolled back, deep ones halt the indexer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from web3 import Web3

from greenpoints.chain import contract
from greenpoints.deploy import local_roles
from greenpoints.simulate import simulate
from indexer import migrate
from indexer.audit import audit
from indexer.db import make_engine
from indexer.errors import IndexerError, IndexerHalted
from indexer.reorg import resync
from tests.indexer.conftest import Chain, cli_env, create_database, drop_database, make_indexer, run_cli
from tests.indexer.helpers import assert_aggregates_consistent, dump, rows, scalar, tx_hashes_of_blocks


def replacement_checkouts(chain: Chain, depth: int, tag: str) -> list[list[Any]]:
    """`depth` new checkouts, one per replaced block: different transactions from the dropped ones."""
    pool = contract(chain.w3, "DividendPool", chain.deployment.pool)
    roles = local_roles(chain.w3)
    txs: list[list[Any]] = []
    for i in range(depth):
        merchant = roles["merchants"][i % len(roles["merchants"])]
        customer = roles["customers"][-1 - (i % 3)]
        order = Web3.keccak(text=f"reorg-{tag}-{i}")
        data = pool.encode_abi("checkout", [customer, (777 + i) * 10**6, order])
        txs.append([{"from": merchant, "to": chain.deployment.pool, "data": data, "gas": hex(600_000)}, i])
    return txs


def anvil_reorg(w3: Web3, depth: int, txs: list[list[Any]]) -> None:
    answer = w3.provider.make_request("anvil_reorg", [depth, txs])  # type: ignore[arg-type]
    assert "error" not in answer, answer


def event_tx_hashes(engine: Engine) -> set[str]:
    return {r.tx_hash for r in rows(engine, "SELECT DISTINCT tx_hash FROM events")}


@pytest.mark.parametrize("depth", [1, 5, 20])
def test_reorg_is_rolled_back_and_reindexed(private_chain: Chain, engine: Engine, depth: int) -> None:
    w3 = private_chain.w3
    simulate(w3, private_chain.deployment, 28, seed=depth, log=None)
    indexer = make_indexer(engine, private_chain.url, private_chain.deployment, batch_size=16)
    indexer.catch_up()
    assert audit(engine, indexer.rpc, indexer.target).ok
    head = w3.eth.block_number
    assert head - depth > private_chain.deployment.deployment_block + 12  # the fork is above the deployment
    dropped = tx_hashes_of_blocks(w3, head - depth + 1, head)
    assert dropped & event_tx_hashes(engine)  # the mirror holds rows of the blocks about to be dropped

    anvil_reorg(w3, depth, replacement_checkouts(private_chain, depth, f"k{depth}"))
    assert w3.eth.block_number == head
    added = tx_hashes_of_blocks(w3, head - depth + 1, head)
    assert added and not added & dropped

    first = indexer.cycle()
    assert first.rolled_back_to == head - depth
    assert scalar(engine, "SELECT max(block_number) FROM events") <= head - depth
    indexer.catch_up()
    report = audit(engine, indexer.rpc, indexer.target)
    assert report.ok, report.render()
    assert_aggregates_consistent(engine)
    stored = event_tx_hashes(engine)
    assert not stored & dropped
    assert added <= stored
    for table, column in (("balance_changes", "block_number"), ("pool_states", "block_number"), ("blocks", "number")):
        assert scalar(engine, f"SELECT count(*) FROM {table} WHERE {column} > :h", h=head) == 0
    # The block-hash chain now follows the node's.
    for number, block_hash in rows(engine, "SELECT number, hash FROM blocks WHERE number > :a", a=head - depth - 2):
        assert w3.eth.get_block(number)["hash"].to_0x_hex() == block_hash
    # Every table equals a fresh index of the new fork: nothing of the dropped blocks survives,
    # nothing of the new ones is missing (pool states, balances, merchant days included).
    assert dump(engine) == fresh_mirror(private_chain, batch_size=16)


def fresh_mirror(chain: Chain, **settings: int) -> dict[str, list[tuple[Any, ...]]]:
    """The dump of a new database that indexed `chain` from the start in one go."""
    name, url = create_database()
    try:
        migrate.upgrade(url)
        engine = make_engine(url)
        try:
            make_indexer(engine, chain.url, chain.deployment, **settings).catch_up()
            return dump(engine)
        finally:
            engine.dispose()
    finally:
        drop_database(name)


def test_deep_reorg_halts_until_resync(private_chain: Chain, db_url: str, engine: Engine, tmp_path: Path) -> None:
    w3 = private_chain.w3
    simulate(w3, private_chain.deployment, 28, seed=42, log=None)
    indexer = make_indexer(engine, private_chain.url, private_chain.deployment, batch_size=50, reorg_window=4)
    indexer.catch_up()
    head = w3.eth.block_number
    anvil_reorg(w3, 10, replacement_checkouts(private_chain, 10, "deep"))

    with pytest.raises(IndexerHalted, match="deeper than the kept window"):
        indexer.catch_up()
    reason = scalar(engine, "SELECT halted_reason FROM indexer_state")
    assert reason and "resync" in reason
    assert scalar(engine, "SELECT cursor_block FROM indexer_state") == head  # nothing was rolled back or written
    with pytest.raises(IndexerHalted):
        make_indexer(engine, private_chain.url, private_chain.deployment, reorg_window=4)
    report = audit(engine, indexer.rpc, indexer.target)
    assert not report.ok
    assert any("halted" in d for d in report.differences)

    # resync refuses blocks it cannot start from: above the cursor, before the deployment, or a
    # block that the reorg itself replaced.
    for bad, message in (
        (head + 5, "above the indexed cursor"),
        (-1, "before the deployment"),
        (head - 2, "itself was replaced"),
    ):
        with pytest.raises(IndexerError, match=message), engine.begin() as conn:
            resync(conn, indexer.rpc, indexer.target, bad)
    assert scalar(engine, "SELECT halted_reason FROM indexer_state")

    # The CLI: index refuses with exit 3, audit fails; resync then index recovers to an audit pass.
    deployment_file = private_chain.deployment.save(tmp_path / "deployment.json")
    cli = cli_env(db_url, private_chain.url, deployment_file, reorg_window="4")
    refused = run_cli(["index", "--once"], cli, tmp_path)
    assert refused.returncode == 3, refused.stderr
    assert "halted" in refused.stderr.splitlines()[-1]
    assert run_cli(["audit"], cli, tmp_path).returncode == 1
    fixed = run_cli(["resync", "--from-block", str(head - 11)], cli, tmp_path)
    assert fixed.returncode == 0, fixed.stderr
    assert scalar(engine, "SELECT halted_reason FROM indexer_state") is None
    again = run_cli(["index", "--once"], cli, tmp_path)
    assert again.returncode == 0, again.stderr
    checked = run_cli(["audit"], cli, tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert_aggregates_consistent(engine)

    # resync --from-deployment drops everything; indexing again rebuilds the same mirror.
    with engine.begin() as conn:
        resync(conn, indexer.rpc, indexer.target, None)
    assert scalar(engine, "SELECT count(*) FROM events") == 0
    assert scalar(engine, "SELECT count(*) FROM balances") == 0
    rebuilt = make_indexer(engine, private_chain.url, private_chain.deployment, reorg_window=4)
    rebuilt.catch_up()
    assert audit(engine, rebuilt.rpc, rebuilt.target).ok
