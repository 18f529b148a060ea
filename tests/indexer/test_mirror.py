"""After a random workload the mirror equals the chain, and indexing again changes nothing."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from web3 import Web3

from greenpoints.deployment import Deployment
from greenpoints.pool_state import read_pool_state
from greenpoints.simulate import SimulationResult, simulate
from indexer import db, migrate
from indexer.audit import audit
from indexer.derive import price_of
from indexer.worker import BackfillWorker
from tests.conftest import PoolEnv, make_env
from tests.indexer.conftest import cli_env, create_database, drop_database, make_indexer, run_cli
from tests.indexer.helpers import assert_aggregates_consistent, dump, rows, scalar

# Actions in the shared random workload (most of this module's runtime goes into sending them).
WORKLOAD_ACTIONS = 200


@pytest.fixture(scope="module")
def workload(w3: Web3, deployed: dict[int, Deployment]) -> Iterator[tuple[PoolEnv, SimulationResult]]:
    """The session chain after a random workload of WORKLOAD_ACTIONS actions (reverted after this module)."""
    snap = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    env = make_env(w3, deployed[6])
    result = simulate(w3, env.deployment, WORKLOAD_ACTIONS, seed=11, log=None)
    yield env, result
    w3.provider.make_request("evm_revert", [snap])  # type: ignore[arg-type]


def test_workload_mirror_equals_chain(workload: tuple[PoolEnv, SimulationResult], engine: Engine) -> None:
    env, result = workload
    assert {"checkout", "transfer", "spend", "redeem", "fund", "burn", "approve_burn"} <= set(result.counts)
    indexer = make_indexer(engine, env.w3.provider.endpoint_uri, env.deployment, batch_size=40)  # type: ignore[attr-defined]
    written = indexer.catch_up()
    head = env.w3.eth.block_number
    assert written > 300
    assert scalar(engine, "SELECT cursor_block FROM indexer_state") == head

    report = audit(engine, indexer.rpc, indexer.target)
    assert report.ok, report.render()
    assert report.holders >= 10

    # The last pool state equals the chain's views.
    state = read_pool_state(env.w3, env.deployment, head)
    last = rows(
        engine,
        "SELECT reserve, supply, tax_accrued, price FROM pool_states"
        " ORDER BY block_number DESC, log_index DESC LIMIT 1",
    )[0]
    assert (int(last.reserve), int(last.supply), int(last.tax_accrued), int(last.price)) == (
        state.reserve,
        state.supply,
        state.tax_accrued,
        state.price,
    )
    # Every pool-state row's price is the contract's formula; direct burns have rows of their own.
    for r in rows(engine, "SELECT reserve, supply, price FROM pool_states"):
        assert int(r.price) == price_of(int(r.reserve), int(r.supply), env.deployment.asset_decimals)
    kinds = {r.kind for r in rows(engine, "SELECT DISTINCT kind FROM pool_states")}
    assert {"CheckedOut", "Redeemed", "Spent", "Funded", "PointsBurned", "TaxWithdrawn"} <= kinds
    assert_pool_states_equal_the_chain(engine, env)

    # Balance at a historic block equals balanceOf at that block.
    historic = env.deployment.deployment_block + (head - env.deployment.deployment_block) // 2
    holders = [r.holder for r in rows(engine, "SELECT holder FROM balances")]
    for holder in holders:
        at = scalar(
            engine,
            "SELECT balance_after FROM balance_changes WHERE holder = :h AND block_number <= :b"
            " ORDER BY block_number DESC, log_index DESC LIMIT 1",
            h=holder,
            b=historic,
        )
        chain = env.token.functions.balanceOf(env.w3.to_checksum_address(holder)).call(block_identifier=historic)
        assert int(at or 0) == chain, holder
    # The pool state at that block too.
    old = read_pool_state(env.w3, env.deployment, historic)
    then = rows(
        engine,
        "SELECT reserve, supply FROM pool_states WHERE block_number <= :b"
        " ORDER BY block_number DESC, log_index DESC LIMIT 1",
        b=historic,
    )[0]
    assert (int(then.reserve), int(then.supply)) == (old.reserve, old.supply)

    # Per-day merchant totals agree with the events; merchants match the chain (audit checked them).
    totals = rows(
        engine,
        "SELECT merchant, sum(minted) AS minted, sum(spent) AS spent, sum(checkouts) AS n"
        " FROM merchant_daily GROUP BY merchant ORDER BY merchant",
    )
    for t in totals:
        minted = scalar(
            engine,
            "SELECT coalesce(sum(amount), 0) FROM events WHERE name = 'CheckedOut' AND merchant = :m",
            m=t.merchant,
        )
        spent = scalar(
            engine, "SELECT coalesce(sum(amount), 0) FROM events WHERE name = 'Spent' AND merchant = :m", m=t.merchant
        )
        assert (t.minted, t.spent) == (minted, spent)
    assert sum(int(t.n) for t in totals) == result.counts["checkout"]
    assert_aggregates_consistent(engine)
    # uint256 arguments are decimal strings in JSON.
    args = scalar(engine, "SELECT args FROM events WHERE name = 'CheckedOut' LIMIT 1")
    assert isinstance(args["points"], str) and args["points"].isdigit()


def assert_pool_states_equal_the_chain(engine: Engine, env: PoolEnv) -> None:
    """The last pool-state row of every block equals the pool's views called at that block."""
    last_of_block = rows(
        engine,
        "SELECT DISTINCT ON (block_number) block_number, reserve, supply, tax_accrued, price FROM pool_states"
        " ORDER BY block_number, log_index DESC",
    )
    assert len(last_of_block) > 100
    views = [(env.pool, "reserve"), (env.token, "totalSupply"), (env.pool, "taxAccrued"), (env.pool, "price")]
    requests = [
        ("eth_call", [{"to": c.address, "data": c.encode_abi(name, [])}, hex(r.block_number)])
        for r in last_of_block
        for c, name in views
    ]
    answers = env.w3.provider.make_batch_request(requests)  # type: ignore[attr-defined]
    assert isinstance(answers, list)
    chain = [int(a["result"], 16) for a in answers]
    for i, r in enumerate(last_of_block):
        mirror = [int(r.reserve), int(r.supply), int(r.tax_accrued), int(r.price)]
        assert mirror == chain[4 * i : 4 * i + 4], f"pool_states at block {r.block_number}"


