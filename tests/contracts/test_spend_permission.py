"""Gasless spending (SPEC §2): `spendFor` with the holder's EIP-712 `Spend` permission, and ERC-2612 `permit`.

Keys are the anvil default mnemonic's, derived with eth_account; signatures are made off-chain
exactly as a wallet would (`eth_signTypedData_v4` shape), never by the contracts under test.
"""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak
from web3 import Web3

from greenpoints.chain import deploy_contract
from tests.conftest import PoolEnv
from tests.contracts.conftest import env_watch
from tests.contracts.helpers import (
    PERMIT_TYPES,
    POINT,
    SPEND_TYPES,
    Watch,
    events,
    expect_refusal,
    latest_timestamp,
    local_account,
    mine_at,
    order_id,
    sign_permit,
    sign_spend,
    transact,
)


class Signed:
    """A holder with 350 points and a helper to sign `Spend` permissions for them."""

    def __init__(self, env: PoolEnv) -> None:
        self.env = env
        self.holder = env.customers[0]
        self.key = local_account(env.w3, self.holder)
        self.tea, self.sofa = env.merchants[0], env.merchants[1]
        transact(env.pool.functions.checkout(self.holder, 5_000 * env.unit, order_id("order-1")), self.tea)
        self.deadline = latest_timestamp(env.w3) + 3_600

    def sign(self, **overrides: Any) -> bytes:
        fields: dict[str, Any] = {
            "holder": self.holder,
            "merchant": self.tea,
            "points": 10 * POINT,
            "oid": order_id("spend-1"),
            "nonce": self.env.pool.functions.nonces(self.holder).call(),
            "deadline": self.deadline,
        }
        signer = overrides.pop("signer", self.key)
        fields.update(overrides)
        return sign_spend(signer, self.env.pool, **fields)

    def watch(self, *oids: bytes) -> Watch:
        return env_watch(self.env, spends=[(m, self.holder, oid) for m in (self.tea, self.sofa) for oid in oids])


@pytest.fixture
def signed(env: PoolEnv) -> Signed:
    return Signed(env)


def test_domain_separator_matches_the_documented_domain(env: PoolEnv) -> None:
    domain = env.pool.functions.eip712Domain().call()
    assert domain[1:5] == ["GreenPointsPool", "1", env.w3.eth.chain_id, env.pool.address]
    type_hash = keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
    expected = keccak(
        type_hash
        + keccak(text="GreenPointsPool")
        + keccak(text="1")
        + env.w3.eth.chain_id.to_bytes(32, "big")
        + bytes(12)
        + bytes.fromhex(env.pool.address[2:])
    )
    assert bytes(env.pool.functions.DOMAIN_SEPARATOR().call()) == expected
    spend_type = "Spend(address holder,address merchant,uint256 points,bytes32 orderId,uint256 nonce,uint256 deadline)"
    assert bytes(env.pool.functions.SPEND_TYPEHASH().call()) == keccak(text=spend_type)


