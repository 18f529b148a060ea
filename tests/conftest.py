"""Shared fixtures: a real anvil node per test session and a fresh deployment per test.

Each test that uses `env` starts from the same freshly deployed pool: the chain is snapshotted
after deployment and reverted after every test (anvil's evm_snapshot / evm_revert).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.types import TxReceipt

from greenpoints.anvil import Anvil
from greenpoints.build import build
from greenpoints.chain import connect, contract
from greenpoints.deploy import deploy, local_roles
from greenpoints.deployment import Deployment
from greenpoints.governance import govern


@dataclass
class PoolEnv:
    """A deployed pool and the actors around it on a local anvil."""

    w3: Web3
    deployment: Deployment
    pool: Contract
    token: Contract
    asset: Contract
    admin: str  # the operator: merchant manager, pauser, proposer of the timelock
    collector: str
    merchants: list[str]  # registered demo merchants: 10%, 15%, 5%
    customers: list[str]

    @property
    def timelock(self) -> Contract:
        """The timelock that holds the pool's parameter admin and default admin roles."""
        return contract(self.w3, "TimelockController", self.deployment.timelock)

    def govern(self, call: ContractFunction) -> TxReceipt:
        """Run a parameter change through the timelock (its delay is 0 on the local chain)."""
        return govern(self.w3, self.deployment, call)

    @property
    def unit(self) -> int:
        """One whole unit of the reserve asset in base units."""
        return int(10**self.deployment.asset_decimals)


def make_env(w3: Web3, deployment: Deployment) -> PoolEnv:
    roles: dict[str, Any] = local_roles(w3)
    return PoolEnv(
        w3=w3,
        deployment=deployment,
        pool=contract(w3, "DividendPool", deployment.pool),
        token=contract(w3, "PointsToken", deployment.points_token),
        asset=contract(w3, "TestStablecoin", deployment.asset),
        admin=roles["admin"],
        collector=roles["tax_collector"],
        merchants=[m.address for m in deployment.merchants],
        customers=roles["customers"],
    )


# Debian's Chromium, driven by playwright (which downloads no browser of its own).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Test files that share a costly set-up (a running system, a cached chain) run in one xdist worker.
XDIST_GROUPS = {
    "tests/api/": "api",
    "tests/dapp/": "browser",
    "tests/resilience/test_crash.py": "bulk-chain",
    "tests/resilience/test_worker.py": "bulk-chain",
    "tests/resilience/test_rpc_faults.py": "simulated-chain",
    "tests/resilience/test_standby.py": "simulated-chain",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under `pytest -n N --dist loadgroup` (the test command), keep each file, or each family of
    files sharing a set-up, in one worker: a module's fixtures are then made once."""
    for item in items:
        path = item.nodeid.split("::")[0]
        group = next((g for prefix, g in XDIST_GROUPS.items() if path.startswith(prefix)), path)
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's Chromium is missing: `make test` installs it (tools/ensure-chromium.sh)")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture(scope="session")
def artifacts() -> None:
    build()


@pytest.fixture(scope="session")
def anvil(artifacts: None) -> Iterator[Anvil]:
    with Anvil(accounts=20) as node:
        yield node


@pytest.fixture(scope="session")
def w3(anvil: Anvil) -> Web3:
    return connect(anvil.url)


@pytest.fixture(scope="session")
def deployed(w3: Web3) -> dict[int, Deployment]:
    """One deployment per asset precision (6 and 18 decimals), made once per session."""
    return {decimals: deploy(w3, asset_decimals=decimals, log=lambda _: None) for decimals in (6, 18)}


@pytest.fixture
def snapshot(w3: Web3, deployed: dict[int, Deployment]) -> Iterator[None]:
    """Revert every chain change a test makes, and end any impersonation of the timelocks (anvil
    would otherwise list an impersonated address among its accounts)."""
    snap = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    yield
    w3.provider.make_request("evm_revert", [snap])  # type: ignore[arg-type]
    for deployment in deployed.values():
        w3.provider.make_request("anvil_stopImpersonatingAccount", [deployment.timelock])  # type: ignore[arg-type]


@pytest.fixture
def env(w3: Web3, deployed: dict[int, Deployment], snapshot: None) -> PoolEnv:
    """A fresh pool whose reserve asset has 6 decimals."""
    return make_env(w3, deployed[6])


@pytest.fixture
def env18(w3: Web3, deployed: dict[int, Deployment], snapshot: None) -> PoolEnv:
    """A fresh pool whose reserve asset has 18 decimals."""
    return make_env(w3, deployed[18])
