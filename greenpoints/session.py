"""Open the chain and the deployment a command works on, as the settings say."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from web3 import Web3

from greenpoints.anvil import Anvil
from greenpoints.chain import connect
from greenpoints.config import LOCAL_CHAIN_STATE, Settings
from greenpoints.deployment import Deployment, default_path, load_deployment
from greenpoints.errors import DeploymentError


@contextmanager
def open_chain(settings: Settings, log: bool = True) -> Iterator[Web3]:
    """The configured RPC, or else the local default chain: an anvil whose state persists in
    `.greenpoints/chain-state.json` between commands (stopped, and saved, on exit)."""
    if settings.rpc_url is not None:
        yield connect(settings.rpc_url, settings.private_key)
        return
    with Anvil(state=LOCAL_CHAIN_STATE) as node:
        if log:
            print(f"local chain: anvil on {node.url} (state in {LOCAL_CHAIN_STATE})")
        yield connect(node.url, settings.private_key)


def deployment_path(settings: Settings, chain_id: int) -> Path:
    """The configured deployment file, or `deployments/<chainId>.json`."""
    return settings.deployment or default_path(chain_id)


def open_deployment(settings: Settings, w3: Web3) -> Deployment:
    """The deployment for this chain, checked to still have code at the pool's address."""
    chain_id = w3.eth.chain_id
    deployment = load_deployment(deployment_path(settings, chain_id), chain_id)
    if not w3.eth.get_code(Web3.to_checksum_address(deployment.pool)):
        raise DeploymentError(
            f"no contract at the pool address {deployment.pool} on chain {chain_id}: "
            "the chain was reset; run `greenpoints deploy` again"
        )
    return deployment
