"""The SPEC §2 examples, step by step on a fresh deployment, printing the pool after each step."""

from __future__ import annotations

from collections.abc import Callable

from web3 import Web3

from greenpoints.chain import contract, send
from greenpoints.deploy import MAX_UINT256, local_roles
from greenpoints.deployment import Deployment
from greenpoints.errors import DeploymentError
from greenpoints.pool_state import read_pool_state
from greenpoints.units import POINT_DECIMALS, format_units


def run_walkthrough(w3: Web3, deployment: Deployment, log: Callable[[str], None] = print) -> None:
    """Checkout, redeem, the sofa sale, spend, top-up and tax withdrawal, with the article's numbers."""
    pool = contract(w3, "DividendPool", deployment.pool)
    token = contract(w3, "PointsToken", deployment.points_token)
    stable = contract(w3, "TestStablecoin", deployment.asset)
    if token.functions.totalSupply().call() != 0 or pool.functions.reserve().call() != 0:
        raise DeploymentError("the walkthrough needs a fresh pool (no points, no reserve)")
    by_rate = {m.rate_bps: m for m in deployment.merchants}
    if 1_000 not in by_rate or 1_500 not in by_rate:
        raise DeploymentError("the walkthrough needs the demo merchants (10% and 15%)")
    tea, sofa = by_rate[1_000], by_rate[1_500]
    roles = local_roles(w3)
    alice, bob = roles["customers"][0], roles["customers"][1]
    dec = deployment.asset_decimals
    unit = 10**dec

    def step(title: str) -> None:
        log(f"  {title}")
        log(f"    -> {read_pool_state(w3, deployment).describe(dec)}")

    def points(amount: int) -> str:
        return format_units(amount, POINT_DECIMALS)

    log("SPEC §2 walkthrough")
    got = pool.functions.quoteCheckout(tea.address, 5_000 * unit).call()
    send(pool.functions.checkout(alice, 5_000 * unit, Web3.keccak(text="walkthrough-1")), tea.address)
    step(
        f"1. {tea.name} (10%) sells for 5,000: 500 skimmed, {format_units(got[1], dec)} into the pool, "
        f"{points(got[0])} points to the customer"
    )

    payout, tax, kept = pool.functions.quoteRedeem(100 * 10**POINT_DECIMALS).call()
    send(pool.functions.redeem(100 * 10**POINT_DECIMALS, payout), alice)
    step(
        f"2. the customer redeems 100 points: payout {format_units(payout, dec)}, "
        f"tax {format_units(tax, dec)}, kept in the pool {format_units(kept, dec)}"
    )

    got = pool.functions.quoteCheckout(sofa.address, 12_000 * unit).call()
    send(pool.functions.checkout(bob, 12_000 * unit, Web3.keccak(text="walkthrough-2")), sofa.address)
    step(
        f"3. {sofa.name} (15%) sells a 12,000 sofa: {format_units(got[1], dec)} into the pool, "
        f"{points(got[0])} points to the buyer"
    )

    send(pool.functions.spend(sofa.address, 200 * 10**POINT_DECIMALS, Web3.keccak(text="walkthrough-3")), bob)
    step(f"4. the buyer spends 200 points at {sofa.name}: burned, the reserve stays, the price rises")

    sponsor = roles["admin"]
    send(stable.functions.mint(sponsor, 100 * unit), sponsor)
    send(stable.functions.approve(deployment.pool, MAX_UINT256), sponsor)
    send(pool.functions.fund(100 * unit, token.functions.totalSupply().call()), sponsor)
    step("5. a sponsor tops the pool up with 100: the price rises")

    accrued = pool.functions.taxAccrued().call()
    send(pool.functions.withdrawTax(), deployment.tax_collector)
    step(f"6. the tax collector withdraws the accrued tax ({format_units(accrued, dec)})")
