"""Every event's fields (SPEC §3.5): decoded from receipts, each field checked, indexed ones included.

`reserveAfter` / `supplyAfter` must equal `reserve()` / `totalSupply()` read right after the call,
so the price history can be rebuilt from logs alone.
"""

from __future__ import annotations

from typing import Any

from eth_utils import event_abi_to_log_topic
from web3.contract import Contract
from web3.types import TxReceipt

from greenpoints.artifacts import abi
from greenpoints.chain import deploy_contract
from greenpoints.deploy import MAX_UINT256
from tests.conftest import PoolEnv
from tests.contracts.helpers import (
    POINT,
    events,
    latest_timestamp,
    local_account,
    order_id,
    sign_spend,
    transact,
)


def only_event(contract: Contract, name: str, receipt: TxReceipt) -> Any:
    """The single `name` event `contract` emitted in `receipt`."""
    found = events(contract, name, receipt)
    assert len(found) == 1, f"expected one {name}, got {found}"
    return found[0]


def indexed_topics(contract: Contract, name: str, receipt: TxReceipt) -> list[bytes]:
    """The raw topics of the `name` log (topic 0 is the signature), to check what is indexed."""
    (entry,) = [e for e in contract.abi if e["type"] == "event" and e["name"] == name]
    signature = event_abi_to_log_topic(entry)
    (log,) = [lg for lg in receipt["logs"] if lg["address"] == contract.address and lg["topics"][0] == signature]
    return [bytes(t) for t in log["topics"][1:]]


def word(address: str) -> bytes:
    return bytes(12) + bytes.fromhex(address[2:])


def after(env: PoolEnv) -> tuple[int, int]:
    return env.pool.functions.reserve().call(), env.token.functions.totalSupply().call()


def test_checked_out(env: PoolEnv) -> None:
    tea, customer, oid = env.merchants[0], env.customers[0], order_id("order-1")
    receipt = transact(env.pool.functions.checkout(customer, 5_000 * env.unit, oid), tea)
    event = only_event(env.pool, "CheckedOut", receipt)
    assert dict(event.args) == {
        "merchant": tea,
        "customer": customer,
        "orderId": oid,
        "saleAmount": 5_000 * env.unit,
        "points": 350 * POINT,
        "poolIn": 150 * env.unit,
        "reserveAfter": 150 * env.unit,
        "supplyAfter": 350 * POINT,
    }
    assert (event.args.reserveAfter, event.args.supplyAfter) == after(env)
    assert indexed_topics(env.pool, "CheckedOut", receipt) == [word(tea), word(customer), oid]
    # The points token logs the mint as a Transfer from the zero address.
    (mint,) = events(env.token, "Transfer", receipt)
    assert dict(mint.args) == {"from": "0x" + "00" * 20, "to": customer, "value": 350 * POINT}


def test_redeemed(env: PoolEnv) -> None:
    holder = env.customers[0]
    transact(env.pool.functions.checkout(holder, 5_000 * env.unit, order_id("order-1")), env.merchants[0])
    receipt = transact(env.pool.functions.redeem(100 * POINT, 0), holder)
    event = only_event(env.pool, "Redeemed", receipt)
    assert dict(event.args) == {
        "holder": holder,
        "points": 100 * POINT,
        "payout": 38_571_427,
        "tax": 2_571_428,
        "kept": 1_714_287,
        "reserveAfter": 108_857_145,
        "supplyAfter": 250 * POINT,
    }
    assert (event.args.reserveAfter, event.args.supplyAfter) == after(env)
    assert indexed_topics(env.pool, "Redeemed", receipt) == [word(holder)]
    (burn,) = events(env.token, "Transfer", receipt)
    assert dict(burn.args) == {"from": holder, "to": "0x" + "00" * 20, "value": 100 * POINT}
    (payout,) = events(env.asset, "Transfer", receipt)
    assert dict(payout.args) == {"from": env.pool.address, "to": holder, "value": 38_571_427}


