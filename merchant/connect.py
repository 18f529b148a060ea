"""Open the node and the deployment the merchant tools work on, without importing web3."""

from __future__ import annotations

from pathlib import Path

from eth_utils import to_checksum_address

from greenpoints.deployment import Deployment, default_path, load_deployment
from greenpoints.errors import DeploymentError
from merchant.errors import ChainUnavailable
from merchant.rpc import Rpc


def open_deployment(rpc: Rpc, deployment: Path | None) -> Deployment:
    """The deployment file given (else `deployments/<chainId>.json`), checked against the node:
    same chain, and code at the pool's address."""
    try:
        chain_id = int(rpc.call("eth_chainId"), 16)
    except ChainUnavailable as exc:
        raise ChainUnavailable(f"cannot reach JSON-RPC at {rpc.url}: {exc}") from None
    loaded = load_deployment(deployment or default_path(chain_id), chain_id)
    if rpc.call("eth_getCode", [to_checksum_address(loaded.pool), "latest"]) in (None, "0x"):
        raise DeploymentError(
            f"no contract at the pool address {loaded.pool} on chain {chain_id}: "
            "the chain was reset; run `greenpoints deploy` again"
        )
    return loaded
