"""EIP-1559 fees: what to offer for a new transaction, and when and how to replace a stuck one.

A new transaction offers `max_fee = 2 × base fee + tip`, which stays above the base fee through
six full blocks in a row (each raises it by at most 12.5 %). A transaction is stuck when the
base fee rose above its `max_fee`: it cannot be mined until the base fee falls again. Its
replacement (same nonce) must raise both figures by at least 10 % to be accepted by geth-like
nodes; it raises them by 12.5 % at least, and to the current `2 × base fee + tip` when that is more.
"""

from __future__ import annotations

from dataclasses import dataclass

from merchant.rpc import Rpc

# Nodes refuse a replacement that raises the tip or the fee cap by less than 10 %.
BUMP_NUMERATOR, BUMP_DENOMINATOR = 9, 8


@dataclass(frozen=True, slots=True)
class Fees:
    """An EIP-1559 fee offer, in wei per gas."""

    max_fee: int
    tip: int

    def below(self, base_fee: int) -> bool:
        """Whether a transaction with these fees cannot be mined at `base_fee`."""
        return self.max_fee < base_fee


def _bumped(value: int) -> int:
    return -(-value * BUMP_NUMERATOR // BUMP_DENOMINATOR) + 1


def offer(base_fee: int, tip: int, cap: int | None = None) -> Fees:
    """The fees of a new transaction at `base_fee` with `tip`, limited to `cap` when given."""
    max_fee = 2 * base_fee + tip
    if cap is not None:
        max_fee = min(max_fee, cap)
        tip = min(tip, max_fee)
    return Fees(max_fee=max_fee, tip=tip)


def replacement(old: Fees, base_fee: int, tip: int, cap: int | None = None) -> Fees | None:
    """The fees of a replacement for a transaction offering `old`, or None when `cap` leaves no
    room for a valid replacement."""
    new_tip = max(tip, _bumped(old.tip))
    new_max = max(2 * base_fee + new_tip, _bumped(old.max_fee))
    if cap is not None and new_max > cap:
        return None
    return Fees(max_fee=new_max, tip=new_tip)


def base_fee(rpc: Rpc) -> int:
    """The base fee of the next block (the node's pending block), else of the latest."""
    for tag in ("pending", "latest"):
        block = rpc.call("eth_getBlockByNumber", [tag, False])
        if isinstance(block, dict) and block.get("baseFeePerGas") is not None:
            return int(block["baseFeePerGas"], 16)
    return 0


def node_tip(rpc: Rpc) -> int:
    """The node's suggested tip (`eth_maxPriorityFeePerGas`)."""
    return int(rpc.call("eth_maxPriorityFeePerGas"), 16)
