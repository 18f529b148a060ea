"""The indexer against a faulty JSON-RPC endpoint: HTTP 500 and 429, delays, dropped connections,
and `eth_getLogs` ranges refused as too large. `index --once` through the fault proxy must finish
with exit 0, `audit` (straight against the node) must pass, and the mirror must equal one made
without faults. The proxy itself is checked first, so a passing indexer run means something.
"""

from __future__ import annotations

import hashlib
import json
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from greenpoints.anvil import Anvil
from greenpoints.build import build
from greenpoints.deployment import load_deployment
from tests.resilience.conftest import (
    CursorWatch,
    IndexerProcess,
    IndexerSetup,
    describe,
    diff_snapshots,
    run_cli,
    snapshot_tables,
)
from tests.resilience.faultproxy import FAULT_KINDS, RANGE_ERROR, FaultConfig, FaultProxy
from tests.resilience.workload import Rpc, cached_simulation, checkout_data

ACTIONS = 250  # greenpoints.simulate actions (about one block each)
BATCH_SIZE = 64  # blocks per indexing batch
MAX_LOG_RANGE = 16  # the proxy refuses wider eth_getLogs ranges
OUTAGE = 13.0  # seconds the node is unreachable: longer than the indexer's retry budget (~11 s)


@dataclass
class SimulatedChain:
    node: Anvil
    deployment_path: Path
    head: int


@pytest.fixture(scope="module")
def simulated() -> Iterator[SimulatedChain]:
    """An anvil with a deployment and a few hundred simulated actions (generated once, then
    loaded from the cache in .greenpoints/workloads/)."""
    build()
    chain = cached_simulation(ACTIONS, seed=11)
    with chain.start() as node:
        yield SimulatedChain(node, chain.deployment_path, int(chain.info["head"]))


def rpc(url: str, body: Any) -> requests.Response:
    return requests.post(url, json=body, timeout=10)


