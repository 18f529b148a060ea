"""What one indexer mirrors: a pool, its points token and its reserve asset on one chain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Target:
    """The pool, token and asset addresses (lowercase), the asset's decimals and the deployment block."""

    chain_id: int
    pool: str
    token: str
    asset: str
    asset_decimals: int
    deployment_block: int

    @classmethod
    def from_deployment(cls, deployment: Any) -> Target:
        return cls(
            chain_id=int(deployment.chain_id),
            pool=str(deployment.pool).lower(),
            token=str(deployment.points_token).lower(),
            asset=str(deployment.asset).lower(),
            asset_decimals=int(deployment.asset_decimals),
            deployment_block=int(deployment.deployment_block),
        )
