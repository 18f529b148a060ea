"""After an `anvil_reorg` of 5 blocks and after `resync`, the API answers as a fresh index of the new
chain does; `/readyz` turns 503 when the mirror lags, when the indexer goes silent, and when a deep
reorg halts it."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from web3 import Web3

from greenpoints import databases
from greenpoints.chain import contract
from greenpoints.deploy import local_roles
from indexer.candles import INTERVALS
from tests.api.chain import pages
from tests.api.conftest import Stack, start_stack, stop_stack
from tests.api.processes import GREENPOINTS, ApiServer, Process, wait_for

REORG_WINDOW = 8


@pytest.fixture(scope="module")
def moving(artifacts: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of its own (these tests rewrite its chain), its indexer reading one block per batch
    and keeping a short reorg window; its API strict about lag (3 blocks) and silence (2 s)."""
    stack = start_stack(
        tmp_path_factory.mktemp("api-reorg"),
        seed=11,
        chunks=5,
        per_chunk=4,
        indexer_settings={"batch_size": 1, "reorg_window": REORG_WINDOW},
    )
    stack.api.stop()
    stack.api = stack.start_api("api-strict", api_max_lag=3, api_max_silence=2)
    try:
        yield stack
    finally:
        stop_stack(stack)


def replacements(stack: Stack, depth: int, tag: str) -> list[list[Any]]:
    """One new checkout per replaced block: different transactions from the dropped ones."""
    pool = contract(stack.w3, "DividendPool", stack.deployment.pool)
    customers = local_roles(stack.w3)["customers"]
    out: list[list[Any]] = []
    for i in range(depth):
        merchant = stack.deployment.merchants[i % 2].address
        data = pool.encode_abi("checkout", [customers[-1 - i % 3], (500 + i) * 10**6, Web3.keccak(text=f"{tag}-{i}")])
        out.append([{"from": merchant, "to": stack.deployment.pool, "data": data, "gas": hex(600_000)}, i])
    return out


def reorg(stack: Stack, depth: int, tag: str) -> None:
    answer = stack.w3.provider.make_request("anvil_reorg", [depth, replacements(stack, depth, tag)])  # type: ignore[arg-type]
    assert "error" not in answer, answer


def follows_node(stack: Stack) -> None:
    """Wait until the mirror's cursor is the node's head, by hash."""
    import psycopg

    def same() -> bool:
        head = stack.w3.eth.get_block("latest")
        with psycopg.connect(stack.dsn(), autocommit=True) as conn:
            row = conn.execute("SELECT cursor_block, cursor_hash FROM indexer_state").fetchone()
        return row == (head["number"], head["hash"].to_0x_hex())

    wait_for(same, 60, what="the mirror to follow the node's chain")


def view(stack: Stack, api: ApiServer) -> dict[str, Any]:
    """What the API says about the whole mirror: candles of every interval, the price series,
    every customer's balance and activity, the merchants (the heartbeat's fields left out)."""
    out: dict[str, Any] = {}
    pool = api.json("/v1/pool")
    for key in ("head_block", "lag_blocks", "head_seen_at"):
        pool.pop(key)
    out["pool"] = pool
    first = stack.w3.eth.get_block(stack.deployment.deployment_block)["timestamp"]
    for name in INTERVALS:
        out[f"candles {name}"] = api.json("/v1/price/candles", interval=name, **{"from": first}, limit=5000)
    out["history"] = list(pages(api.json, "/v1/price/history", limit=200))
    for customer in local_roles(stack.w3)["customers"]:
        out[customer] = api.json(f"/v1/accounts/{customer}")
        out[f"{customer} activity"] = list(pages(api.json, f"/v1/accounts/{customer}/activity", limit=200))
        out[f"{customer} balance"] = list(pages(api.json, f"/v1/accounts/{customer}/balance/history", limit=200))
    out["merchants"] = api.json("/v1/merchants")
    return out


def fresh_view(stack: Stack, tag: str) -> dict[str, Any]:
    """Index the node's chain as it is now into a new database and read it through a new API."""
    name = f"gp_api_fresh_{uuid.uuid4().hex[:10]}"
    url = databases.create_database(name)
    try:
        env = stack.env(database_url=url, reorg_window=REORG_WINDOW)
        done = subprocess.run(
            [GREENPOINTS, "index", "--once"], env=env, cwd=stack.workdir, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        api = ApiServer(env, stack.workdir, stack.workdir / f"api-{tag}.log")
        try:
            return view(stack, api)
        finally:
            api.stop()
    finally:
        databases.drop_database(name)


def test_after_a_reorg_and_after_resync_the_api_equals_a_fresh_index(moving: Stack) -> None:
    stack = moving
    before = view(stack, stack.api)
    head = stack.w3.eth.block_number
    reorg(stack, 5, "five")
    assert stack.w3.eth.block_number == head
    follows_node(stack)
    after = view(stack, stack.api)
    assert after != before  # the replaced blocks changed what is served
    assert after == fresh_view(stack, "after-reorg")

    stack.indexer.stop()
    done = subprocess.run(
        [GREENPOINTS, "resync", "--from-block", str(head - 12)],
        env=stack.env(reorg_window=REORG_WINDOW),
        cwd=stack.workdir,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    stack.indexer = Process(
        ["index"],
        stack.env(poll_interval=0.2, batch_size=1, reorg_window=REORG_WINDOW),
        stack.workdir,
        stack.workdir / "indexer-2.log",
    )
    follows_node(stack)
    assert view(stack, stack.api) == after


def ready(stack: Stack) -> tuple[int, list[str]]:
    response = stack.api.get("/readyz")
    return response.status_code, response.json().get("reasons", []) if response.status_code == 503 else []


def test_readyz_turns_503_on_lag_silence_and_halt(moving: Stack) -> None:
    stack = moving
    wait_for(lambda: ready(stack)[0] == 200, 30, what="ready")
    # Lag: 60 new blocks at once, read one per batch: the mirror trails by more than 3 for a while.
    stack.w3.provider.make_request("anvil_mine", [hex(60)])  # type: ignore[arg-type]
    lagging = wait_for(
        lambda: (r := ready(stack))[0] == 503 and any("behind the head" in x for x in r[1]) and r, 30, 0.01, "lag"
    )
    assert lagging[0] == 503
    wait_for(lambda: ready(stack)[0] == 200, 60, what="caught up")
    # Silence: the indexer stops; after 2 s without a heartbeat the API is not ready.
    stack.indexer.stop()
    silent = wait_for(lambda: (r := ready(stack))[0] == 503 and r, 10, what="silence")
    assert any("last saw the head" in x for x in silent[1])
    stack.indexer = Process(
        ["index"],
        stack.env(poll_interval=0.2, batch_size=1, reorg_window=REORG_WINDOW),
        stack.workdir,
        stack.workdir / "indexer-3.log",
    )
    wait_for(lambda: ready(stack)[0] == 200, 30, what="ready again")
    # Halt: a reorg deeper than the kept window stops the indexer (exit 3) and says why.
    reorg(stack, REORG_WINDOW + 4, "deep")
    assert wait_for(lambda: stack.indexer.popen.poll() is not None, 30, what="the indexer to halt") is not None or True
    assert stack.indexer.popen.returncode == 3, stack.indexer.output()[-2000:]
    status, reasons = ready(stack)
    assert status == 503 and any("halted" in r for r in reasons), reasons
    assert stack.api.json("/v1/pool")["halted_reason"]
    metrics = stack.api.get("/metrics").text
    assert "greenpoints_mirror_halted 1" in metrics