def test_spend_for_works_once_and_burns_the_points(signed: Signed) -> None:
    env, holder, tea = signed.env, signed.holder, signed.tea
    oid = order_id("spend-1")
    signature = signed.sign()
    reserve = env.pool.functions.reserve().call()
    holder_eth = env.w3.eth.get_balance(Web3.to_checksum_address(holder))

    receipt = transact(env.pool.functions.spendFor(holder, 10 * POINT, oid, signed.deadline, signature), tea)

    assert env.token.functions.balanceOf(holder).call() == 340 * POINT
    assert env.token.functions.totalSupply().call() == 340 * POINT
    assert env.pool.functions.reserve().call() == reserve  # spending keeps the reserve: price rises
    assert env.pool.functions.nonces(holder).call() == 1
    assert env.pool.functions.spentPoints(tea, holder, oid).call() == 10 * POINT
    assert env.w3.eth.get_balance(Web3.to_checksum_address(holder)) == holder_eth  # the holder paid no gas
    (event,) = events(env.pool, "Spent", receipt)
    assert (event.args.holder, event.args.merchant, event.args.orderId, event.args.points) == (
        holder,
        tea,
        oid,
        10 * POINT,
    )

    # Replaying the very same permission: the nonce moved on, so it no longer matches the holder.
    expect_refusal(
        env.pool.functions.spendFor(holder, 10 * POINT, oid, signed.deadline, signature),
        tea,
        "PoolInvalidSignature",
        [holder],
        watch=signed.watch(oid),
    )
    # A fresh permission (next nonce) for the same order: the order id is spent.
    fresh = signed.sign()
    expect_refusal(
        env.pool.functions.spendFor(holder, 10 * POINT, oid, signed.deadline, fresh),
        tea,
        "PoolSpendReplayed",
        [tea, holder, oid],
        watch=signed.watch(oid),
    )
    # With a new order id the next nonce works.
    other = order_id("spend-2")
    transact(
        env.pool.functions.spendFor(holder, 10 * POINT, other, signed.deadline, signed.sign(oid=other)),
        tea,
    )
    assert env.pool.functions.nonces(holder).call() == 2


def test_signature_by_someone_else_is_refused(signed: Signed) -> None:
    env, oid = signed.env, order_id("spend-1")
    impostor = local_account(env.w3, env.customers[1])
    signature = signed.sign(signer=impostor)
    expect_refusal(
        env.pool.functions.spendFor(signed.holder, 10 * POINT, oid, signed.deadline, signature),
        signed.tea,
        "PoolInvalidSignature",
        [signed.holder],
        watch=signed.watch(oid),
    )


def test_permission_for_another_merchant_is_refused(signed: Signed) -> None:
    env, oid = signed.env, order_id("spend-1")
    signature = signed.sign(merchant=signed.tea)
    expect_refusal(
        env.pool.functions.spendFor(signed.holder, 10 * POINT, oid, signed.deadline, signature),
        signed.sofa,
        "PoolInvalidSignature",
        [signed.holder],
        watch=signed.watch(oid),
    )
    # The merchant it names can still use it.
    transact(env.pool.functions.spendFor(signed.holder, 10 * POINT, oid, signed.deadline, signature), signed.tea)


@pytest.mark.parametrize(
    "change",
    ["points", "order", "deadline", "nonce", "holder", "verifying-contract", "chain", "garbage", "short"],
)
def test_any_altered_field_invalidates_the_permission(signed: Signed, change: str) -> None:
    env, holder, tea = signed.env, signed.holder, signed.tea
    oid, points, deadline = order_id("spend-1"), 10 * POINT, signed.deadline
    signature = signed.sign()
    claimed_holder = holder
    if change == "points":
        points = 11 * POINT
    elif change == "order":
        oid = order_id("spend-other")
    elif change == "deadline":
        deadline += 1
    elif change == "nonce":
        signature = signed.sign(nonce=1)
    elif change == "holder":
        claimed_holder = env.customers[1]  # holder's own signature presented as customer 1's permission
        transact(env.pool.functions.checkout(claimed_holder, 1_000 * env.unit, order_id("order-2")), tea)
    elif change == "verifying-contract":
        signature = signed.sign(verifying_contract=env.token.address)
    elif change == "chain":
        message = {
            "holder": holder,
            "merchant": tea,
            "points": points,
            "orderId": oid,
            "nonce": 0,
            "deadline": deadline,
        }
        domain = {"name": "GreenPointsPool", "version": "1", "chainId": 1, "verifyingContract": env.pool.address}
        signature = bytes(
            signed.key.sign_typed_data(domain_data=domain, message_types=SPEND_TYPES, message_data=message).signature
        )
    elif change == "garbage":
        signature = bytes(65)
    elif change == "short":
        signature = signature[:64]
    expect_refusal(
        env.pool.functions.spendFor(claimed_holder, points, oid, deadline, signature),
        tea,
        "PoolInvalidSignature",
        [claimed_holder],
        watch=signed.watch(oid),
    )