def test_fault_proxy_injects_each_kind(simulated: SimulatedChain) -> None:
    """The proxy forwards, refuses wide eth_getLogs (also inside batches), and injects faults."""
    forced = {1: "http_500", 2: "http_429", 3: "drop", 4: "delay"}
    config = FaultConfig(seed=1, max_log_range=10, forced=forced, delay_range=(0.3, 0.3))
    with FaultProxy(simulated.node.url, config) as proxy:
        assert rpc(proxy.url, {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}).status_code == 500
        assert rpc(proxy.url, {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}).status_code == 429
        with pytest.raises(requests.ConnectionError):
            rpc(proxy.url, {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"})
        answer = rpc(proxy.url, {"jsonrpc": "2.0", "id": 7, "method": "eth_chainId"})
        assert answer.elapsed.total_seconds() >= 0.25 and answer.json() == {
            "jsonrpc": "2.0",
            "id": 7,
            "result": "0x7a69",
        }
        wide = {"fromBlock": "0x0", "toBlock": hex(simulated.head)}
        narrow = {"fromBlock": "0x1", "toBlock": "0x5"}
        single = rpc(proxy.url, {"jsonrpc": "2.0", "id": 3, "method": "eth_getLogs", "params": [wide]}).json()
        assert single == {"jsonrpc": "2.0", "id": 3, "error": RANGE_ERROR}
        latest = {"fromBlock": "0x0", "toBlock": "latest"}
        batch = [
            {"jsonrpc": "2.0", "id": 10, "method": "eth_getLogs", "params": [wide]},
            {"jsonrpc": "2.0", "id": 11, "method": "eth_getLogs", "params": [narrow]},
            {"jsonrpc": "2.0", "id": 12, "method": "eth_chainId", "params": []},
            {"jsonrpc": "2.0", "id": 13, "method": "eth_getLogs", "params": [latest]},
        ]
        answers = rpc(proxy.url, batch).json()
        assert [a["id"] for a in answers] == [10, 11, 12, 13]
        assert answers[0]["error"] == RANGE_ERROR and answers[3]["error"] == RANGE_ERROR
        assert isinstance(answers[1]["result"], list) and answers[1]["result"]
        assert answers[2]["result"] == "0x7a69"
        assert dict(proxy.counts) == {"http_500": 1, "http_429": 1, "drop": 1, "delay": 1, "range_refused": 3}
    with pytest.raises(requests.ConnectionError):
        rpc(proxy.url, {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"})  # stopped: nothing listens


def test_index_once_through_faulty_rpc(simulated: SimulatedChain, make_db: Any, tmp_path: Path) -> None:
    direct = IndexerSetup(simulated.node.url, make_db("faults"), simulated.deployment_path, tmp_path)
    # Random faults on about a fifth of the requests, plus one of each kind early on for certain.
    config = FaultConfig(
        seed=20261126,
        p_http_500=0.05,
        p_http_429=0.05,
        p_drop=0.05,
        p_delay=0.15,
        delay_range=(0.02, 0.25),
        max_log_range=MAX_LOG_RANGE,
        forced={5: "http_500", 9: "http_429", 13: "drop", 17: "delay"},
    )
    with FaultProxy(simulated.node.url, config) as proxy:
        faulty = direct.with_(rpc_url=proxy.url)
        result = run_cli(faulty, "index", "--once", batch_size=BATCH_SIZE, confirmations=0, timeout=300)
        counts = dict(proxy.counts)
    summary = f"proxy: {proxy.requests} requests, {proxy.calls} calls, injected {counts}"
    print(summary)
    assert result.returncode == 0, f"`greenpoints index --once` through the fault proxy: {describe(result)}"
    missing = [kind for kind in FAULT_KINDS if counts.get(kind, 0) < 1]
    assert not missing, f"the proxy injected no {missing}; {summary}"

    audit = run_cli(direct, "audit")
    assert audit.returncode == 0, f"`greenpoints audit` after indexing through faults: {describe(audit)}"

    # The same chain indexed without faults gives the same mirror, row for row.
    clean = direct.with_(database=make_db("faults_ref"))
    reference = run_cli(clean, "index", "--once", batch_size=BATCH_SIZE, confirmations=0)
    assert reference.returncode == 0, describe(reference)
    problems = diff_snapshots(snapshot_tables(direct.database), snapshot_tables(clean.database))
    assert not problems, "mirror made through faults differs from a clean one:\n" + "\n".join(problems)
    print(json.dumps({"faults": counts, "requests": proxy.requests}))


def test_live_index_rides_out_a_node_outage(
    simulated: SimulatedChain, make_db: Any, processes: list[IndexerProcess], tmp_path: Path
) -> None:
    """Live `greenpoints index` through the proxy: the node becomes unreachable (every request
    a 500 or a dropped connection) for longer than the indexer's retry budget while blocks keep
    coming; afterwards the same process catches up, stops cleanly on SIGTERM, and audit passes.
    (Runs last in this module: it adds blocks to the shared chain.)"""
    setup = IndexerSetup(simulated.node.url, make_db("outage"), simulated.deployment_path, tmp_path)
    with FaultProxy(simulated.node.url, FaultConfig()) as proxy:
        live = IndexerProcess(setup.with_(rpc_url=proxy.url), "index", name="live", poll_interval=0.3, confirmations=0)
        processes.append(live)
        with CursorWatch(setup.database) as watch:
            assert watch.wait_for(lambda c: c == simulated.head, 60) is not None, live.output()
            proxy.config = FaultConfig(seed=5, p_http_500=0.5, p_drop=0.5)  # the node is gone
            node = Rpc(simulated.node.url)
            deployment = load_deployment(simulated.deployment_path)
            merchant = deployment.merchants[0].address
            customer = node.call("eth_accounts")[6]
            for i in range(3):
                order = hashlib.sha256(f"outage:{i}".encode()).digest()
                tx = {"from": merchant, "to": deployment.pool, "data": checkout_data(customer, 10**6, order)}
                node.call("eth_sendTransaction", [{**tx, "gas": hex(400_000)}])
                time.sleep(OUTAGE / 3)
            head = int(node.call("eth_blockNumber"), 16)
            node.close()
            assert live.alive(), f"the live indexer died during the outage:\n{live.output()[-3000:]}"
            assert (watch.read() or 0) < head
            proxy.config = FaultConfig()  # the node is back
            assert watch.wait_for(lambda c: c == head, 60) is not None, live.output()[-3000:]
        injected = dict(proxy.counts)
        live.signal(signal.SIGTERM)
        code = live.wait(timeout=30)
    assert injected.get("http_500", 0) + injected.get("drop", 0) > 0, injected
    assert code == 0, f"live indexer exit code {code} on SIGTERM:\n{live.output()[-3000:]}"
    audit = run_cli(setup, "audit")
    assert audit.returncode == 0, f"`greenpoints audit` after the outage: {describe(audit)}"