def test_spent_directly_and_by_permission(env: PoolEnv) -> None:
    holder, tea = env.customers[0], env.merchants[0]
    transact(env.pool.functions.checkout(holder, 5_000 * env.unit, order_id("order-1")), tea)
    oid = order_id("spend-1")
    receipt = transact(env.pool.functions.spend(tea, 50 * POINT, oid), holder)
    event = only_event(env.pool, "Spent", receipt)
    assert dict(event.args) == {
        "holder": holder,
        "merchant": tea,
        "orderId": oid,
        "points": 50 * POINT,
        "reserveAfter": 150 * env.unit,
        "supplyAfter": 300 * POINT,
    }
    assert (event.args.reserveAfter, event.args.supplyAfter) == after(env)
    assert indexed_topics(env.pool, "Spent", receipt) == [word(holder), word(tea), oid]

    signed_oid = order_id("spend-2")
    deadline = latest_timestamp(env.w3) + 600
    signature = sign_spend(
        local_account(env.w3, holder),
        env.pool,
        holder=holder,
        merchant=tea,
        points=20 * POINT,
        oid=signed_oid,
        nonce=0,
        deadline=deadline,
    )
    receipt = transact(env.pool.functions.spendFor(holder, 20 * POINT, signed_oid, deadline, signature), tea)
    event = only_event(env.pool, "Spent", receipt)
    assert dict(event.args) == {
        "holder": holder,
        "merchant": tea,
        "orderId": signed_oid,
        "points": 20 * POINT,
        "reserveAfter": 150 * env.unit,
        "supplyAfter": 280 * POINT,
    }
    assert (event.args.reserveAfter, event.args.supplyAfter) == after(env)


def test_funded(env: PoolEnv) -> None:
    funder = env.customers[1]
    transact(env.pool.functions.checkout(env.customers[0], 5_000 * env.unit, order_id("order-1")), env.merchants[0])
    transact(env.asset.functions.mint(funder, 40 * env.unit), funder)
    transact(env.asset.functions.approve(env.pool.address, MAX_UINT256), funder)
    receipt = transact(env.pool.functions.fund(40 * env.unit, 350 * POINT), funder)
    event = only_event(env.pool, "Funded", receipt)
    assert dict(event.args) == {
        "from": funder,
        "amount": 40 * env.unit,
        "reserveAfter": 190 * env.unit,
        "supplyAfter": 350 * POINT,
    }
    assert (event.args.reserveAfter, event.args.supplyAfter) == after(env)
    assert indexed_topics(env.pool, "Funded", receipt) == [word(funder)]


def test_tax_withdrawn(env: PoolEnv) -> None:
    holder = env.customers[0]
    transact(env.pool.functions.checkout(holder, 5_000 * env.unit, order_id("order-1")), env.merchants[0])
    transact(env.pool.functions.redeem(100 * POINT, 0), holder)
    receipt = transact(env.pool.functions.withdrawTax(), env.collector)
    event = only_event(env.pool, "TaxWithdrawn", receipt)
    assert dict(event.args) == {
        "to": env.collector,
        "amount": 2_571_428,
        "reserveAfter": 108_857_145,
        "supplyAfter": 250 * POINT,
    }
    assert (event.args.reserveAfter, event.args.supplyAfter) == after(env)
    assert indexed_topics(env.pool, "TaxWithdrawn", receipt) == [word(env.collector)]
    assert env.pool.functions.taxAccrued().call() == 0


def test_spend_permissions_cancelled(env: PoolEnv) -> None:
    holder = env.customers[0]
    receipt = transact(env.pool.functions.cancelSpendPermissions(), holder)
    assert dict(only_event(env.pool, "SpendPermissionsCancelled", receipt).args) == {"holder": holder, "nonce": 1}
    assert indexed_topics(env.pool, "SpendPermissionsCancelled", receipt) == [word(holder)]
    receipt = transact(env.pool.functions.cancelSpendPermissions(), holder)
    assert only_event(env.pool, "SpendPermissionsCancelled", receipt).args.nonce == 2
    assert env.pool.functions.nonces(holder).call() == 2


def test_parameter_events(env: PoolEnv) -> None:
    pool, operator, newcomer = env.pool, env.admin, env.customers[5]
    receipt = transact(pool.functions.setMerchant(newcomer, 2_500, 7 * POINT, True), operator)
    event = only_event(pool, "MerchantSet", receipt)
    assert dict(event.args) == {"merchant": newcomer, "rateBps": 2_500, "dailyCap": 7 * POINT, "active": True}
    assert indexed_topics(pool, "MerchantSet", receipt) == [word(newcomer)]
    receipt = transact(pool.functions.setMerchant(newcomer, 2_500, 7 * POINT, False), operator)
    assert dict(only_event(pool, "MerchantSet", receipt).args)["active"] is False

    # The value-moving parameters change only through the timelock: the events are in its execution.
    receipt = env.govern(pool.functions.setFees(1_500, 500))
    assert dict(only_event(pool, "FeesSet", receipt).args) == {"feeBps": 1_500, "taxBps": 500}

    receipt = env.govern(pool.functions.setPoolShare(4_000))
    assert dict(only_event(pool, "PoolShareSet", receipt).args) == {"poolShareBps": 4_000}

    receipt = env.govern(pool.functions.setTaxCollector(newcomer))
    assert dict(only_event(pool, "TaxCollectorSet", receipt).args) == {"collector": newcomer}
    assert indexed_topics(pool, "TaxCollectorSet", receipt) == [word(newcomer)]

    receipt = env.govern(pool.functions.setGlobalDailyCap(5 * POINT))
    assert dict(only_event(pool, "GlobalDailyCapSet", receipt).args) == {"cap": 5 * POINT}