def test_expired_permission_is_refused_and_the_deadline_second_itself_is_valid(signed: Signed) -> None:
    env, holder, tea = signed.env, signed.holder, signed.tea
    deadline = latest_timestamp(env.w3) + 100
    first, second = order_id("spend-1"), order_id("spend-2")
    late = signed.sign(oid=second, deadline=deadline, nonce=0)
    mine_at(env.w3, deadline + 1)
    expect_refusal(
        env.pool.functions.spendFor(holder, 10 * POINT, second, deadline, late),
        tea,
        "PoolPermissionExpired",
        [deadline],
        watch=signed.watch(second),
    )
    # At exactly the deadline the permission still works (`block.timestamp > deadline` expires it).
    deadline = latest_timestamp(env.w3) + 100
    on_time = signed.sign(oid=first, deadline=deadline, nonce=0)
    env.w3.provider.make_request("evm_setNextBlockTimestamp", [deadline])  # type: ignore[arg-type]
    receipt = transact(env.pool.functions.spendFor(holder, 10 * POINT, first, deadline, on_time), tea)
    assert env.w3.eth.get_block(receipt["blockNumber"])["timestamp"] == deadline


def test_valid_permission_cannot_spend_more_than_the_balance_or_at_a_revoked_merchant(signed: Signed) -> None:
    env, holder, tea = signed.env, signed.holder, signed.tea
    oid = order_id("spend-1")
    too_much = signed.sign(points=351 * POINT)
    expect_refusal(
        env.pool.functions.spendFor(holder, 351 * POINT, oid, signed.deadline, too_much),
        tea,
        "PoolInsufficientPoints",
        [350 * POINT, 351 * POINT],
        watch=signed.watch(oid),
    )
    transact(env.pool.functions.setMerchant(tea, 1_000, 10**24, False), env.admin)
    expect_refusal(
        env.pool.functions.spendFor(holder, 10 * POINT, oid, signed.deadline, signed.sign()),
        tea,
        "PoolUnknownMerchant",
        [tea],
        watch=signed.watch(oid),
    )


# ---------------------------------------------------------------- ERC-2612 permit on the points token


def test_permit_then_transfer_from(signed: Signed) -> None:
    env, holder = signed.env, signed.holder
    spender, receiver = env.customers[1], env.customers[2]
    token = env.token
    deadline = latest_timestamp(env.w3) + 3_600
    v, r, s = sign_permit(signed.key, token, spender=spender, value=40 * POINT, nonce=0, deadline=deadline)
    holder_eth = env.w3.eth.get_balance(Web3.to_checksum_address(holder))

    receipt = transact(token.functions.permit(holder, spender, 40 * POINT, deadline, v, r, s), spender)
    (approval,) = events(token, "Approval", receipt)
    assert dict(approval.args) == {"owner": holder, "spender": spender, "value": 40 * POINT}
    assert token.functions.allowance(holder, spender).call() == 40 * POINT
    assert token.functions.nonces(holder).call() == 1
    transact(token.functions.transferFrom(holder, receiver, 40 * POINT), spender)
    assert token.functions.balanceOf(receiver).call() == 40 * POINT
    assert token.functions.balanceOf(holder).call() == 310 * POINT
    assert token.functions.allowance(holder, spender).call() == 0
    assert env.w3.eth.get_balance(Web3.to_checksum_address(holder)) == holder_eth
    # The token's permit nonce and the pool's spend nonce are separate counters.
    assert env.pool.functions.nonces(holder).call() == 0

    # Replay: with nonce 1 the signature recovers to some other address, which OpenZeppelin reports.
    replay_signer = recover_permit_signer(env, holder, spender, 40 * POINT, 1, deadline, v, r, s)
    assert replay_signer != holder
    watch = env_watch(env)
    expect_refusal(
        token.functions.permit(holder, spender, 40 * POINT, deadline, v, r, s),
        spender,
        "ERC2612InvalidSigner",
        [replay_signer, holder],
        watch=watch,
    )
    # Expired permit.
    expired = latest_timestamp(env.w3) - 1
    v, r, s = sign_permit(signed.key, token, spender=spender, value=POINT, nonce=1, deadline=expired)
    expect_refusal(
        token.functions.permit(holder, spender, POINT, expired, v, r, s),
        spender,
        "ERC2612ExpiredSignature",
        [expired],
        watch=watch,
    )


