"""Chain access for the command-line tools: connecting, contract handles and sending transactions."""

from __future__ import annotations

from typing import Any

import requests
from eth_account import Account
from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import ContractCustomError, ContractLogicError, Web3Exception
from web3.middleware import SignAndSendRawMiddlewareBuilder
from web3.providers.rpc.utils import ExceptionRetryConfiguration
from web3.types import TxReceipt

from greenpoints.artifacts import abi, load_artifact
from greenpoints.errors import ChainError
from greenpoints.revert import describe_custom_error


def connect(url: str, private_key: str | None = None, timeout: float = 30.0) -> Web3:
    """A Web3 on `url` with retries on transient faults; signs locally when `private_key` is given."""
    provider = Web3.HTTPProvider(
        url,
        request_kwargs={"timeout": timeout},
        exception_retry_configuration=ExceptionRetryConfiguration(
            errors=(requests.ConnectionError, requests.HTTPError, requests.Timeout), retries=5, backoff_factor=0.2
        ),
    )
    w3 = Web3(provider)
    try:
        w3.eth.chain_id  # noqa: B018 - one round trip proves the node answers
    except Exception as exc:  # requests/web3 raise many kinds; all mean "not reachable"
        raise ChainError(f"cannot reach JSON-RPC at {url}: {exc.__class__.__name__}") from None
    if private_key is not None:
        account = Account.from_key(private_key)
        w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(account), layer=0)
        w3.eth.default_account = account.address
    return w3


def contract(w3: Web3, name: str, address: str) -> Contract:
    """A handle on deployed contract `name` at `address`."""
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi(name))


def decode_revert(exc: Exception) -> str:
    """A readable reason for a reverted call: the custom error's name and arguments when known."""
    if isinstance(exc, ContractCustomError):
        return describe_custom_error(exc.data if isinstance(exc.data, str) else str(exc.message))
    return str(exc)


def send(fn: ContractFunction | ContractConstructor, sender: str, **tx: Any) -> TxReceipt:
    """Send `fn` from `sender`, wait for its receipt and fail loudly on a revert."""
    w3: Web3 = fn.w3
    params = {"from": sender, **tx}
    try:
        tx_hash = fn.transact(params)  # type: ignore[arg-type]
    except (ContractCustomError, ContractLogicError) as exc:
        raise ChainError(f"transaction reverted: {decode_revert(exc)}") from None
    except Web3Exception as exc:
        raise ChainError(f"transaction failed: {exc}") from None
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
    if receipt["status"] != 1:
        raise ChainError(f"transaction {tx_hash.hex()} reverted")
    return receipt


def deploy_contract(w3: Web3, name: str, sender: str, *args: Any) -> tuple[Contract, TxReceipt]:
    """Deploy contract `name` with constructor `args` from `sender`."""
    artifact = load_artifact(name)
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    receipt = send(factory.constructor(*args), sender)
    address: ChecksumAddress | None = receipt["contractAddress"]
    if address is None:
        raise ChainError(f"deploying {name} created no contract")
    return contract(w3, name, address), receipt
