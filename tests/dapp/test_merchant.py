"""The merchant's view: its settings as the chain has them, and a checkout from the page that
quotes first, approves exactly the pool's part when the allowance is short, and mints to the
customer."""

from __future__ import annotations

from playwright.sync_api import expect
from web3 import Web3
from web3.logs import DISCARD

from greenpoints.chain import send
from greenpoints.deploy import MAX_UINT256
from tests.dapp.accounts import customer
from tests.dapp.conftest import OpenPage
from tests.dapp.stack import DappStack


def test_checkout_from_the_page_approves_then_mints_to_the_customer(dapp: DappStack, open_page: OpenPage) -> None:
    merchant = dapp.roles()["merchants"][1]
    buyer = customer(dapp, "checkout_customer", sale_units=0)
    pool, asset, token = dapp.pool(), dapp.asset(), dapp.token()
    send(asset.functions.approve(dapp.deployment.pool, 0), merchant)  # the page must approve
    try:
        opened = open_page(merchant, view="merchant")
        rate, cap, _active, minted = pool.functions.merchant(merchant).call()
        expect(opened.testid("merchant-rate")).to_have_attribute("data-raw", str(rate))
        expect(opened.testid("merchant-cap")).to_have_attribute("data-raw", str(cap))
        expect(opened.testid("merchant-minted")).to_have_attribute("data-raw", str(minted))
        expect(opened.testid("global-cap")).to_have_attribute("data-raw", str(pool.functions.globalDailyCap().call()))
        expect(opened.testid("global-minted")).to_have_attribute(
            "data-raw", str(pool.functions.globalMintedToday().call())
        )
        expect(opened.testid("merchant-allowance")).to_have_attribute("data-raw", "0")

        reference = "SOFA-2026-0001"
        sale = 12_000 * 10**dapp.deployment.asset_decimals + 50 * 10 ** (dapp.deployment.asset_decimals - 2)
        opened.testid("checkout-customer").fill(buyer)
        opened.testid("checkout-sale").fill("12000.50")
        opened.testid("checkout-order").fill(reference)
        opened.testid("checkout-preview-button").click()
        points, pool_in = pool.functions.quoteCheckout(merchant, sale).call()
        expect(opened.testid("checkout-preview-points")).to_have_attribute("data-raw", str(points))
        expect(opened.testid("checkout-preview-pool-in")).to_have_attribute("data-raw", str(pool_in))
        expect(opened.testid("checkout-preview-order-id")).to_have_text(Web3.keccak(text=reference).to_0x_hex())
        expect(opened.testid("checkout-approval")).to_be_visible()
        before = token.functions.balanceOf(buyer).call()

        opened.testid("checkout-confirm").click()
        status = opened.status("checkout")
        expect(status).to_have_attribute("data-kind", "ok", timeout=30_000)
        approve_hash, checkout_hash = opened.wallet.hashes
        _, approve_args = asset.decode_function_input(dapp.w3.eth.get_transaction(approve_hash)["input"])
        assert approve_args["value"] == pool_in  # exactly the pool's part, no standing allowance
        receipt = dapp.w3.eth.get_transaction_receipt(checkout_hash)
        (event,) = pool.events.CheckedOut().process_receipt(receipt, errors=DISCARD)
        assert (event.args.customer, event.args.orderId) == (
            Web3.to_checksum_address(buyer),
            Web3.keccak(text=reference),
        )
        assert (event.args.points, event.args.poolIn) == (points, pool_in)
        assert token.functions.balanceOf(buyer).call() == before + points
        assert asset.functions.allowance(merchant, dapp.deployment.pool).call() == 0
        first = opened.page.locator("[data-testid=checkout-list] li").first
        expect(first).to_have_attribute("data-block", str(receipt.blockNumber))
        expect(opened.testid("merchant-minted")).to_have_attribute(
            "data-raw", str(pool.functions.merchant(merchant).call()[3])
        )

        # The same reference again is refused before the wallet opens.
        opened.testid("checkout-customer").fill(buyer)
        opened.testid("checkout-sale").fill("10")
        opened.testid("checkout-order").fill(reference)
        opened.testid("checkout-preview-button").click()
        expect(opened.field_error("checkout", "already checked out")).to_be_visible()
        assert len(opened.wallet.sent()) == 2
    finally:
        send(asset.functions.approve(dapp.deployment.pool, MAX_UINT256), merchant)


def test_a_wallet_that_is_no_merchant_is_told_so(dapp: DappStack, open_page: OpenPage) -> None:
    opened = open_page(customer(dapp, "views", sale_units=0), view="merchant")
    expect(opened.testid("merchant-not-registered")).to_have_text("This account is not a registered merchant.")
    opened.testid("checkout-customer").fill(dapp.roles()["customers"][0])
    opened.testid("checkout-sale").fill("10")
    opened.testid("checkout-order").fill("x-1")
    opened.testid("checkout-preview-button").click()
    expect(opened.status("checkout")).to_have_text("This account is not a registered merchant.")
