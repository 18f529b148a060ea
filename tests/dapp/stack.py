"""The browser tests' system: a private anvil with a workload spread over days (so every candle
interval has buckets), the real indexer following it live, and the real `greenpoints api`
serving the built DApp at /app with the anvil URL published for wallets."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from web3 import Web3

from greenpoints import databases
from greenpoints.anvil import Anvil
from greenpoints.chain import connect, contract, send
from greenpoints.compiler import ROOT
from greenpoints.deploy import deploy, local_roles
from greenpoints.deployment import Deployment
from tests.api.processes import ApiServer, Process, base_env, wait_for
from tests.api.workload import run_workload

DIST = ROOT / "dapp" / "dist"


@dataclass
class DappStack:
    anvil: Anvil
    w3: Web3
    deployment: Deployment
    database: str
    db_url: str
    indexer: Process
    api: ApiServer
    workdir: Path

    @property
    def app_url(self) -> str:
        return f"{self.api.url}/app/"

    def pool(self) -> Any:
        return contract(self.w3, "DividendPool", self.deployment.pool)

    def token(self) -> Any:
        return contract(self.w3, "PointsToken", self.deployment.points_token)

    def asset(self) -> Any:
        return contract(self.w3, "TestStablecoin", self.deployment.asset)

    def roles(self) -> dict[str, Any]:
        return local_roles(self.w3)

    def indexed(self) -> int:
        """The mirror's block as the API says it (-1 while nothing is indexed yet: a 503)."""
        response = self.api.get("/v1/pool")
        return int(response.json()["indexed_block"]["number"]) if response.status_code == 200 else -1

    def wait_indexed(self, block: int | None = None, timeout: float = 30) -> int:
        target = self.w3.eth.block_number if block is None else block
        return int(wait_for(lambda: (n := self.indexed()) >= target and n, timeout, what=f"the mirror at {target}"))

    def checkout(self, merchant: str, customer: str, sale_units: int, ref: str) -> int:
        """A checkout by a demo merchant (approved at deployment); the points minted."""
        pool = self.pool()
        before = self.token().functions.balanceOf(customer).call()
        sale = sale_units * 10**self.deployment.asset_decimals
        send(pool.functions.checkout(customer, sale, Web3.keccak(text=ref)), merchant)
        return int(self.token().functions.balanceOf(customer).call() - before)

    def env(self, **extra: str | int | float | Path) -> dict[str, str]:
        settings: dict[str, str | int | float | Path] = {
            "rpc_url": self.anvil.url,
            "database_url": self.db_url,
            "deployment": self.workdir / "deployment.json",
        }
        settings.update(extra)
        return base_env(**settings)

    def start_api(self, name: str) -> ApiServer:
        env = self.env(api_public_rpc_url=self.anvil.url, api_static_dir=DIST, api_max_silence=60)
        return ApiServer(env, self.workdir, self.workdir / f"{name}.log")


def start(workdir: Path, seed: int = 11) -> DappStack:
    if not (DIST / "index.html").is_file():
        raise RuntimeError("the DApp is not built: run `make setup` (it runs `node dapp/build.mjs`)")
    anvil = Anvil(accounts=20)
    try:
        w3 = connect(anvil.url)
        deployment = deploy(w3, log=lambda _: None)
        deployment.save(workdir / "deployment.json")
        run_workload(w3, deployment, seed, chunks=3, per_chunk=5)
        database = f"gp_dapp_{uuid.uuid4().hex[:10]}"
        db_url = databases.create_database(database)
    except BaseException:
        anvil.stop()
        raise
    stack = DappStack(anvil, w3, deployment, database, db_url, None, None, workdir)  # type: ignore[arg-type]
    try:
        indexer_env = stack.env(poll_interval=0.2, audit_every=5)
        stack.indexer = Process(["index"], indexer_env, workdir, workdir / "indexer.log")
        stack.api = stack.start_api("api")
        stack.wait_indexed()
    except BaseException:
        stop(stack)
        raise
    return stack


def stop(stack: DappStack) -> None:
    for process in (getattr(stack, "api", None), getattr(stack, "indexer", None)):
        if process is not None:
            process.stop()
    stack.anvil.stop()
    databases.drop_database(stack.database)
