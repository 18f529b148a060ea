"""Helpers for the contract tests: refusals that change nothing, order ids, time travel, typed data.

`expect_refusal` is the workhorse for every negative test: it reads a wide snapshot of the chain
state, proves the call reverts with the exact custom error (name and arguments) through
`eth_call`, then really mines the transaction (explicit gas, so no estimate short-circuits it),
checks the receipt failed, and compares the snapshot again. A refusal that changed anything fails.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import decode, encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import function_signature_to_4byte_selector
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractCustomError
from web3.logs import DISCARD
from web3.types import TxReceipt

from greenpoints.anvil import ANVIL_MNEMONIC
from greenpoints.permission import SPEND_TYPES, spend_domain
from greenpoints.revert import decode_custom_error

# Points have 18 decimals.
POINT = 10**18
BPS = 10_000
TX_GAS = 3_000_000
PANIC_SELECTOR = function_signature_to_4byte_selector("Panic(uint256)")


def order_id(label: str) -> bytes:
    """A 32-byte order id derived from a readable label."""
    return Web3.keccak(text=label)


def role_id(name: str) -> bytes:
    """An AccessControl role id (the admin role is all zeros)."""
    return bytes(32) if name == "DEFAULT_ADMIN_ROLE" else Web3.keccak(text=name)


def ceil_div(a: int, b: int) -> int:
    """Integer division rounded up (non-negative operands)."""
    return -(-a // b)


def _checksummed(args: Iterable[Any]) -> tuple[Any, ...]:
    # eth_abi decodes addresses in lower case; compare them checksummed like web3 returns them.
    return tuple(Web3.to_checksum_address(a) if isinstance(a, str) and Web3.is_address(a) else a for a in args)


def decode_error(data: str) -> tuple[str, tuple[Any, ...]]:
    """(name, args) of revert data: a custom error of our ABIs, or Solidity's `Panic(uint256)`.

    Fails the test for anything else (unknown selectors, empty reverts, `Error(string)`).
    """
    raw = bytes.fromhex(data.removeprefix("0x"))
    if raw[:4] == PANIC_SELECTOR:
        return "Panic", tuple(decode(["uint256"], raw[4:]))
    decoded = decode_custom_error(data)
    assert decoded is not None, f"unknown custom error data {data!r}"
    name, args = decoded
    return name, _checksummed(args)


def custom_error(exc: ContractCustomError) -> tuple[str, tuple[Any, ...]]:
    """(name, args) of the custom error in web3's exception for a reverted call."""
    return decode_error(exc.data if isinstance(exc.data, str) else str(exc.message))


def rpc(w3: Web3, method: str, params: list[Any]) -> dict[str, Any]:
    """One raw JSON-RPC request (no web3 formatting or middleware); returns the whole response."""
    response: dict[str, Any] = w3.provider.make_request(method, params)  # type: ignore[arg-type, assignment]
    return response


def calldata(fn: ContractFunction) -> str:
    """The call data of `fn` with its bound arguments, encoded with eth_abi."""
    inputs = [i["type"] for i in fn.abi["inputs"]]
    selector = function_signature_to_4byte_selector(f"{fn.abi['name']}({','.join(inputs)})")
    args = [
        bytes.fromhex(a.removeprefix("0x")) if t.startswith("bytes") and isinstance(a, str) else a
        for t, a in zip(inputs, fn.args, strict=True)
    ]
    return "0x" + (selector + encode(inputs, args)).hex()


def call_error(fn: ContractFunction, sender: str) -> tuple[str, tuple[Any, ...]]:
    """The custom error `fn` reverts with when called from `sender` at the latest block (must revert)."""
    response = rpc(fn.w3, "eth_call", [{"from": sender, "to": fn.address, "data": calldata(fn)}, "latest"])
    assert "error" in response, f"{fn.fn_name} from {sender} did not revert"
    data = response["error"].get("data")
    assert isinstance(data, str), f"{fn.fn_name} reverted without error data: {response['error']}"
    return decode_error(data)


def send(fn: ContractFunction, sender: str, gas: int = TX_GAS) -> TxReceipt:
    """Mine `fn` from `sender` with a fixed gas limit (no estimate, so reverting calls are mined too)."""
    tx = {"from": sender, "to": fn.address, "data": calldata(fn), "gas": hex(gas)}
    response = rpc(fn.w3, "eth_sendTransaction", [tx])
    assert "result" in response, f"{fn.fn_name} was not accepted: {response}"
    return wait_mined(fn.w3, response["result"])


