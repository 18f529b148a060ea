"""Which anvil account plays which part in the browser tests: every test gets customers of its own,
given points by a demo merchant's checkout, so no test depends on another's effects."""

from __future__ import annotations

import itertools

from tests.dapp.stack import DappStack

_refs = itertools.count(1)

# Index into the deployment's customers (anvil accounts 5…19) for each test that needs one.
SLOTS = {
    "connect": 0,
    "redeem": 1,
    "transfer": 2,
    "transfer_to": 3,
    "spend": 4,
    "slippage": 5,
    "slippage_other": 6,
    "reject": 7,
    "chain": 8,
    "fallback": 9,
    "follow": 10,
    "paused": 11,
    "offline": 12,
    "views": 13,
    "checkout_customer": 14,
}


def customer(dapp: DappStack, slot: str, sale_units: int = 2_000) -> str:
    """The slot's customer, after a checkout of `sale_units` gave it points (0: none)."""
    account: str = dapp.roles()["customers"][SLOTS[slot]]
    if sale_units:
        dapp.checkout(dapp.roles()["merchants"][1], account, sale_units, f"dapp-test-{slot}-{next(_refs)}")
    return account
