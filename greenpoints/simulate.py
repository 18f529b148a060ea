"""A random but reproducible workload against a local deployment.

Several merchants with different skim rates check out for many customers; customers transfer,
spend, redeem and burn points directly and cancel spend permissions; a sponsor tops the pool up;
the tax collector withdraws the tax. The same seed against the same
fresh deployment sends the same transactions. The indexer and API tests reuse it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from web3 import Web3

from greenpoints.chain import contract, send
from greenpoints.deploy import MAX_UINT256, local_roles
from greenpoints.deployment import Deployment
from greenpoints.errors import DeploymentError
from greenpoints.pool_state import read_pool_state
from greenpoints.units import POINT_DECIMALS, format_units

# Relative weights of the actions in the workload.
WEIGHTS = {
    "checkout": 40,
    "transfer": 14,
    "spend": 12,
    "redeem": 14,
    "fund": 6,
    "burn": 8,
    "approve_burn": 6,
    "withdraw_tax": 3,
    "cancel_permissions": 2,
}


@dataclass
class SimulationResult:
    """What a simulation did: counts per action and the transaction hashes, in order."""

    counts: dict[str, int] = field(default_factory=dict)
    tx_hashes: list[str] = field(default_factory=list)


class Workload:
    """The seeded random actions, one `step` at a time: `simulate` runs a number of them, the
    demo's traffic runs them until it is stopped."""

    def __init__(self, w3: Web3, deployment: Deployment, seed: int, customers: list[str] | None = None) -> None:
        if not deployment.merchants:
            raise DeploymentError("the deployment has no demo merchants: simulate runs on a local deployment")
        self.w3, self.deployment, self.seed = w3, deployment, seed
        self.rng = random.Random(seed)
        self.pool = contract(w3, "DividendPool", deployment.pool)
        self.token = contract(w3, "PointsToken", deployment.points_token)
        self.stable = contract(w3, "TestStablecoin", deployment.asset)
        roles = local_roles(w3)
        # The accounts that buy, transfer, spend and redeem (default: every local customer account).
        self.customers: list[str] = customers if customers is not None else roles["customers"]
        self.sponsor: str = roles["admin"]
        self.unit = 10**deployment.asset_decimals
        # Order ids depend on where the run starts, so a second run never replays the first one's ids.
        self.start_block = w3.eth.block_number
        self.steps = 0
        if deployment.test_asset:
            send(self.stable.functions.approve(deployment.pool, MAX_UINT256), self.sponsor)

    def order_id(self, step: int) -> bytes:
        return Web3.solidity_keccak(
            ["address", "uint256", "uint256", "uint256"], [self.deployment.pool, self.start_block, self.seed, step]
        )

    def holders(self) -> list[tuple[str, int]]:
        balances = [(c, self.token.functions.balanceOf(c).call()) for c in self.customers]
        return [(c, b) for c, b in balances if b > 0]

    def step(self) -> tuple[str, str, str]:
        """One random action: (action, what was done, transaction hash)."""
        rng, pool, token, stable = self.rng, self.pool, self.token, self.stable
        deployment, customers, sponsor, unit = self.deployment, self.customers, self.sponsor, self.unit
        step = self.steps
        self.steps += 1
        action = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
        have = self.holders() if action != "checkout" else []
        if action != "checkout" and not have:
            action = "checkout"
        if action == "fund" and not deployment.test_asset:
            action = "checkout"
        collector = deployment.tax_collector
        if action == "withdraw_tax" and pool.functions.taxOwed(collector).call() == 0:
            action = "checkout"
        if action == "checkout":
            merchant = rng.choice(deployment.merchants)
            customer = rng.choice(customers)
            sale = rng.randint(1, 5_000) * unit + rng.randint(0, 99) * unit // 100
            receipt = send(pool.functions.checkout(customer, sale, self.order_id(step)), merchant.address)
            text = f"checkout at {merchant.name}: sale {format_units(sale, deployment.asset_decimals)}"
        elif action == "withdraw_tax":
            owed = pool.functions.taxOwed(collector).call()
            receipt = send(pool.functions.withdrawTax(), collector)
            text = f"the tax collector withdraws {format_units(owed, deployment.asset_decimals)}"
        elif action == "cancel_permissions":
            canceller = rng.choice(customers)
            receipt = send(pool.functions.cancelSpendPermissions(), canceller)
            text = "a customer cancels its spend permissions"
        else:
            holder, balance = rng.choice(have)
            amount = max(1, balance * rng.randint(1, 60) // 100)
            if action in ("spend", "burn", "approve_burn") and amount == token.functions.totalSupply().call():
                action = "redeem"  # the whole supply cannot be spent or burned, only redeemed
            shown = format_units(amount, POINT_DECIMALS)
            if action == "transfer":
                to = rng.choice([c for c in customers if c != holder])
                receipt = send(token.functions.transfer(to, amount), holder)
                text = f"transfer {shown} points"
            elif action == "spend":
                merchant = rng.choice(deployment.merchants)
                receipt = send(pool.functions.spend(merchant.address, amount, self.order_id(step)), holder)
                text = f"spend {shown} points at {merchant.name}"
            elif action == "redeem":
                payout = pool.functions.quoteRedeem(amount).call()[0]
                receipt = send(pool.functions.redeem(amount, payout), holder)
                text = f"redeem {shown} points for {format_units(payout, deployment.asset_decimals)}"
            elif action == "fund":
                top_up = rng.randint(1, 200) * unit
                send(stable.functions.mint(sponsor, top_up), sponsor)
                # The supply just read: a top-up refuses to land after points minted in front of it.
                supply = token.functions.totalSupply().call()
                receipt = send(pool.functions.fund(top_up, supply), sponsor)
                text = f"top-up {format_units(top_up, deployment.asset_decimals)}"
            elif action == "burn":
                receipt = send(token.functions.burn(amount), holder)
                text = f"burn {shown} points directly"
            else:  # approve_burn: a holder lets another account burn for them (burnFrom)
                spender = rng.choice([c for c in customers if c != holder])
                send(token.functions.approve(spender, amount), holder)
                receipt = send(token.functions.burnFrom(holder, amount), spender)
                text = f"burnFrom {shown} points"
        return action, text, receipt["transactionHash"].to_0x_hex()


def simulate(
    w3: Web3,
    deployment: Deployment,
    orders: int,
    seed: int,
    *,
    log: Callable[[str], None] | None = print,
    report_every: int | None = None,
) -> SimulationResult:
    """Run `orders` random actions (seeded by `seed`) and print the pool state as it goes."""
    if orders < 1:
        raise ValueError("orders must be at least 1")
    workload = Workload(w3, deployment, seed)
    result = SimulationResult()
    every = report_every or max(1, orders // 20)
    for step in range(orders):
        action, text, tx_hash = workload.step()
        result.counts[action] = result.counts.get(action, 0) + 1
        result.tx_hashes.append(tx_hash)
        if log is not None and ((step + 1) % every == 0 or step + 1 == orders):
            state = read_pool_state(w3, deployment)
            log(f"[{step + 1}/{orders}] {text} -> {state.describe(deployment.asset_decimals)}")
    return result
