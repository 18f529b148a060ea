"""Each way an action can fail has its own words on the page, and nothing changes: a quote that
moved beyond the tolerance (refused before sending, or mined and reverted when the wallet
estimated gas early), a rejection in the wallet, too few points, a paused pool."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from web3 import Web3

from greenpoints.chain import send
from tests.dapp.accounts import customer
from tests.dapp.conftest import OpenPage, fmt_units
from tests.dapp.stack import DappStack

POINT = 10**18


def state_of(dapp: DappStack, account: str) -> tuple[int, int]:
    return dapp.token().functions.balanceOf(account).call(), dapp.asset().functions.balanceOf(account).call()


def tusd(raw: int, dapp: DappStack) -> str:
    return fmt_units(raw, dapp.deployment.asset_decimals) + " tUSD"


def preview_redeem(opened: Any, amount: str, tolerance_bps: int) -> int:
    opened.testid("redeem-amount").fill(amount)
    opened.testid("redeem-slippage").select_option(str(tolerance_bps))
    opened.testid("redeem-preview-button").click()
    expect(opened.testid("redeem-quote-min")).to_be_visible()
    return int(opened.testid("redeem-quote-min").get_attribute("data-raw"))


@pytest.mark.parametrize("estimate_early", [False, True], ids=["refused-before-sending", "mined-and-reverted"])
def test_a_quote_that_fell_beyond_the_tolerance_shows_the_slippage_words(
    dapp: DappStack, open_page: OpenPage, estimate_early: bool
) -> None:
    """Another account's redemption raises the price for everyone left (the kept share stays), so
    what lowers a quote is a dilutive checkout above poolShare ÷ (1 − poolShare): one lands while
    the wallet's confirmation is open."""
    account = customer(dapp, "slippage")
    other = customer(dapp, "slippage_other", sale_units=0)
    opened = open_page(account)
    opened.wallet.estimate_early = estimate_early
    minimum = preview_redeem(opened, "5", 10)  # 0.1 %
    assert dapp.pool().functions.price().call() * 7 > 3 * 10**18  # above 3/7: a checkout dilutes
    opened.wallet.before_send = lambda _tx: dapp.checkout(
        dapp.roles()["merchants"][0], other, 200_000, f"dilute-{estimate_early}"
    )
    before, nonce = state_of(dapp, account), dapp.w3.eth.get_transaction_count(account)

    opened.testid("redeem-confirm").click()
    status = opened.status("redeem")
    expect(status).to_have_attribute("data-kind", "error", timeout=30_000)
    expect(status).to_contain_text("The price moved")
    payout_now = dapp.pool().functions.quoteRedeem(5 * POINT).call()[0]
    assert payout_now < minimum
    expect(status).to_contain_text(f"you would receive {tusd(payout_now, dapp)}, your minimum is {tusd(minimum, dapp)}")
    assert state_of(dapp, account) == before  # no point burned, no asset paid
    if estimate_early:
        expect(status).to_contain_text("Only the gas was spent")
        assert dapp.w3.eth.get_transaction_count(account) == nonce + 1
        (tx_hash,) = opened.wallet.hashes
        assert dapp.w3.eth.get_transaction_receipt(tx_hash)["status"] == 0
    else:
        expect(status).to_contain_text("Nothing was sent")
        assert dapp.w3.eth.get_transaction_count(account) == nonce
        assert opened.wallet.hashes == []


def test_another_redemption_first_raises_the_payout_and_the_redemption_goes_through(
    dapp: DappStack, open_page: OpenPage
) -> None:
    account = customer(dapp, "slippage")
    other = customer(dapp, "slippage_other")
    opened = open_page(account)
    minimum = preview_redeem(opened, "5", 10)
    quoted = int(opened.testid("redeem-quote-payout").get_attribute("data-raw"))
    pool = dapp.pool()
    opened.wallet.before_send = lambda _tx: send(pool.functions.redeem(10 * POINT, 0), other)
    asset_before = state_of(dapp, account)[1]
    opened.testid("redeem-confirm").click()
    opened.wait_done("redeem")
    paid = state_of(dapp, account)[1] - asset_before
    assert paid > quoted >= minimum


def test_a_rejection_in_the_wallet_shows_its_words_and_changes_nothing(dapp: DappStack, open_page: OpenPage) -> None:
    account = customer(dapp, "reject")
    opened = open_page(account, connect=False)
    # Refusing the connection first, then accepting it.
    opened.wallet.reject = {"eth_requestAccounts"}
    opened.page.locator("[data-testid^=connect-]").first.click()
    expect(opened.testid("wallet-error")).to_have_text("You declined in your wallet.")
    opened.connect()
    expect(opened.testid("wallet-error")).to_have_count(0)
    opened.wallet.reject = {"eth_sendTransaction"}
    opened.testid("transfer-to").fill(dapp.roles()["customers"][0])
    opened.testid("transfer-amount").fill("1")
    opened.testid("transfer-preview-button").click()
    before, nonce = state_of(dapp, account), dapp.w3.eth.get_transaction_count(account)
    opened.testid("transfer-confirm").click()
    status = opened.status("transfer")
    expect(status).to_have_text("You declined in your wallet. Nothing was sent.")
    assert state_of(dapp, account) == before
    assert dapp.w3.eth.get_transaction_count(account) == nonce


def test_too_few_points_is_said_before_the_wallet_opens(dapp: DappStack, open_page: OpenPage) -> None:
    account = customer(dapp, "reject")
    opened = open_page(account)
    balance = state_of(dapp, account)[0]
    expect(opened.testid("balance")).to_have_attribute("data-raw", str(balance))
    too_many = str(balance // POINT + 1)
    for form in ("redeem", "transfer", "spend"):
        if form == "transfer":
            opened.testid("transfer-to").fill(dapp.roles()["customers"][0])
        if form == "spend":
            opened.testid("spend-merchant").select_option(Web3.to_checksum_address(dapp.roles()["merchants"][0]))
            opened.testid("spend-order").fill("too-many")
        opened.testid(f"{form}-amount").fill(too_many)
        opened.testid(f"{form}-preview-button").click()
        error = opened.field_error(form, "Too few points")
        needed = fmt_units(int(too_many) * POINT, 18, 6)
        expect(error).to_have_text(f"Too few points: you hold {fmt_units(balance, 18, 6)}, this needs {needed}.")
        expect(opened.testid(f"{form}-preview")).to_be_hidden()
    assert opened.wallet.sent() == []


def test_a_paused_pool_is_said_and_spending_refused(dapp: DappStack, open_page: OpenPage) -> None:
    account = customer(dapp, "paused")
    opened = open_page(account)
    pool, admin = dapp.pool(), dapp.deployment.admin
    send(pool.functions.pause(), admin)
    try:
        expect(opened.testid("paused-notice")).to_contain_text("The pool is paused")
        expect(opened.testid("spend-paused")).to_be_visible()
        opened.testid("spend-merchant").select_option(Web3.to_checksum_address(dapp.roles()["merchants"][0]))
        opened.testid("spend-amount").fill("1")
        opened.testid("spend-order").fill("while-paused")
        opened.testid("spend-preview-button").click()
        status = opened.status("spend")
        expect(status).to_contain_text("checkouts and spending are stopped. Redemption always works.")
        expect(opened.testid("spend-preview")).to_be_hidden()
        # Redemption is never paused: its quote still opens.
        preview_redeem(opened, "1", 50)
    finally:
        send(pool.functions.unpause(), admin)
    expect(opened.testid("paused-notice")).to_have_count(0)
    assert opened.wallet.sent() == []
