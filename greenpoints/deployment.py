"""The deployment file `deployments/<chainId>.json`: where the contracts live and how they were built."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from greenpoints.compiler import ROOT
from greenpoints.errors import DeploymentError

DEPLOYMENTS_DIR = ROOT / "deployments"


class MerchantInfo(BaseModel):
    """A merchant registered at deployment (demo merchants on local chains)."""

    address: str
    name: str
    rate_bps: int
    daily_cap: int


class Deployment(BaseModel):
    """Addresses, deployment block, transaction hashes and compiler settings of one deployment."""

    model_config = ConfigDict(extra="forbid")

    chain_id: int
    pool: str
    points_token: str
    asset: str
    asset_decimals: int
    test_asset: bool
    admin: str  # the operator key: merchant manager, pauser, proposer and executor of the timelock
    timelock: str  # holds the pool's default admin and parameter admin roles
    admin_delay: int  # seconds between scheduling and executing a parameter change
    tax_collector: str
    deployment_block: int
    tx_hashes: dict[str, str]
    constructor_args: dict[str, list[Any]]
    compiler: dict[str, Any]
    merchants: list[MerchantInfo] = []

    def save(self, path: Path) -> Path:
        """Write this deployment as JSON to `path` (parents created)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(indent=2) + "\n")
        return path


def default_path(chain_id: int) -> Path:
    """`deployments/<chainId>.json` in the repository."""
    return DEPLOYMENTS_DIR / f"{chain_id}.json"


def load_deployment(path: Path, chain_id: int | None = None) -> Deployment:
    """Read and check a deployment file; with `chain_id`, refuse one made for another chain."""
    if not path.is_file():
        raise DeploymentError(f"no deployment file at {path}; run `greenpoints deploy` first")
    try:
        deployment = Deployment(**json.loads(path.read_text()))
    except (ValueError, ValidationError) as exc:
        raise DeploymentError(f"deployment file {path} is malformed: {str(exc).splitlines()[0]}") from None
    if chain_id is not None and deployment.chain_id != chain_id:
        raise DeploymentError(f"deployment file {path} is for chain {deployment.chain_id}, the RPC is chain {chain_id}")
    return deployment
