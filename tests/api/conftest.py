"""Fixtures of the API tests: a private anvil with a random workload, the real indexer following it
live into a fresh PostgreSQL database, and the real `greenpoints api` process serving it.

The main stack (`stack`) is shared by the session's API tests: tests that add blocks only ever
compare against the chain at the block an answer says it reflects.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from web3 import Web3

from greenpoints import databases
from greenpoints.anvil import Anvil
from greenpoints.chain import connect
from greenpoints.deploy import deploy
from greenpoints.deployment import Deployment
from tests.api.processes import ApiServer, Process, base_env, wait_for
from tests.api.workload import run_workload


@dataclass
class Stack:
    """A chain, its mirror and the processes around them."""

    anvil: Anvil
    w3: Web3
    deployment: Deployment
    deployment_file: Path
    database: str
    db_url: str
    workdir: Path
    indexer: Process
    api: ApiServer

    def env(self, **extra: str | int | float | Path) -> dict[str, str]:
        settings: dict[str, str | int | float | Path] = {
            "rpc_url": self.anvil.url,
            "deployment": self.deployment_file,
            "database_url": self.db_url,
        }
        settings.update(extra)
        return base_env(**settings)

    def dsn(self) -> str:
        return self.db_url.replace("postgresql+psycopg://", "postgresql://")

    def cursor(self) -> int | None:
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            if conn.execute("SELECT to_regclass('indexer_state')").fetchone() == (None,):
                return None  # the indexer is still migrating the new database
            row = conn.execute("SELECT cursor_block FROM indexer_state").fetchone()
        return None if row is None else int(row[0])

    def wait_indexed(self, block: int | None = None, timeout: float = 60) -> int:
        """Wait until the mirror reaches `block` (default: the chain head now); the cursor."""
        target = self.w3.eth.block_number if block is None else block
        return int(wait_for(lambda: (c := self.cursor()) is not None and c >= target and c, timeout, what="indexing"))

    def start_api(self, name: str, workers: int = 1, **extra: str | int | float | Path) -> ApiServer:
        return ApiServer(self.env(**extra), self.workdir, self.workdir / f"{name}.log", workers=workers)


def start_stack(
    tmp: Path,
    seed: int,
    *,
    chunks: int = 8,
    per_chunk: int = 5,
    indexer_settings: dict[str, str | int | float] | None = None,
) -> Stack:
    anvil = Anvil(accounts=20)
    try:
        w3 = connect(anvil.url)
        deployment = deploy(w3, log=lambda _: None)
        deployment_file = deployment.save(tmp / "deployment.json")
        run_workload(w3, deployment, seed, chunks=chunks, per_chunk=per_chunk)
        database = f"gp_api_{uuid.uuid4().hex[:10]}"
        db_url = databases.create_database(database)
    except BaseException:
        anvil.stop()
        raise
    stack = Stack(anvil, w3, deployment, deployment_file, database, db_url, tmp, None, None)  # type: ignore[arg-type]
    settings: dict[str, str | int | float] = {"poll_interval": 0.2, "audit_every": 5}
    settings.update(indexer_settings or {})
    stack.indexer = Process(["index"], stack.env(**settings), tmp, tmp / "indexer.log")
    try:
        stack.wait_indexed()
        stack.api = stack.start_api("api", api_max_silence=30)
    except BaseException:
        stop_stack(stack)
        raise
    return stack


def stop_stack(stack: Stack) -> None:
    for process in (getattr(stack, "api", None), stack.indexer):
        if process is not None:
            process.stop()
    stack.anvil.stop()
    databases.drop_database(stack.database)


@pytest.fixture(scope="session")
def stack(artifacts: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(tmp_path_factory.mktemp("api-stack"), seed=7)
    try:
        yield running
    finally:
        stop_stack(running)