def test_indexing_twice_and_replaying_change_nothing(
    workload: tuple[PoolEnv, SimulationResult], engine: Engine
) -> None:
    env, _ = workload
    url = env.w3.provider.endpoint_uri  # type: ignore[attr-defined]
    indexer = make_indexer(engine, url, env.deployment, batch_size=25)
    indexer.catch_up()
    before = dump(engine)
    assert indexer.catch_up() == 0
    assert dump(engine) == before

    # Replay a range: move the cursor back (to a block whose hash is stored) and index again.
    head = before["indexer_state"][0][2]
    back = rows(engine, "SELECT number, hash FROM blocks WHERE number < :h ORDER BY number LIMIT 1", h=head - 5)[0]
    with engine.begin() as conn:
        db.set_cursor(conn, indexer.target, back.number, back.hash)
    again = make_indexer(engine, url, env.deployment, batch_size=7)
    assert again.catch_up() == 0  # every event of the range is already stored
    assert dump(engine) == before


def test_cli_index_once_and_audit(workload: tuple[PoolEnv, SimulationResult], db_url: str, tmp_path: Path) -> None:
    env, _ = workload
    deployment_file = env.deployment.save(tmp_path / "deployment.json")
    cli = cli_env(db_url, env.w3.provider.endpoint_uri, deployment_file)  # type: ignore[attr-defined]
    done = run_cli(["index", "--once"], cli, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "indexed up to block" in done.stdout
    checked = run_cli(["audit"], cli, tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "mirror equals the chain" in checked.stdout

    # A difference makes the audit fail with exit code 1.
    engine = db.make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE balances SET balance = balance + 1 WHERE holder = (SELECT min(holder) FROM balances)")
        )
    engine.dispose()
    broken = run_cli(["audit"], cli, tmp_path)
    assert broken.returncode == 1
    assert "DIFF" in broken.stdout
    assert broken.stderr.strip().count("\n") == 0 and "greenpoints: error: audit failed" in broken.stderr


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ("UPDATE fee_updates SET fee_bps = fee_bps + 1", "fees (feeBps, taxBps)"),
        ("UPDATE pool_share_updates SET pool_share_bps = 4000", "poolShareBps"),
        ("UPDATE tax_collector_updates SET collector = '0x" + "0" * 39 + "1'", "taxCollector"),
        ("DELETE FROM global_cap_updates", "globalDailyCap"),
    ],
)
def test_audit_names_a_parameter_the_mirror_got_wrong(
    workload: tuple[PoolEnv, SimulationResult], engine: Engine, change: str, named: str
) -> None:
    env, _ = workload
    indexer = make_indexer(engine, env.w3.provider.endpoint_uri, env.deployment, batch_size=500)  # type: ignore[attr-defined]
    indexer.catch_up()
    assert audit(engine, indexer.rpc, indexer.target).ok
    with engine.begin() as conn:
        conn.execute(text(change))
    report = audit(engine, indexer.rpc, indexer.target)
    assert [d.split(":")[0] for d in report.differences] == [named]


