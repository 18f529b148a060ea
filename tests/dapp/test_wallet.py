"""Wallet discovery and the chain: EIP-6963 or `window.ethereum`, a wallet on the wrong chain
asked to switch (and to add the chain it does not know), account changes followed."""

from __future__ import annotations

from playwright.sync_api import expect
from web3 import Web3

from tests.dapp.accounts import customer
from tests.dapp.conftest import OpenPage
from tests.dapp.stack import DappStack
from tests.dapp.wallet import RDNS


def test_a_wallet_on_another_chain_is_asked_to_switch_then_works(dapp: DappStack, open_page: OpenPage) -> None:
    account = customer(dapp, "chain")
    opened = open_page(account, chain_id=1)  # the wallet knows only chain 1
    banner = opened.testid("wrong-chain")
    expect(banner).to_contain_text("Your wallet is on chain 1; Green Points runs on chain 31337.")
    # Figures still come from the chain, through the RPC the API publishes, never through a wallet
    # on the wrong chain; signing is refused with the same words.
    balance = dapp.token().functions.balanceOf(account).call()
    expect(opened.testid("balance")).to_have_attribute("data-raw", str(balance))
    expect(opened.testid("summary-source")).to_contain_text("public RPC")
    opened.testid("redeem-amount").fill("1")
    opened.testid("redeem-preview-button").click()
    opened.testid("redeem-confirm").click()
    expect(opened.status("redeem")).to_contain_text("Your wallet is on chain 1")
    assert opened.wallet.sent() == []

    opened.testid("switch-chain").click()
    expect(banner).to_have_count(0)
    methods = [m for m, _ in opened.wallet.calls]
    assert methods.index("wallet_switchEthereumChain") < methods.index("wallet_addEthereumChain")
    (added,) = opened.wallet.added
    assert added["chainId"] == "0x7a69"
    assert added["rpcUrls"] == [dapp.anvil.url]
    assert added["nativeCurrency"]["decimals"] == 18
    expect(opened.testid("summary-source")).to_contain_text("through your wallet")
    # Now it signs: a redemption goes through.
    opened.testid("redeem-preview-button").click()
    opened.testid("redeem-confirm").click()
    opened.wait_done("redeem")
    assert dapp.token().functions.balanceOf(account).call() == balance - 10**18


def test_every_announced_wallet_is_listed_and_window_ethereum_is_the_fallback(
    dapp: DappStack, open_page: OpenPage
) -> None:
    account = customer(dapp, "fallback")
    announced = open_page(account, connect=False)
    # A second EIP-6963 wallet announcing itself later joins the list.
    announced.page.evaluate(
        """() => window.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail: {
            info: { uuid: "second", name: "Other Wallet", icon: "", rdns: "org.example.other" },
            provider: { request: async () => { throw Object.assign(new Error("no"), { code: 4001 }); } } } }))"""
    )
    expect(announced.testid(f"connect-{RDNS}")).to_have_text("Connect Test Wallet")
    expect(announced.testid("connect-org.example.other")).to_have_text("Connect Other Wallet")
    announced.context.close()
    # A wallet that only sets window.ethereum (no EIP-6963) is offered and connects.
    injected = open_page(account, mode="injected", connect=False)
    expect(injected.page.locator("[data-testid^=connect-]")).to_have_count(1)
    expect(injected.testid("connect-injected")).to_have_text("Connect browser wallet")
    injected.connect()
    expect(injected.testid("account")).to_have_attribute("data-address", Web3.to_checksum_address(account))


def test_account_changes_are_followed_and_remembered_connections_resume(dapp: DappStack, open_page: OpenPage) -> None:
    first = customer(dapp, "follow")
    second = customer(dapp, "connect", sale_units=0)
    opened = open_page(first)
    token = dapp.token()
    expect(opened.testid("balance")).to_have_attribute("data-raw", str(token.functions.balanceOf(first).call()))
    opened.wallet.change_account(second)
    expect(opened.testid("account")).to_have_attribute("data-address", Web3.to_checksum_address(second))
    expect(opened.testid("balance")).to_have_attribute("data-raw", str(token.functions.balanceOf(second).call()))
    # A reload reconnects silently (eth_accounts, no prompt) to the wallet chosen before.
    requests_before = sum(1 for m, _ in opened.wallet.calls if m == "eth_requestAccounts")
    opened.page.reload()
    expect(opened.testid("account")).to_have_attribute("data-address", Web3.to_checksum_address(second))
    assert sum(1 for m, _ in opened.wallet.calls if m == "eth_requestAccounts") == requests_before
    opened.testid("disconnect").click()
    expect(opened.testid("customer-connect-prompt")).to_be_visible()
