"""Spending a holder's points with their signed EIP-712 permission: from the client and the CLI,
retried safely, refused with a reason, and from a contract wallet (ERC-1271)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from cli.main import main
from greenpoints.anvil import Anvil
from greenpoints.chain import deploy_contract
from merchant import errors
from merchant.client import MerchantClient
from merchant.permission_file import SpendPermission, make_permission
from tests.conftest import PoolEnv
from tests.contracts.helpers import latest_timestamp, local_account
from tests.merchant.conftest import SOFA_STORE, TEA_HOUSE, anvil_key
from tests.merchant.helpers import nonce_of

POINT = 10**18


def _holder_with_points(env: PoolEnv, client: MerchantClient, holder: str | None = None) -> str:
    customer = holder or env.customers[0]
    client.checkout(customer, "12000", f"for-{customer}")  # 1,260 points
    return customer


def _permission(
    env: PoolEnv, holder: str, *, points: int = 100 * POINT, ref: str = "S-1", signer: str | None = None, **changes: int
) -> SpendPermission:
    return make_permission(
        local_account(env.w3, signer or holder),
        chain_id=env.deployment.chain_id,
        pool=env.deployment.pool,
        merchant=env.merchants[1],
        points=points,
        order_ref=ref,
        nonce=changes.get("nonce", env.pool.functions.nonces(holder).call()),
        deadline=changes.get("deadline", latest_timestamp(env.w3) + 3600),
        holder_address=holder,  # `signer`, when given, signs for the holder (a wrong signature)
    )


def test_a_permission_spends_once_and_a_retry_returns_the_spend(
    env: PoolEnv, make_client: Callable[..., MerchantClient]
) -> None:
    client = make_client(SOFA_STORE)
    holder = _holder_with_points(env, client)
    permission = _permission(env, holder)
    spend = client.spend_for(permission)
    assert not spend.replayed and spend.points == 100 * POINT
    assert env.token.functions.balanceOf(holder).call() == 1_160 * POINT
    assert env.pool.functions.spentPoints(env.merchants[1], holder, permission.order_id).call() == 100 * POINT
    merchant_nonce = nonce_of(env.w3, env.merchants[1])
    again = make_client(SOFA_STORE).spend_for(SpendPermission.from_json(permission.to_json()))
    assert again.replayed and again.tx_hash == spend.tx_hash
    assert nonce_of(env.w3, env.merchants[1]) == merchant_nonce
    # Another permission for the same order with another amount is a replay the pool refuses.
    other = _permission(env, holder, points=5 * POINT)
    with pytest.raises(errors.SpendReplayed, match="already spent 100 points"):
        client.spend_for(other)


def test_bad_permissions_are_refused_with_the_reason(env: PoolEnv, make_client: Callable[..., MerchantClient]) -> None:
    client = make_client(SOFA_STORE)
    holder = _holder_with_points(env, client)
    cases: list[tuple[SpendPermission, type[errors.MerchantError], str]] = [
        (_permission(env, holder, deadline=latest_timestamp(env.w3) - 1), errors.PermissionExpired, "expired"),
        (_permission(env, holder, signer=env.customers[1]), errors.InvalidPermission, "not by holder"),
        (_permission(env, holder, nonce=7), errors.InvalidPermission, "nonce 7 is not the holder's next (0)"),
        (_permission(env, holder, points=5_000 * POINT), errors.PointsTooLow, "has 1260 points, 5000 are needed"),
    ]
    for permission, exception, words in cases:
        with pytest.raises(exception, match=re.escape(words)):
            client.spend_for(permission)
    with pytest.raises(errors.InvalidPermission, match="this key is"):
        make_client(TEA_HOUSE).spend_for(_permission(env, holder))
    assert env.token.functions.balanceOf(holder).call() == 1_260 * POINT


def test_a_contract_wallet_holder_spends_by_erc1271(env: PoolEnv, make_client: Callable[..., MerchantClient]) -> None:
    owner = env.customers[2]
    wallet, _ = deploy_contract(env.w3, "TestSmartWallet", owner, owner)
    client = make_client(SOFA_STORE)
    _holder_with_points(env, client, wallet.address)
    permission = make_permission(
        local_account(env.w3, owner),  # the wallet's owner signs for the wallet
        chain_id=env.deployment.chain_id,
        pool=env.deployment.pool,
        merchant=env.merchants[1],
        points=60 * POINT,
        order_ref="W-1",
        nonce=0,
        deadline=latest_timestamp(env.w3) + 3600,
        holder_address=wallet.address,
    )
    assert client.spend_for(permission).points == 60 * POINT
    assert env.token.functions.balanceOf(wallet.address).call() == 1_200 * POINT


def test_spend_for_from_the_command_line(
    env: PoolEnv,
    make_client: Callable[..., MerchantClient],
    anvil: Anvil,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    holder = _holder_with_points(env, make_client(SOFA_STORE))
    file = tmp_path / "permission.json"
    file.write_text(json.dumps(_permission(env, holder, ref="CLI-1").to_json()))
    monkeypatch.setenv("GREENPOINTS_RPC_URL", anvil.url)
    monkeypatch.setenv("GREENPOINTS_DEPLOYMENT", str(env.deployment.save(tmp_path / "deployment.json")))
    monkeypatch.setenv("GREENPOINTS_MERCHANT_KEY", anvil_key(SOFA_STORE))
    assert main(["merchant", "spend-for", "--permission", str(file)]) == 0
    out, _ = capsys.readouterr()
    assert out.startswith(f"100 points of {holder} spent for order id 0x")
    assert main(["merchant", "spend-for", "--permission", str(file), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["replayed"] is True
    file.write_text('{"holder": "0x1"}')
    assert main(["merchant", "spend-for", "--permission", str(file)]) == 1
    assert "lacks field 'merchant'" in capsys.readouterr().err
    file.write_text(json.dumps({**_permission(env, holder).to_json(), "points": 100}))
    assert main(["merchant", "spend-for", "--permission", str(file)]) == 1
    assert "'points' must be a decimal string" in capsys.readouterr().err
