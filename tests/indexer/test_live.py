"""`greenpoints index` (live): follows new blocks, rolls back a shallow reorg, stops with exit 3 on a deep one."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from sqlalchemy import Engine

from greenpoints.simulate import simulate
from indexer.audit import audit
from indexer.rpc import RpcClient
from indexer.target import Target
from tests.indexer.conftest import GREENPOINTS, Chain, cli_env
from tests.indexer.helpers import scalar
from tests.indexer.test_reorg import anvil_reorg, replacement_checkouts


def wait_for_cursor(engine: Engine, block: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if (scalar(engine, "SELECT cursor_block FROM indexer_state") or -1) >= block:
                return
        except Exception:  # the schema is not there yet
            pass
        time.sleep(0.1)
    raise AssertionError(f"the indexer did not reach block {block} within {timeout} s")


def test_live_index_follows_reorgs_and_halts_on_a_deep_one(
    private_chain: Chain, db_url: str, engine: Engine, tmp_path: Path
) -> None:
    w3 = private_chain.w3
    simulate(w3, private_chain.deployment, 15, seed=9, log=None)
    deployment_file = private_chain.deployment.save(tmp_path / "deployment.json")
    env = cli_env(db_url, private_chain.url, deployment_file, poll_interval="0.2", reorg_window="6")
    process = subprocess.Popen(
        [str(GREENPOINTS), "index"], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for_cursor(engine, w3.eth.block_number)
        simulate(w3, private_chain.deployment, 5, seed=10, log=None)
        head = w3.eth.block_number
        wait_for_cursor(engine, head)
        anvil_reorg(w3, 3, replacement_checkouts(private_chain, 3, "live"))
        rpc = RpcClient(private_chain.url)
        target = Target.from_deployment(private_chain.deployment)
        new_head_hash = rpc.get_block(head).hash  # type: ignore[union-attr]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # the live loop rolls back and re-indexes the new blocks
            if scalar(engine, "SELECT cursor_hash FROM indexer_state") == new_head_hash:
                break
            time.sleep(0.1)
        report = audit(engine, rpc, target)
        assert report.ok, report.render()
        assert report.block == head

        anvil_reorg(w3, 12, replacement_checkouts(private_chain, 12, "live-deep"))
        code = process.wait(timeout=30)
        assert code == 3, process.stderr.read() if process.stderr else ""
        assert scalar(engine, "SELECT halted_reason FROM indexer_state")
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=20)


def test_live_index_stops_cleanly_on_sigterm(private_chain: Chain, db_url: str, engine: Engine, tmp_path: Path) -> None:
    deployment_file = private_chain.deployment.save(tmp_path / "deployment.json")
    env = cli_env(db_url, private_chain.url, deployment_file, poll_interval="0.2")
    process = subprocess.Popen(
        [str(GREENPOINTS), "index"], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for_cursor(engine, private_chain.w3.eth.block_number)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