def test_constructor_announces_the_initial_parameters(env: PoolEnv) -> None:
    """A fresh pool's deployment receipt carries its parameters (defaults) and who holds which role."""
    timelock, operator = env.customers[6], env.customers[7]
    args = [env.asset.address, timelock, operator, env.collector, 3_600, 9 * POINT, "Green Points", "GP"]
    pool, receipt = deploy_contract(env.w3, "DividendPool", env.admin, *args)
    assert dict(only_event(pool, "TaxCollectorSet", receipt).args) == {"collector": env.collector}
    assert dict(only_event(pool, "FeesSet", receipt).args) == {"feeBps": 1_000, "taxBps": 600}
    assert dict(only_event(pool, "PoolShareSet", receipt).args) == {"poolShareBps": 3_000}
    assert dict(only_event(pool, "GlobalDailyCapSet", receipt).args) == {"cap": 9 * POINT}
    granted = events(pool, "RoleGranted", receipt)
    role = pool.functions
    assert {(bytes(e.args.role), e.args.account) for e in granted} == {
        (bytes(32), timelock),
        (bytes(role.PARAMETER_ADMIN_ROLE().call()), timelock),
        (bytes(role.MERCHANT_MANAGER_ROLE().call()), operator),
        (bytes(role.PAUSER_ROLE().call()), operator),
    }
    assert (pool.functions.defaultAdmin().call(), pool.functions.defaultAdminDelay().call()) == (timelock, 3_600)


def test_points_burned_by_burn_and_burn_from(env: PoolEnv) -> None:
    holder, spender = env.customers[0], env.customers[1]
    transact(env.pool.functions.checkout(holder, 5_000 * env.unit, order_id("order-1")), env.merchants[0])

    receipt = transact(env.token.functions.burn(30 * POINT), holder)
    event = only_event(env.token, "PointsBurned", receipt)
    assert dict(event.args) == {
        "holder": holder,
        "amount": 30 * POINT,
        "reserveAfter": 150 * env.unit,
        "supplyAfter": 320 * POINT,
    }
    assert (event.args.reserveAfter, event.args.supplyAfter) == after(env)
    assert indexed_topics(env.token, "PointsBurned", receipt) == [word(holder)]

    transact(env.token.functions.approve(spender, 25 * POINT), holder)
    receipt = transact(env.token.functions.burnFrom(holder, 20 * POINT), spender)
    event = only_event(env.token, "PointsBurned", receipt)
    assert dict(event.args) == {
        "holder": holder,  # the account whose points burned, not the spender
        "amount": 20 * POINT,
        "reserveAfter": 150 * env.unit,
        "supplyAfter": 300 * POINT,
    }
    assert (event.args.reserveAfter, event.args.supplyAfter) == after(env)
    assert env.token.functions.allowance(holder, spender).call() == 5 * POINT
    # The burns raised the price: same reserve (150), fewer points (300).
    assert env.pool.functions.price().call() == 500_000_000_000_000_000


def test_every_pool_event_is_covered() -> None:
    """The pool and the token declare no event of their own that this file does not check."""
    pool_events = {e["name"] for e in abi("DividendPool") if e["type"] == "event"}
    token_events = {e["name"] for e in abi("PointsToken") if e["type"] == "event"}
    covered = {
        "CheckedOut",
        "Redeemed",
        "Spent",
        "Funded",
        "TaxWithdrawn",
        "MerchantSet",
        "FeesSet",
        "PoolShareSet",
        "TaxCollectorSet",
        "GlobalDailyCapSet",
        "SpendPermissionsCancelled",
        "RoleGranted",
    }
    # OpenZeppelin's own, tested upstream; the governance tests exercise the admin transfer.
    openzeppelin = {
        "RoleAdminChanged",
        "RoleRevoked",
        "Paused",
        "Unpaused",
        "EIP712DomainChanged",
        "DefaultAdminTransferScheduled",
        "DefaultAdminTransferCanceled",
        "DefaultAdminDelayChangeScheduled",
        "DefaultAdminDelayChangeCanceled",
    }
    assert pool_events - covered - openzeppelin == set()
    assert token_events - {"PointsBurned", "Transfer", "Approval", "EIP712DomainChanged"} == set()
