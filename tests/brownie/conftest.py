"""Brownie's own fixtures (`accounts`, contract containers) on its development chain (anvil).

Run with `brownie test tests/brownie`; the main pytest run skips this folder.
"""

import pytest


@pytest.fixture(scope="module")
def stable(TestStablecoin, accounts):
    return TestStablecoin.deploy("Test USD", "tUSD", 6, {"from": accounts[0]})


@pytest.fixture(scope="module")
def pool(DividendPool, stable, accounts):
    # accounts[0] holds every role itself here (no timelock), accounts[1] collects the tax.
    return DividendPool.deploy(
        stable, accounts[0], accounts[0], accounts[1], 0, 10**25, "Green Points", "GP", {"from": accounts[0]}
    )


@pytest.fixture(scope="module")
def points(PointsToken, pool):
    return PointsToken.at(pool.pointsToken())


@pytest.fixture(scope="module")
def merchant(pool, stable, accounts):
    shop = accounts[2]
    pool.setMerchant(shop, 1_000, 1_000_000 * 10**18, True, {"from": accounts[0]})
    stable.mint(shop, 1_000_000 * 10**6, {"from": shop})
    stable.approve(pool, 2**256 - 1, {"from": shop})
    return shop


@pytest.fixture(autouse=True)
def isolation(fn_isolation):
    """Revert the chain after every test (brownie's snapshot fixture)."""
