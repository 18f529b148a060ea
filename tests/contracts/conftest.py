"""Fixtures for the contract tests, on top of the shared `env` / `env18` fixtures in tests/conftest.py."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pytest
from web3 import Web3
from web3.contract import Contract

from greenpoints.chain import contract, deploy_contract
from greenpoints.deploy import GLOBAL_DAILY_CAP, MAX_UINT256, POINTS_NAME, POINTS_SYMBOL
from tests.conftest import PoolEnv
from tests.contracts.helpers import POINT, Watch, impersonate, transact

# Merchant settings for pools deployed inside a test.
CUSTOM_RATE_BPS = 1_000
CUSTOM_DAILY_CAP = 1_000_000 * POINT


def env_watch(
    env: PoolEnv, orders: Sequence[tuple[str, bytes]] = (), spends: Sequence[tuple[str, str, bytes]] = ()
) -> Watch:
    """Watch everything in `env`: pool views, every actor's balances, all merchants, `orders`, `spends`."""
    return Watch(
        pool=env.pool,
        token=env.token,
        asset=env.asset,
        accounts=[env.admin, env.collector, *env.customers],
        merchants=env.merchants,
        orders=orders,
        spends=spends,
    )


def parameter_admin(env: PoolEnv) -> str:
    """The timelock's address, impersonated: sends parameter calls as the role holder directly.
    The path through the timelock itself (schedule, delay, execute) is tested in test_governance."""
    return impersonate(env.w3, env.deployment.timelock)


@dataclass
class CustomPool:
    """A pool deployed inside a test over a test-only asset, with one registered merchant."""

    w3: Web3
    pool: Contract
    token: Contract
    asset: Contract
    admin: str
    collector: str
    merchant: str
    customers: list[str]

    def watch(self, orders: Sequence[tuple[str, bytes]] = ()) -> Watch:
        return Watch(
            pool=self.pool,
            token=self.token,
            asset=self.asset,
            accounts=[self.admin, self.collector, *self.customers],
            merchants=[self.merchant],
            orders=orders,
        )


@pytest.fixture
def custom_pool(env: PoolEnv) -> Callable[[str], CustomPool]:
    """Deploy a fresh DividendPool over a newly deployed test asset (`FeeOnTransferToken`, ...).

    The first demo merchant is registered at 10 %, given 1,000,000 units of the asset and approves
    the pool; the first customer gets 1,000,000 units too (and approves the pool) for `fund`.
    Depends on `env`, so everything is reverted after the test.
    """

    def make(asset_name: str) -> CustomPool:
        w3 = env.w3
        asset, _ = deploy_contract(w3, asset_name, env.admin)
        # The admin key holds every role itself here (no timelock): these pools test the assets.
        args = [asset.address, env.admin, env.admin, env.collector, 0, GLOBAL_DAILY_CAP, POINTS_NAME, POINTS_SYMBOL]
        pool, _ = deploy_contract(w3, "DividendPool", env.admin, *args)
        token = contract(w3, "PointsToken", pool.functions.pointsToken().call())
        merchant, funder = env.merchants[0], env.customers[0]
        transact(pool.functions.setMerchant(merchant, CUSTOM_RATE_BPS, CUSTOM_DAILY_CAP, True), env.admin)
        unit = 10 ** asset.functions.decimals().call()
        for holder in (merchant, funder):
            transact(asset.functions.mint(holder, 1_000_000 * unit), holder)
            transact(asset.functions.approve(pool.address, MAX_UINT256), holder)
        return CustomPool(
            w3=w3,
            pool=pool,
            token=token,
            asset=asset,
            admin=env.admin,
            collector=env.collector,
            merchant=merchant,
            customers=env.customers[:4],
        )

    return make