def wait_mined(w3: Web3, tx_hash: str) -> TxReceipt:
    """The receipt of `tx_hash`. anvil answers `eth_sendTransaction` before its automine task has
    sealed the block, so ask until the receipt exists (a few milliseconds; no sleeping)."""
    for _ in range(10_000):
        if rpc(w3, "eth_getTransactionReceipt", [tx_hash]).get("result") is not None:
            return w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
    raise AssertionError(f"transaction {tx_hash} was never mined")


def transact(fn: ContractFunction, sender: str) -> TxReceipt:
    """Mine `fn` from `sender` and return the receipt; the transaction must succeed."""
    receipt = send(fn, sender)
    if receipt["status"] != 1:
        raise AssertionError(f"{fn.fn_name} from {sender} reverted (replayed as a call: {call_error(fn, sender)})")
    return receipt


@dataclass
class Watch:
    """What a refusal must leave untouched: pool views, balances, merchants, orders, nonces.

    `accounts` get their asset and points balances, pool/token nonces and tax owed read;
    `merchants` their on-chain settings; `orders` are (merchant, orderId) pairs checked with
    `isCheckedOut`, and `spends` (merchant, holder, orderId) triples with `spentPoints`.
    """

    pool: Contract
    token: Contract
    asset: Contract
    accounts: Sequence[str]
    merchants: Sequence[str] = ()
    orders: Sequence[tuple[str, bytes]] = ()
    spends: Sequence[tuple[str, str, bytes]] = ()

    def read(self) -> dict[str, Any]:
        calls: dict[str, tuple[Contract, str, list[Any]]] = {
            "reserve": (self.pool, "reserve", []),
            "taxAccrued": (self.pool, "taxAccrued", []),
            "price": (self.pool, "price", []),
            "supply": (self.token, "totalSupply", []),
            "paused": (self.pool, "paused", []),
            "feeBps": (self.pool, "feeBps", []),
            "taxBps": (self.pool, "taxBps", []),
            "poolShare": (self.pool, "poolShareBps", []),
            "taxCollector": (self.pool, "taxCollector", []),
            "globalDailyCap": (self.pool, "globalDailyCap", []),
            "globalMintedToday": (self.pool, "globalMintedToday", []),
            "assetSupply": (self.asset, "totalSupply", []),
            "asset[pool]": (self.asset, "balanceOf", [self.pool.address]),
        }
        for account in dict.fromkeys([*self.accounts, *self.merchants]):
            calls[f"asset[{account}]"] = (self.asset, "balanceOf", [account])
            calls[f"points[{account}]"] = (self.token, "balanceOf", [account])
            calls[f"poolNonce[{account}]"] = (self.pool, "nonces", [account])
            calls[f"tokenNonce[{account}]"] = (self.token, "nonces", [account])
            calls[f"allowance[{account}]"] = (self.asset, "allowance", [account, self.pool.address])
            calls[f"taxOwed[{account}]"] = (self.pool, "taxOwed", [account])
        for merchant in self.merchants:
            calls[f"merchant[{merchant}]"] = (self.pool, "merchant", [merchant])
        for merchant, oid in self.orders:
            calls[f"checkedOut[{merchant},{oid.hex()}]"] = (self.pool, "isCheckedOut", [merchant, oid])
        for merchant, holder, oid in self.spends:
            calls[f"spent[{merchant},{holder},{oid.hex()}]"] = (self.pool, "spentPoints", [merchant, holder, oid])
        return dict(zip(calls, batch_call(self.pool.w3, list(calls.values())), strict=True))


_ABI_FUNCTIONS: dict[tuple[str, str], tuple[bytes, tuple[str, ...], tuple[str, ...]]] = {}


def _abi_function(c: Contract, name: str) -> tuple[bytes, tuple[str, ...], tuple[str, ...]]:
    """(selector, input types, output types) of `c`'s function `name` (unique by name), cached."""
    key = (c.address, name)
    if key not in _ABI_FUNCTIONS:
        (entry,) = [e for e in c.abi if e["type"] == "function" and e["name"] == name]
        inputs = tuple(i["type"] for i in entry["inputs"])
        outputs = tuple(o["type"] for o in entry["outputs"])
        selector = function_signature_to_4byte_selector(f"{name}({','.join(inputs)})")
        _ABI_FUNCTIONS[key] = (selector, inputs, outputs)
    return _ABI_FUNCTIONS[key]


