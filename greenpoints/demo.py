"""The main job on local defaults: a fresh anvil, deploy, the SPEC §2 walkthrough, a simulation."""

from __future__ import annotations

from greenpoints.anvil import Anvil
from greenpoints.build import build
from greenpoints.chain import connect
from greenpoints.config import Settings
from greenpoints.deploy import deploy
from greenpoints.pool_state import read_pool_state
from greenpoints.simulate import simulate
from greenpoints.walkthrough import run_walkthrough


def run_demo(settings: Settings, orders: int, seed: int) -> None:
    """Run everything on a throw-away local chain and print the pool after each step."""
    print("compiling contracts (skipped when unchanged)")
    build()
    with Anvil() as node:
        print(f"started anvil on {node.url}")
        w3 = connect(node.url)
        deployment = deploy(w3)
        run_walkthrough(w3, deployment)
        print(f"simulation: {orders} random actions, seed {seed}")
        simulate(w3, deployment, orders, seed, report_every=1)
        state = read_pool_state(w3, deployment)
        backed = state.asset_balance >= state.reserve + state.tax_accrued
        print(f"final: {state.describe(deployment.asset_decimals)}")
        print(f"reserve backs every point (asset balance >= reserve + tax accrued): {'yes' if backed else 'NO'}")