@pytest.fixture
def second_engine(pg_server: None) -> Iterator[Engine]:
    """Another fresh database migrated to head, for comparing two ways of indexing one chain."""
    name, url = create_database()
    migrate.upgrade(url)
    engine = db.make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        drop_database(name)


def test_backfill_worker_writes_what_the_writer_would(
    workload: tuple[PoolEnv, SimulationResult],
    engine: Engine,
    second_engine: Engine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    env, _ = workload
    url = env.w3.provider.endpoint_uri  # type: ignore[attr-defined]
    with_worker = make_indexer(engine, url, env.deployment, batch_size=15, worker_min_blocks=0)
    with caplog.at_level(logging.INFO, logger="indexer.sync"):
        with_worker.start_reading(with_worker.target.deployment_block - 1)
        with_worker.catch_up()
        with_worker.close()
    used = re.search(r"backfill worker done batches=(\d+)", caplog.text)
    assert used is not None and int(used.group(1)) >= 5, caplog.text
    by_itself = make_indexer(second_engine, url, env.deployment, batch_size=15)
    by_itself.catch_up()
    by_itself.close()
    assert dump(engine) == dump(second_engine)
    report = audit(engine, with_worker.rpc, with_worker.target)
    assert report.ok, report.render()


def test_a_worker_batch_from_another_state_is_not_written(
    workload: tuple[PoolEnv, SimulationResult], engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """The worker derives from the state it carries; if the database holds another one (here a
    balance changed behind its back), the writer must not store the worker's batch."""
    env, _ = workload
    url = env.w3.provider.endpoint_uri  # type: ignore[attr-defined]
    indexer = make_indexer(engine, url, env.deployment, batch_size=15)
    while True:  # index by itself until the worker's first batch touches a holder with a balance
        cursor = scalar(engine, "SELECT cursor_block FROM indexer_state")
        worker = BackfillWorker(indexer.worker_params(cursor))
        first = worker.peek()
        assert first is not None, worker.ended
        stored = rows(
            engine, "SELECT holder FROM balances WHERE balance > 0 AND holder = ANY(:h)", h=list(first.prior_balances)
        )
        if stored:
            break
        worker.stop()
        indexer.cycle()
    holder = stored[0].holder
    with engine.begin() as conn:  # the database's state is no longer the one the worker read
        conn.execute(text("UPDATE balances SET balance = balance + 1000 WHERE holder = :h"), {"h": holder})
    indexer.adopt_worker(worker)
    with caplog.at_level(logging.INFO, logger="indexer.sync"):
        indexer.catch_up()
    indexer.close()
    assert "backfill worker batch not used" in caplog.text
    assert "balance differs" in caplog.text
    # Every batch was derived from the database's (changed) balance, none from the worker's.
    chain = env.token.functions.balanceOf(env.w3.to_checksum_address(holder)).call()
    assert int(scalar(engine, "SELECT balance FROM balances WHERE holder = :h", h=holder)) == chain + 1000
    report = audit(engine, indexer.rpc, indexer.target)
    others = [d for d in report.differences if holder not in d and "sum of balances" not in d]
    assert len(report.differences) == 2 and others == [], report.render()


def test_a_worker_reading_after_another_cursor_is_dropped(
    workload: tuple[PoolEnv, SimulationResult], engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """A worker started before another writer moved the cursor (a standby taking over) is stopped;
    the writer reads by itself and the mirror is exact."""
    env, _ = workload
    url = env.w3.provider.endpoint_uri  # type: ignore[attr-defined]
    indexer = make_indexer(engine, url, env.deployment, batch_size=15)
    worker = BackfillWorker(indexer.worker_params(indexer.target.deployment_block - 1))
    indexer.cycle()  # the cursor moves on without the worker
    indexer.adopt_worker(worker)
    with caplog.at_level(logging.INFO, logger="indexer.sync"):
        indexer.catch_up()
    indexer.close()
    assert "backfill worker read after another cursor" in caplog.text
    report = audit(engine, indexer.rpc, indexer.target)
    assert report.ok, report.render()