def batch_call(w3: Web3, calls: Sequence[tuple[Contract, str, list[Any]]]) -> list[Any]:
    """Run view calls as one JSON-RPC batch of `eth_call`s at the latest block (one round trip).

    Returns each call's decoded result (a single value, or a tuple for several outputs); encoding
    is done here with eth_abi because web3's per-call ABI matching costs milliseconds per call.
    """
    requests = []
    signatures = []
    for c, name, args in calls:
        selector, inputs, outputs = _abi_function(c, name)
        data = "0x" + (selector + encode(list(inputs), args)).hex()
        requests.append(("eth_call", [{"to": c.address, "data": data}, "latest"]))
        signatures.append((name, args, outputs))
    responses = w3.provider.make_batch_request(requests)  # type: ignore[attr-defined]
    assert isinstance(responses, list), f"batch call failed: {responses}"
    results: list[Any] = []
    for (name, args, outputs), response in zip(signatures, responses, strict=True):
        assert "result" in response, f"{name}{tuple(args)} failed: {response}"
        decoded = decode(list(outputs), bytes.fromhex(response["result"].removeprefix("0x")))
        results.append(decoded[0] if len(decoded) == 1 else tuple(decoded))
    return results


def expect_refusal(
    fn: ContractFunction,
    sender: str,
    error: str,
    args: Iterable[Any] = (),
    *,
    watch: Watch,
) -> None:
    """`fn` from `sender` reverts with custom error `error(*args)` and changes nothing in `watch`.

    The error is read from `eth_call`; the same transaction is then mined with explicit gas (so
    the node records a failed transaction rather than web3 refusing it at gas estimation), and
    every watched value is compared before and after.
    """
    before = watch.read()
    got, want = call_error(fn, sender), (error, tuple(args))
    assert got == want, f"{fn.fn_name} refused with {got}, expected {want}"
    receipt = send(fn, sender)
    assert receipt["status"] == 0, f"{fn.fn_name} was mined successfully but should have reverted"
    after = watch.read()
    changed = {key: (before[key], after[key]) for key in before if before[key] != after[key]}
    assert not changed, f"refused {fn.fn_name} changed state: {changed}"


def impersonate(w3: Web3, address: str) -> str:
    """Let tests send transactions as `address` (e.g. the timelock, to test the parameter
    setters' bounds without a schedule/execute round trip each time); gives it gas money."""
    rpc(w3, "anvil_impersonateAccount", [address])
    rpc(w3, "anvil_setBalance", [address, hex(10**20)])
    return address


# ---------------------------------------------------------------- chain time


def latest_timestamp(w3: Web3) -> int:
    return int(w3.eth.get_block("latest")["timestamp"])


def mine_at(w3: Web3, timestamp: int) -> None:
    """Mine one empty block at exactly `timestamp` (later blocks continue from there)."""
    w3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])  # type: ignore[arg-type]
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    assert latest_timestamp(w3) == timestamp


# ---------------------------------------------------------------- keys and typed data


def local_account(w3: Web3, address: str) -> LocalAccount:
    """The key of an unlocked anvil account, derived from the default mnemonic."""
    index = list(w3.eth.accounts).index(Web3.to_checksum_address(address))
    Account.enable_unaudited_hdwallet_features()
    account: LocalAccount = Account.from_mnemonic(ANVIL_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
    assert account.address == address
    return account


PERMIT_TYPES = {
    "Permit": [
        {"name": "owner", "type": "address"},
        {"name": "spender", "type": "address"},
        {"name": "value", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}


def sign_spend(
    signer: LocalAccount,
    pool: Contract,
    *,
    holder: str,
    merchant: str,
    points: int,
    oid: bytes,
    nonce: int,
    deadline: int,
    verifying_contract: str | None = None,
) -> bytes:
    """An EIP-712 `Spend` permission for `pool`, signed by `signer`."""
    domain = spend_domain(pool.w3.eth.chain_id, verifying_contract or pool.address)
    message = {
        "holder": holder,
        "merchant": merchant,
        "points": points,
        "orderId": oid,
        "nonce": nonce,
        "deadline": deadline,
    }
    signed = signer.sign_typed_data(domain_data=domain, message_types=SPEND_TYPES, message_data=message)
    return bytes(signed.signature)


def sign_permit(
    signer: LocalAccount, token: Contract, *, spender: str, value: int, nonce: int, deadline: int
) -> tuple[int, bytes, bytes]:
    """An ERC-2612 `Permit` for the points token, as (v, r, s)."""
    domain = {
        "name": token.functions.name().call(),
        "version": "1",
        "chainId": token.w3.eth.chain_id,
        "verifyingContract": token.address,
    }
    message = {"owner": signer.address, "spender": spender, "value": value, "nonce": nonce, "deadline": deadline}
    signed = signer.sign_typed_data(domain_data=domain, message_types=PERMIT_TYPES, message_data=message)
    return signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")


def events(contract: Contract, name: str, receipt: TxReceipt) -> list[Any]:
    """Decoded `name` events that `contract` emitted in `receipt` (other contracts' logs skipped)."""
    found: list[Any] = getattr(contract.events, name)().process_receipt(receipt, errors=DISCARD)
    return [event for event in found if event.address == contract.address]
