"""Fixtures for the indexer tests: a real PostgreSQL (a fresh database per test) and real anvils.

PostgreSQL must run at 127.0.0.1:5432 with trust auth for user postgres; it is started with
`pg_ctlcluster` when it is down. Tests that need a chain of their own (reorgs) get a private
anvil with a deployment, reverted to a snapshot after each test.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from web3 import Web3

from greenpoints import databases
from greenpoints.anvil import Anvil
from greenpoints.chain import connect
from greenpoints.deploy import deploy
from greenpoints.deployment import Deployment
from indexer import migrate
from indexer.db import make_engine
from indexer.rpc import RpcClient
from indexer.sync import Indexer
from indexer.target import Target

PG_HOST = "127.0.0.1"
PG_PORT = 5432
ROOT = Path(__file__).resolve().parents[2]
GREENPOINTS = ROOT / ".venv" / "bin" / "greenpoints"


def _admin() -> psycopg.Connection:
    return psycopg.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname="postgres", autocommit=True)


@pytest.fixture(scope="session")
def pg_server() -> None:
    """PostgreSQL is up (started with pg_ctlcluster if it was down)."""
    try:
        _admin().close()
        return
    except psycopg.OperationalError:
        pass
    versions = os.listdir("/etc/postgresql") if os.path.isdir("/etc/postgresql") else []
    if versions:
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[0], "main", "start"], check=False)
    _admin().close()


def create_database() -> tuple[str, str]:
    """A new empty database; (name, SQLAlchemy URL)."""
    name = f"gp_test_{uuid.uuid4().hex[:12]}"
    return name, databases.create_database(name)


def drop_database(name: str) -> None:
    databases.drop_database(name)


@pytest.fixture
def empty_db(pg_server: None) -> Iterator[str]:
    """The URL of a fresh, empty database, dropped after the test."""
    name, url = create_database()
    try:
        yield url
    finally:
        drop_database(name)


@pytest.fixture
def db_url(empty_db: str) -> str:
    """The URL of a fresh database migrated to head."""
    migrate.upgrade(empty_db)
    return empty_db


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@dataclass
class Chain:
    """A private anvil with one deployment."""

    anvil: Anvil
    w3: Web3
    deployment: Deployment

    @property
    def url(self) -> str:
        return self.anvil.url


@pytest.fixture(scope="module")
def private_chain_module(artifacts: None) -> Iterator[Chain]:
    with Anvil(accounts=20) as node:
        w3 = connect(node.url)
        deployment = deploy(w3, asset_decimals=6, log=lambda _: None)
        yield Chain(node, w3, deployment)


@pytest.fixture
def private_chain(private_chain_module: Chain) -> Iterator[Chain]:
    """The module's private chain, reverted to its freshly deployed state after the test."""
    w3 = private_chain_module.w3
    snap = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    yield private_chain_module
    w3.provider.make_request("evm_revert", [snap])  # type: ignore[arg-type]


def make_indexer(engine: Engine, url: str, deployment: Deployment, **kwargs: int) -> Indexer:
    """An indexer of `deployment` on the node at `url` (keyword settings: batch_size, reorg_window...)."""
    indexer = Indexer(engine, RpcClient(url), Target.from_deployment(deployment), **kwargs)
    indexer.prepare()
    return indexer


def cli_env(db_url: str | None, rpc_url: str, deployment_file: Path, **extra: str) -> dict[str, str]:
    """Environment for running the `greenpoints` CLI as a subprocess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENPOINTS_")}
    env["GREENPOINTS_RPC_URL"] = rpc_url
    env["GREENPOINTS_DEPLOYMENT"] = str(deployment_file)
    if db_url is not None:
        env["GREENPOINTS_DATABASE_URL"] = db_url
    env.update({f"GREENPOINTS_{k.upper()}": v for k, v in extra.items()})
    return env


def run_cli(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(GREENPOINTS), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
