"""The pool and asset calls and events the merchant tools use, encoded with eth_abi directly.

Signatures are written out (a test checks each against the compiled ABIs), so encoding a call is
a selector and `eth_abi.encode`, with no web3 contract object on the hot path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi import decode, encode
from eth_hash.auto import keccak
from eth_utils import to_checksum_address


@dataclass(frozen=True)
class Function:
    """One contract function: name, input types, output types."""

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...] = ()

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(self.inputs)})"

    @property
    def selector(self) -> bytes:
        return bytes(keccak(self.signature.encode()))[:4]

    def data(self, *args: Any) -> str:
        """Call data for `args`, as 0x-hex."""
        return "0x" + (self.selector + encode(list(self.inputs), list(args))).hex()

    def result(self, raw: str) -> Any:
        """The decoded result of an `eth_call` (a single value, or a tuple for several outputs)."""
        values = decode(list(self.outputs), bytes.fromhex(raw.removeprefix("0x")))
        return values[0] if len(values) == 1 else tuple(values)


# The pool (DividendPool).
CHECKOUT = Function("checkout", ("address", "uint256", "bytes32"), ("uint256",))
QUOTE_CHECKOUT = Function("quoteCheckout", ("address", "uint256"), ("uint256", "uint256"))
IS_CHECKED_OUT = Function("isCheckedOut", ("address", "bytes32"), ("bool",))
MERCHANT = Function("merchant", ("address",), ("uint16", "uint256", "bool", "uint256"))
PAUSED = Function("paused", (), ("bool",))
SPEND_FOR = Function("spendFor", ("address", "uint256", "bytes32", "uint256", "bytes"))
NONCES = Function("nonces", ("address",), ("uint256",))
SPENT_POINTS = Function("spentPoints", ("address", "address", "bytes32"), ("uint256",))
GLOBAL_DAILY_CAP = Function("globalDailyCap", (), ("uint256",))
GLOBAL_MINTED_TODAY = Function("globalMintedToday", (), ("uint256",))
# The reserve asset and the points token (ERC-20).
ALLOWANCE = Function("allowance", ("address", "address"), ("uint256",))
BALANCE_OF = Function("balanceOf", ("address",), ("uint256",))
APPROVE = Function("approve", ("address", "uint256"), ("bool",))
SYMBOL = Function("symbol", (), ("string",))

FUNCTIONS = (
    CHECKOUT,
    QUOTE_CHECKOUT,
    IS_CHECKED_OUT,
    MERCHANT,
    PAUSED,
    SPEND_FOR,
    NONCES,
    SPENT_POINTS,
    GLOBAL_DAILY_CAP,
    GLOBAL_MINTED_TODAY,
)
ERC20_FUNCTIONS = (ALLOWANCE, BALANCE_OF, APPROVE, SYMBOL)

CHECKED_OUT_SIGNATURE = "CheckedOut(address,address,bytes32,uint256,uint256,uint256,uint256,uint256)"
CHECKED_OUT_TOPIC = "0x" + bytes(keccak(CHECKED_OUT_SIGNATURE.encode())).hex()
SPENT_SIGNATURE = "Spent(address,address,bytes32,uint256,uint256,uint256)"
SPENT_TOPIC = "0x" + bytes(keccak(SPENT_SIGNATURE.encode())).hex()


def address_topic(address: str) -> str:
    """An address as an indexed-event topic."""
    return "0x" + address.lower().removeprefix("0x").rjust(64, "0")


@dataclass(frozen=True)
class CheckedOutLog:
    """A decoded `CheckedOut` event with where it was mined."""

    merchant: str
    customer: str
    order_id: bytes
    sale_amount: int
    points: int
    pool_in: int
    reserve_after: int
    supply_after: int
    tx_hash: str
    block_number: int
    block_hash: str


def decode_checked_out(log: dict[str, Any]) -> CheckedOutLog:
    """A `CheckedOut` log of `eth_getLogs` or a receipt, decoded."""
    topics = log["topics"]
    sale, points, pool_in, reserve, supply = decode(["uint256"] * 5, bytes.fromhex(log["data"].removeprefix("0x")))
    return CheckedOutLog(
        merchant=to_checksum_address("0x" + topics[1][-40:]),
        customer=to_checksum_address("0x" + topics[2][-40:]),
        order_id=bytes.fromhex(topics[3].removeprefix("0x")),
        sale_amount=sale,
        points=points,
        pool_in=pool_in,
        reserve_after=reserve,
        supply_after=supply,
        tx_hash=log["transactionHash"],
        block_number=int(log["blockNumber"], 16),
        block_hash=log["blockHash"],
    )


def checked_out_in(receipt: dict[str, Any], pool: str) -> list[CheckedOutLog]:
    """The `CheckedOut` events `pool` emitted in `receipt`."""
    return [
        decode_checked_out(log)
        for log in receipt.get("logs", [])
        if log["address"].lower() == pool.lower() and log["topics"] and log["topics"][0] == CHECKED_OUT_TOPIC
    ]
