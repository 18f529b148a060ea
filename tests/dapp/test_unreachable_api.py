"""An API that stops answering: the page says so in its own words, marks the mirror's block as
last known rather than current, and keeps showing what it reads from the chain itself."""

from __future__ import annotations

import os
import signal

from playwright.sync_api import expect

from tests.dapp.accounts import customer
from tests.dapp.conftest import OpenPage
from tests.dapp.stack import DappStack


def test_an_unreachable_api_is_said_and_no_mirror_figure_passes_for_current(
    dapp: DappStack, open_page: OpenPage
) -> None:
    account = customer(dapp, "offline")
    second = dapp.start_api("api-offline")  # a real second API process, stopped below
    try:
        opened = open_page(
            account,
            url=f"{second.url}/app/",
            allow_errors=("Failed to load resource", "ERR_CONNECTION_REFUSED"),
        )
        indexed = opened.testid("indexed-block")
        expect(indexed).to_contain_text("Mirror at block")
        block = indexed.get_attribute("data-block")
        balance = dapp.token().functions.balanceOf(account).call()
        expect(opened.testid("balance")).to_have_attribute("data-raw", str(balance))
    finally:
        os.killpg(second.popen.pid, signal.SIGKILL)  # the API dies; the page stays open
        second.stop()
    status = opened.testid("api-status")
    expect(status).to_have_text("The Green Points API cannot be reached: figures from the mirror are not current.")
    expect(status).to_have_attribute("data-state", "unreachable")
    expect(indexed).to_have_text(f"Last known mirror block {block} (not current)")
    # The chain is still read through the wallet: the points stay current.
    expect(opened.testid("summary-source")).to_contain_text("through your wallet")
    expect(opened.testid("balance")).to_have_attribute("data-raw", str(balance))
