"""Read the pool's public state and print it: what a user of the command line sees after each step."""

from __future__ import annotations

from dataclasses import dataclass

from web3 import Web3
from web3.types import BlockIdentifier

from greenpoints.chain import contract
from greenpoints.deployment import Deployment
from greenpoints.units import POINT_DECIMALS, PRICE_DECIMALS, format_units


@dataclass(frozen=True)
class PoolState:
    """The pool's views at one block, in base units."""

    block: int
    reserve: int
    supply: int
    price: int
    tax_accrued: int
    asset_balance: int

    def describe(self, asset_decimals: int) -> str:
        """One line: reserve, supply, price, accrued tax (exact decimal strings)."""
        return (
            f"block {self.block}: reserve {format_units(self.reserve, asset_decimals)}"
            f" | points {format_units(self.supply, POINT_DECIMALS)}"
            f" | price {format_units(self.price, PRICE_DECIMALS)}"
            f" | tax accrued {format_units(self.tax_accrued, asset_decimals)}"
        )


def read_pool_state(w3: Web3, deployment: Deployment, block: BlockIdentifier = "latest") -> PoolState:
    """The pool's views (and the asset's balance of the pool) at `block`."""
    number = block if isinstance(block, int) else w3.eth.get_block(block)["number"]
    pool = contract(w3, "DividendPool", deployment.pool)
    token = contract(w3, "PointsToken", deployment.points_token)
    asset = contract(w3, "TestStablecoin", deployment.asset)
    return PoolState(
        block=number,
        reserve=pool.functions.reserve().call(block_identifier=number),
        supply=token.functions.totalSupply().call(block_identifier=number),
        price=pool.functions.price().call(block_identifier=number),
        tax_accrued=pool.functions.taxAccrued().call(block_identifier=number),
        asset_balance=asset.functions.balanceOf(deployment.pool).call(block_identifier=number),
    )
