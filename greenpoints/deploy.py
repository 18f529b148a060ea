"""Deploy the pool (which creates the points token) and, on local chains, a test stablecoin and demo merchants."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from web3 import Web3

from greenpoints.anvil import LOCAL_CHAIN_IDS
from greenpoints.artifacts import load_artifact
from greenpoints.chain import contract, deploy_contract, send
from greenpoints.compiler import SOLC_VERSION, compiler_settings
from greenpoints.deployment import Deployment, MerchantInfo
from greenpoints.errors import DeploymentError

POINTS_NAME = "Green Points"
POINTS_SYMBOL = "GP"
MAX_UINT256 = 2**256 - 1
ZERO_ADDRESS = "0x" + "0" * 40
# Demo merchants on local chains: (name, skim rate in basis points).
DEMO_MERCHANTS = (("Tea House", 1_000), ("Sofa Store", 1_500), ("Bookshop", 500))
DEMO_DAILY_CAP = 1_000_000 * 10**18  # points per UTC day, per demo merchant
GLOBAL_DAILY_CAP = 10_000_000 * 10**18  # points per UTC day over all merchants (changed through the timelock)
# Delay of parameter changes: none on a local chain, two days elsewhere unless chosen otherwise.
LOCAL_ADMIN_DELAY = 0
PUBLIC_ADMIN_DELAY = 2 * 24 * 3600
DEMO_MERCHANT_FLOAT = 100_000_000  # whole units of the test stablecoin given to each demo merchant


def local_roles(w3: Web3) -> dict[str, Any]:
    """Which unlocked local account plays which part: admin, tax collector, merchants, customers."""
    accounts = list(w3.eth.accounts)
    if len(accounts) < 2 + len(DEMO_MERCHANTS) + 2:
        raise DeploymentError(f"the local node has {len(accounts)} accounts; at least 7 are needed")
    first_customer = 2 + len(DEMO_MERCHANTS)
    return {
        "admin": accounts[0],
        "tax_collector": accounts[1],
        "merchants": accounts[2:first_customer],
        "customers": accounts[first_customer:],
    }


def deploy(
    w3: Web3,
    *,
    asset: str | None = None,
    asset_decimals: int = 6,
    tax_collector: str | None = None,
    admin_delay: int | None = None,
    global_daily_cap: int = GLOBAL_DAILY_CAP,
    log: Callable[[str], None] = print,
) -> Deployment:
    """Deploy to the chain behind `w3` and return the deployment record (not yet saved).

    On a local chain (anvil's chain id) without `asset`, a freely mintable test stablecoin is
    deployed as the reserve asset and demo merchants are registered and funded. On any other
    chain `asset` is required and the deployer is `w3.eth.default_account` (a signing key).
    """
    chain_id = w3.eth.chain_id
    local = chain_id in LOCAL_CHAIN_IDS
    signer = w3.eth.default_account if isinstance(w3.eth.default_account, str) else None
    if signer is not None:
        admin, collector = signer, tax_collector or signer
    elif local:
        roles = local_roles(w3)
        admin, collector = roles["admin"], tax_collector or roles["tax_collector"]
    else:
        raise DeploymentError(f"chain {chain_id} is not a local chain: set GREENPOINTS_PRIVATE_KEY to deploy")
    if asset is None and not local:
        raise DeploymentError(f"chain {chain_id} is not a local chain: pass --asset (the reserve stablecoin)")
    if admin_delay is None:
        admin_delay = LOCAL_ADMIN_DELAY if local else PUBLIC_ADMIN_DELAY
    if not 0 <= admin_delay < 2**48:
        raise DeploymentError(f"the admin delay must be between 0 and 2**48 - 1 seconds (got {admin_delay})")

    tx_hashes: dict[str, str] = {}
    constructor_args: dict[str, list[Any]] = {}
    first_block: int | None = None
    test_asset = asset is None
    if asset is None:
        args = ["Test USD", "tUSD", asset_decimals]
        stable, receipt = deploy_contract(w3, "TestStablecoin", admin, *args)
        asset = stable.address
        tx_hashes["TestStablecoin"] = receipt["transactionHash"].to_0x_hex()
        constructor_args["TestStablecoin"] = args
        first_block = receipt["blockNumber"]
        log(f"deployed TestStablecoin ({asset_decimals} decimals) at {asset}")
    decimals = contract(w3, "TestStablecoin", asset).functions.decimals().call()

    # No timelock admin (address 0): the timelock governs its own settings, through its delay.
    timelock_args = [admin_delay, [admin], [admin], ZERO_ADDRESS]
    timelock, receipt = deploy_contract(w3, "TimelockController", admin, *timelock_args)
    tx_hashes["TimelockController"] = receipt["transactionHash"].to_0x_hex()
    constructor_args["TimelockController"] = timelock_args
    if first_block is None:
        first_block = receipt["blockNumber"]
    log(f"deployed TimelockController (delay {admin_delay} s) at {timelock.address}")

    pool_args = [
        Web3.to_checksum_address(asset),
        timelock.address,
        admin,
        collector,
        admin_delay,
        global_daily_cap,
        POINTS_NAME,
        POINTS_SYMBOL,
    ]
    pool, receipt = deploy_contract(w3, "DividendPool", admin, *pool_args)
    tx_hashes["DividendPool"] = receipt["transactionHash"].to_0x_hex()
    constructor_args["DividendPool"] = pool_args
    # The token is created inside the pool's constructor, by the same transaction.
    constructor_args["PointsToken"] = [POINTS_NAME, POINTS_SYMBOL]
    token = pool.functions.pointsToken().call()
    log(f"deployed DividendPool at {pool.address} (points token {token})")

    deployment = Deployment(
        chain_id=chain_id,
        pool=pool.address,
        points_token=token,
        asset=Web3.to_checksum_address(asset),
        asset_decimals=decimals,
        test_asset=test_asset,
        admin=admin,
        timelock=timelock.address,
        admin_delay=admin_delay,
        tax_collector=collector,
        deployment_block=first_block,
        tx_hashes=tx_hashes,
        constructor_args=constructor_args,
        compiler={
            "version": load_artifact("DividendPool")["compilerVersion"],
            "solc": SOLC_VERSION,
            "settings": compiler_settings(),
        },
    )
    if local:
        deployment.merchants = register_demo_merchants(w3, deployment, log)
    return deployment


def register_demo_merchants(w3: Web3, deployment: Deployment, log: Callable[[str], None]) -> list[MerchantInfo]:
    """Register the demo merchants; with a test asset, also give each a float and approve the pool."""
    pool = contract(w3, "DividendPool", deployment.pool)
    stable = contract(w3, "TestStablecoin", deployment.asset)
    merchants = []
    for (name, rate), address in zip(DEMO_MERCHANTS, local_roles(w3)["merchants"], strict=False):
        send(pool.functions.setMerchant(address, rate, DEMO_DAILY_CAP, True), deployment.admin)
        if deployment.test_asset:
            send(stable.functions.mint(address, DEMO_MERCHANT_FLOAT * 10**deployment.asset_decimals), address)
            send(stable.functions.approve(deployment.pool, MAX_UINT256), address)
        merchants.append(MerchantInfo(address=address, name=name, rate_bps=rate, daily_cap=DEMO_DAILY_CAP))
        log(f"registered merchant {name} (skim {rate} bps) at {address}")
    return merchants
