"""Every refusal of a checkout: its typed exception from the client, and the same reason as one
line with exit code 4 from `greenpoints merchant checkout`; nothing is sent in either case."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from cli.main import main
from greenpoints.anvil import Anvil
from greenpoints.orders import order_id
from merchant import errors
from merchant.client import MerchantClient
from tests.conftest import PoolEnv
from tests.contracts.helpers import transact
from tests.merchant.conftest import SOFA_STORE, anvil_key
from tests.merchant.helpers import checkout_events, nonce_of

POINT = 10**18
MAX_UINT256 = 2**256 - 1
NOT_A_MERCHANT = 9  # an anvil account that is nobody's merchant


def _setup_inactive(env: PoolEnv) -> None:
    transact(env.pool.functions.setMerchant(env.merchants[1], 1_500, 1_000_000 * POINT, False), env.admin)


def _setup_small_cap(env: PoolEnv) -> None:
    transact(env.pool.functions.setMerchant(env.merchants[1], 1_500, 1_000 * POINT, True), env.admin)


def _setup_global_cap(env: PoolEnv) -> None:
    env.govern(env.pool.functions.setGlobalDailyCap(1_000 * POINT))


def _setup_paused(env: PoolEnv) -> None:
    transact(env.pool.functions.pause(), env.admin)


def _setup_no_allowance(env: PoolEnv) -> None:
    transact(env.asset.functions.approve(env.pool.address, 0), env.merchants[1])


def _setup_no_balance(env: PoolEnv) -> None:
    sofa = env.merchants[1]
    transact(env.asset.functions.transfer(env.admin, env.asset.functions.balanceOf(sofa).call() - 1), sofa)


def _setup_earlier_order(env: PoolEnv) -> None:
    transact(env.pool.functions.checkout(env.customers[3], 100 * env.unit, order_id("R-1")), env.merchants[1])


CASES = [
    # (case, account, setup, client options, amount, exception, words in the message)
    ("not a merchant", NOT_A_MERCHANT, None, {}, "12000", errors.NotAMerchant, "is not a merchant"),
    ("inactive", SOFA_STORE, _setup_inactive, {}, "12000", errors.MerchantInactive, "registered but inactive"),
    ("daily cap", SOFA_STORE, _setup_small_cap, {}, "12000", errors.DailyCapReached, "1260 points, 1000 are left"),
    ("global cap", SOFA_STORE, _setup_global_cap, {}, "12000", errors.GlobalDailyCapReached, "over all merchants"),
    ("paused", SOFA_STORE, _setup_paused, {}, "12000", errors.PoolPaused, "the pool is paused"),
    (
        "allowance",
        SOFA_STORE,
        _setup_no_allowance,
        {"approve": False},
        "12000",
        errors.AllowanceTooLow,
        "allowance to the pool is 0, 540 are needed",
    ),
    ("balance", SOFA_STORE, _setup_no_balance, {}, "12000", errors.BalanceTooLow, "holds 0.000001 of the reserve"),
    ("order used", SOFA_STORE, _setup_earlier_order, {}, "12000", errors.OrderConflict, "different figures"),
    ("too small", SOFA_STORE, None, {}, "0.000001", errors.SaleTooSmall, "would mint no points"),
]


@pytest.mark.parametrize(
    "account, setup, options, amount, exception, words", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_refusal_is_a_typed_exception_and_a_one_line_cli_error(
    env: PoolEnv,
    make_client: Callable[..., MerchantClient],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    account: int,
    setup: Callable[[PoolEnv], None] | None,
    options: dict[str, object],
    amount: str,
    exception: type[errors.Refusal],
    words: str,
) -> None:
    if setup is not None:
        setup(env)
    client = make_client(account, **options)
    merchant = client.merchant_address() or ""
    nonce, events = nonce_of(env.w3, merchant), len(checkout_events(env.w3, env.deployment.pool))
    with pytest.raises(exception, match=words):
        client.checkout(env.customers[3], amount, "R-1")

    deployment = env.deployment.save(tmp_path / "deployment.json")
    monkeypatch.setenv("GREENPOINTS_RPC_URL", client.rpc.url)
    monkeypatch.setenv("GREENPOINTS_DEPLOYMENT", str(deployment))
    monkeypatch.setenv("GREENPOINTS_MERCHANT_KEY", anvil_key(account))
    if options.get("approve") is False:
        return  # the CLI approves a short allowance itself (see the next test)
    code = main(["merchant", "checkout", "--customer", env.customers[3], "--amount", amount, "--order", "R-1"])
    out, err = capsys.readouterr()
    assert code == 4 and out == ""
    assert err.count("\n") == 1 and err.startswith("greenpoints: error: ") and words in err
    assert nonce_of(env.w3, merchant) == nonce
    assert len(checkout_events(env.w3, env.deployment.pool)) == events


def test_a_short_allowance_is_approved_once_then_checked_out(
    env: PoolEnv, make_client: Callable[..., MerchantClient]
) -> None:
    _setup_no_allowance(env)
    client = make_client()
    merchant = client.merchant_address() or ""
    nonce = nonce_of(env.w3, merchant)
    first = client.checkout(env.customers[0], "12000", "AP-1")
    client.checkout(env.customers[0], "12000", "AP-2")
    assert first.pool_in == 540 * env.unit
    assert env.asset.functions.allowance(merchant, env.pool.address).call() == MAX_UINT256
    assert nonce_of(env.w3, merchant) == nonce + 3  # one approval, two checkouts


def test_bad_input_is_a_one_line_cli_error_with_exit_code_1(
    env: PoolEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], anvil: Anvil
) -> None:
    monkeypatch.setenv("GREENPOINTS_RPC_URL", anvil.url)
    monkeypatch.setenv("GREENPOINTS_DEPLOYMENT", str(env.deployment.save(tmp_path / "deployment.json")))
    monkeypatch.setenv("GREENPOINTS_MERCHANT_KEY", anvil_key(SOFA_STORE))
    for args, words in [
        (["--amount", "12000.0000001", "--order", "B-1"], "more than 6 decimal places"),
        (["--amount", "12e3", "--order", "B-1"], "not a non-negative decimal"),
        (["--amount", "1", "--order", "B\t1"], "no control characters"),
        (["--amount", "1", "--order", "x" * 129], "1 to 128 characters"),
    ]:
        code = main(["merchant", "checkout", "--customer", env.customers[0], *args])
        _, err = capsys.readouterr()
        assert code == 1 and err.count("\n") == 1 and words in err, err
    code = main(["merchant", "checkout", "--customer", "0x1234", "--amount", "1", "--order", "B-1"])
    _, err = capsys.readouterr()
    assert code == 1 and "20-byte hex address" in err