def recover_permit_signer(
    env: PoolEnv, owner: str, spender: str, value: int, nonce: int, deadline: int, v: int, r: bytes, s: bytes
) -> str:
    domain = {
        "name": env.token.functions.name().call(),
        "version": "1",
        "chainId": env.w3.eth.chain_id,
        "verifyingContract": env.token.address,
    }
    message = {"owner": owner, "spender": spender, "value": value, "nonce": nonce, "deadline": deadline}
    signable = encode_typed_data(domain_data=domain, message_types=PERMIT_TYPES, message_data=message)
    signer: str = Account.recover_message(signable, vrs=(v, r, s))
    return signer


def test_cancelling_voids_every_unused_permission(signed: Signed) -> None:
    """Audit finding 6: a signed permission can be cancelled before a merchant uses it."""
    env, holder, tea = signed.env, signed.holder, signed.tea
    oid = order_id("spend-1")
    signature = signed.sign()
    receipt = transact(env.pool.functions.cancelSpendPermissions(), holder)
    (event,) = events(env.pool, "SpendPermissionsCancelled", receipt)
    assert (event.args.holder, event.args.nonce) == (holder, 1)
    expect_refusal(
        env.pool.functions.spendFor(holder, 10 * POINT, oid, signed.deadline, signature),
        tea,
        "PoolInvalidSignature",
        [holder],
        watch=signed.watch(oid),
    )
    # A permission signed after the cancellation (with the new nonce) works.
    transact(env.pool.functions.spendFor(holder, 10 * POINT, oid, signed.deadline, signed.sign()), tea)
    assert env.pool.functions.spentPoints(tea, holder, oid).call() == 10 * POINT


def test_a_contract_wallet_spends_by_erc1271(env: PoolEnv) -> None:
    """Audit finding 6: smart-contract wallets approve a permission through ERC-1271."""
    owner, stranger, tea = env.customers[0], env.customers[1], env.merchants[0]
    wallet, _ = deploy_contract(env.w3, "TestSmartWallet", owner, owner)
    transact(env.pool.functions.checkout(wallet.address, 5_000 * env.unit, order_id("order-w")), tea)
    deadline = latest_timestamp(env.w3) + 3_600
    oid = order_id("wallet-spend")

    def permission(signer: str, nonce: int) -> bytes:
        return sign_spend(
            local_account(env.w3, signer),
            env.pool,
            holder=wallet.address,
            merchant=tea,
            points=10 * POINT,
            oid=oid,
            nonce=nonce,
            deadline=deadline,
        )

    watch = env_watch(env, spends=[(tea, wallet.address, oid)])
    fn = env.pool.functions.spendFor(wallet.address, 10 * POINT, oid, deadline, permission(stranger, 0))
    expect_refusal(fn, tea, "PoolInvalidSignature", [wallet.address], watch=watch)
    transact(env.pool.functions.spendFor(wallet.address, 10 * POINT, oid, deadline, permission(owner, 0)), tea)
    assert env.token.functions.balanceOf(wallet.address).call() == 340 * POINT
    assert env.pool.functions.spentPoints(tea, wallet.address, oid).call() == 10 * POINT
    # The wallet cancels its own permissions through a call it makes.
    transact(wallet.functions.execute(env.pool.address, env.pool.encode_abi("cancelSpendPermissions", [])), owner)
    assert env.pool.functions.nonces(wallet.address).call() == 2
