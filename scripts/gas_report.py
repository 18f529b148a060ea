"""Gas used by the pool's everyday operations, next to a plain OpenZeppelin ERC-20 transfer and mint.

Starts its own anvil, deploys the pool over the 6-decimal test stablecoin (the demo setup of
`greenpoints deploy`), runs each operation once and prints `gasUsed` from the receipts, with the
ratio to a plain `TestStablecoin.transfer` measured in the same run on the same node.

    .venv/bin/python scripts/gas_report.py
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract.contract import ContractFunction

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a plain script from any directory
    sys.path.insert(0, str(ROOT))

from greenpoints.anvil import ANVIL_MNEMONIC, Anvil  # noqa: E402
from greenpoints.build import build  # noqa: E402
from greenpoints.chain import connect, contract, send  # noqa: E402
from greenpoints.deploy import MAX_UINT256, deploy, local_roles  # noqa: E402
from greenpoints.permission import sign_spend  # noqa: E402

POINT = 10**18


@dataclass(frozen=True)
class Measurement:
    operation: str
    gas: int
    note: str


def gas_of(fn: ContractFunction, sender: str) -> int:
    """Send `fn` from `sender` and return the gas its receipt reports."""
    return int(send(fn, sender)["gasUsed"])


def order_id(label: str) -> bytes:
    return bytes(Web3.keccak(text=label))


def key_of(w3: Web3, address: str) -> LocalAccount:
    """The private key of an anvil default account (derived from the default mnemonic)."""
    index = list(w3.eth.accounts).index(Web3.to_checksum_address(address))
    Account.enable_unaudited_hdwallet_features()
    account: LocalAccount = Account.from_mnemonic(ANVIL_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
    return account


def measure(w3: Web3) -> list[Measurement]:
    deployment = deploy(w3, asset_decimals=6, log=lambda _: None)
    pool = contract(w3, "DividendPool", deployment.pool)
    token = contract(w3, "PointsToken", deployment.points_token)
    stable = contract(w3, "TestStablecoin", deployment.asset)
    unit = 10**deployment.asset_decimals
    roles = local_roles(w3)
    merchant = deployment.merchants[0].address  # 10 % skim, float approved at deployment
    alice, bob, carol, dave, funder = roles["customers"][:5]
    results: list[Measurement] = []

    def record(operation: str, fn: ContractFunction, sender: str, note: str = "") -> None:
        results.append(Measurement(operation, gas_of(fn, sender), note))

    # Baselines: a plain OpenZeppelin ERC-20 (the test stablecoin), same node, same run.
    record("ERC-20 mint (TestStablecoin)", stable.functions.mint(funder, 1_000 * unit), funder, "new holder")
    record(
        "ERC-20 transfer (TestStablecoin)",
        stable.functions.transfer(dave, 10 * unit),
        funder,
        "baseline: to a new holder",
    )
    record("ERC-20 transfer, repeat", stable.functions.transfer(dave, 10 * unit), funder, "to an existing holder")

    # Pool operations.
    sale = 5_000 * unit
    record(
        "checkout, first in the pool",
        pool.functions.checkout(alice, sale, order_id("o-1")),
        merchant,
        "new customer; reserve, supply, cap day 0→x",
    )
    record("checkout, new customer", pool.functions.checkout(bob, sale, order_id("o-2")), merchant, "mints 350 points")
    record("checkout, repeat customer", pool.functions.checkout(alice, sale, order_id("o-3")), merchant)
    record("redeem (part of a balance)", pool.functions.redeem(100 * POINT, 0), alice, "first redeem: taxAccrued 0→x")
    record("redeem, repeat", pool.functions.redeem(100 * POINT, 0), alice)
    record("spend at a merchant", pool.functions.spend(merchant, 50 * POINT, order_id("s-1")), alice)
    deadline = int(w3.eth.get_block("latest")["timestamp"]) + 3_600
    signature = sign_spend(
        key_of(w3, bob),
        chain_id=w3.eth.chain_id,
        pool=pool.address,
        merchant=merchant,
        points=50 * POINT,
        order_id=order_id("s-2"),
        nonce=0,
        deadline=deadline,
    )
    record(
        "spendFor (EIP-712 permission)",
        pool.functions.spendFor(bob, 50 * POINT, order_id("s-2"), deadline, signature),
        merchant,
        "paid by the merchant",
    )
    record("points transfer", token.functions.transfer(carol, 10 * POINT), alice, "to a new holder")
    record("points transfer, repeat", token.functions.transfer(carol, 10 * POINT), alice, "to an existing holder")
    send(stable.functions.approve(pool.address, MAX_UINT256), funder)
    record("fund (top-up)", pool.functions.fund(100 * unit, token.functions.totalSupply().call()), funder)
    record("points burn (token.burn)", token.functions.burn(10 * POINT), alice, "emits PointsBurned")
    return results


def render(results: list[Measurement]) -> str:
    baseline = next(m.gas for m in results if m.operation == "ERC-20 transfer (TestStablecoin)")
    width = max(len(m.operation) for m in results)
    lines = [f"{'operation':<{width}}  {'gasUsed':>9}  {'× transfer':>10}  note", "-" * (width + 40)]
    for m in results:
        lines.append(f"{m.operation:<{width}}  {m.gas:>9,}  {m.gas / baseline:>10.2f}  {m.note}".rstrip())
    lines.append("")
    lines.append(f"ratios are against a plain ERC-20 transfer to a new holder ({baseline:,} gas), same node and run")
    return "\n".join(lines)


def main() -> int:
    build()
    with Anvil(accounts=20) as node:
        w3 = connect(node.url)
        gas_limit = w3.eth.get_block("latest")["gasLimit"]
        print(f"anvil at {node.url}, chain {w3.eth.chain_id}, block gas limit {gas_limit:,}")
        print(render(measure(w3)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
