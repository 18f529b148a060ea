"""The customer's view in Chromium: the figures equal the chain's, and redeem, transfer and spend
go through the page and the test wallet to anvil, then show up once the mirror indexed them."""

from __future__ import annotations

from playwright.sync_api import expect
from web3 import Web3
from web3.logs import DISCARD

from greenpoints.rules import BPS
from tests.dapp.accounts import customer
from tests.dapp.conftest import OpenPage, fmt_units
from tests.dapp.stack import DappStack

POINT = 10**18


def balance_of(dapp: DappStack, account: str) -> int:
    return int(dapp.token().functions.balanceOf(account).call())


def test_the_customer_view_shows_the_chain_and_the_mirror(dapp: DappStack, open_page: OpenPage) -> None:
    account = customer(dapp, "connect")
    merchant = dapp.roles()["merchants"][1]
    for i in range(12):  # more activity than one page (10)
        dapp.checkout(merchant, account, 50 + i, f"page-{i}")
    opened = open_page(account)
    pool = dapp.pool()
    balance = balance_of(dapp, account)
    payout = pool.functions.quoteRedeem(balance).call()[0]
    decimals = dapp.deployment.asset_decimals
    face = balance * 10**decimals // POINT
    price = pool.functions.price().call()
    for testid, raw, text in (
        ("balance", balance, fmt_units(balance, 18, 6)),
        ("face-value", face, fmt_units(face, decimals) + " tUSD"),
        ("cash-out", payout, fmt_units(payout, decimals) + " tUSD"),
        ("price-now", price, fmt_units(price, 18, 6) + " tUSD"),
    ):
        expect(opened.testid(testid)).to_have_attribute("data-raw", str(raw))
        expect(opened.testid(testid)).to_have_text(text)
    expect(opened.testid("account")).to_have_attribute("data-address", Web3.to_checksum_address(account))
    # The mirror's position is on the page: the indexed block, the head and the lag.
    head = dapp.w3.eth.block_number
    expect(opened.testid("indexed-block")).to_have_attribute("data-block", str(head))
    expect(opened.testid("indexed-block")).to_have_attribute("data-lag", "0")
    expect(opened.testid("summary-source")).to_contain_text(f"block {head}")
    # The activity list comes from the mirror: the checkout that gave the points is at the top.
    expect(opened.page.locator("[data-testid=activity-list] li").first).to_have_attribute("data-kind", "checkout")

    api = dapp.api
    chart = opened.testid("price-chart")
    for interval in ("1m", "1d", "4h"):
        opened.testid(f"interval-{interval}").click()
        expect(chart).to_have_attribute("data-interval", interval)
        candles = api.json("/v1/price/candles", interval=interval, limit={"1m": 180, "1d": 365, "4h": 180}[interval])
        expect(chart).to_have_attribute("data-candles", str(len(candles["candles"])))
        expect(opened.testid(f"interval-{interval}")).to_have_attribute("aria-pressed", "true")
    opened.testid("line-mode").check()
    expect(chart).to_have_attribute("data-mode", "line")

    # The 24 h change: the mirror's price now against the price at the end of the minute a day
    # before the indexed block, found here in the raw price series.
    mirror = api.json("/v1/pool")
    now, price = mirror["indexed_block"]["timestamp"], int(mirror["price"]["raw"])
    edge = (now - 86_400) // 60 * 60 + 60
    series = [p for p in api.json("/v1/price/history", limit=1000)["items"] if p["block_time"]["timestamp"] < edge]
    then = int(series[0]["price"]["raw"])
    expect(opened.testid("price-change")).to_have_attribute("data-raw", str(toward_zero((price - then) * 10_000, then)))

    # Balance history: the latest change is the balance the chain has.
    balance = balance_of(dapp, account)
    expect(opened.testid("history-latest")).to_contain_text(fmt_units(balance, 18, 6))

    # Activity pages by keyset: "load more" until the end gives the API's whole list, no repeats.
    rows = opened.page.locator("[data-testid=activity-list] li")
    expect(rows).to_have_count(10)
    everything: list[tuple[str, str]] = []
    cursor = None
    while True:
        page = api.json(f"/v1/accounts/{account}/activity", limit=10, **({"cursor": cursor} if cursor else {}))
        everything += [(str(i["block_number"]), i["kind"]) for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    while opened.testid("activity-more").count():
        shown = rows.count()
        opened.testid("activity-more").click()
        expect(rows).not_to_have_count(shown)
    shown_rows = [
        (rows.nth(i).get_attribute("data-block"), rows.nth(i).get_attribute("data-kind")) for i in range(rows.count())
    ]
    assert shown_rows == everything


def test_redeem_pays_the_quote_with_the_slippage_guard(dapp: DappStack, open_page: OpenPage) -> None:
    account = customer(dapp, "redeem")
    opened = open_page(account)
    pool, asset = dapp.pool(), dapp.asset()
    points = 12 * POINT + 345 * 10**15  # 12.345 points
    opened.testid("redeem-amount").fill("12.345")
    opened.testid("redeem-slippage").select_option("100")  # 1 %
    opened.testid("redeem-preview-button").click()
    quote = pool.functions.quoteRedeem(points).call()
    expect(opened.testid("redeem-quote-payout")).to_have_attribute("data-raw", str(quote[0]))
    expect(opened.testid("redeem-quote-tax")).to_have_attribute("data-raw", str(quote[1]))
    expect(opened.testid("redeem-quote-kept")).to_have_attribute("data-raw", str(quote[2]))
    minimum = quote[0] * (BPS - 100) // BPS
    expect(opened.testid("redeem-quote-min")).to_have_attribute("data-raw", str(minimum))
    points_before, asset_before = balance_of(dapp, account), asset.functions.balanceOf(account).call()

    opened.testid("redeem-confirm").click()
    status = opened.status("redeem")
    expect(status).to_have_attribute("data-kind", "ok", timeout=30_000)
    (tx_hash,) = opened.wallet.hashes
    receipt = dapp.w3.eth.get_transaction_receipt(tx_hash)
    _, args = pool.decode_function_input(dapp.w3.eth.get_transaction(tx_hash)["input"])
    assert (args["points"], args["minPayout"]) == (points, minimum)
    (event,) = pool.events.Redeemed().process_receipt(receipt, errors=DISCARD)
    assert event.args.payout == quote[0]  # nothing moved the price in between
    assert asset.functions.balanceOf(account).call() - asset_before == quote[0]
    assert balance_of(dapp, account) == points_before - points
    expect(status).to_contain_text(f"block {receipt.blockNumber}")
    # Once indexed, the page shows the new balance and the redemption at the top of the activity.
    expect(opened.testid("balance")).to_have_attribute("data-raw", str(points_before - points))
    first = opened.page.locator("[data-testid=activity-list] li").first
    expect(first).to_have_attribute("data-kind", "redemption")
    expect(first).to_have_attribute("data-block", str(receipt.blockNumber))


def test_transfer_checks_the_address_then_moves_the_points(dapp: DappStack, open_page: OpenPage) -> None:
    account = customer(dapp, "transfer")
    recipient = customer(dapp, "transfer_to", sale_units=0)
    opened = open_page(account)
    checksummed = Web3.to_checksum_address(recipient)
    # A wrong checksum (one letter's case flipped), the pool and a malformed address are refused.
    letter = next(i for i, c in enumerate(checksummed) if i > 1 and c.isalpha())
    flipped = checksummed[:letter] + checksummed[letter].swapcase() + checksummed[letter + 1 :]
    error = opened.page.locator("#transfer-to-error, [data-testid=transfer-form] .field-error").first
    for wrong, words in (
        (flipped, "checksum"),
        (dapp.deployment.pool, "That is the pool"),
        ("0x1234", "Not an address"),
    ):
        opened.testid("transfer-to").fill(wrong)
        opened.testid("transfer-amount").fill("1")
        opened.testid("transfer-preview-button").click()
        expect(error).to_contain_text(words)
        expect(opened.testid("transfer-preview")).to_be_hidden()
    # All lower case has no checksum: accepted, shown checksummed, with a warning.
    opened.testid("transfer-to").fill(recipient.lower())
    opened.testid("transfer-amount").fill("3.5")
    opened.testid("transfer-preview-button").click()
    expect(opened.testid("transfer-preview-to")).to_have_text(checksummed)
    expect(opened.testid("transfer-preview")).to_contain_text("no checksum")
    sender_before, recipient_before = balance_of(dapp, account), balance_of(dapp, recipient)
    opened.testid("transfer-confirm").click()
    opened.wait_done("transfer")
    amount = 35 * 10**17
    assert balance_of(dapp, recipient) == recipient_before + amount
    assert balance_of(dapp, account) == sender_before - amount
    expect(opened.testid("balance")).to_have_attribute("data-raw", str(sender_before - amount))
    first = opened.page.locator("[data-testid=activity-list] li").first
    expect(first).to_have_attribute("data-kind", "transfer_out")


def test_spend_at_a_merchant_for_an_order_reference(dapp: DappStack, open_page: OpenPage) -> None:
    account = customer(dapp, "spend")
    opened = open_page(account)
    merchant = dapp.roles()["merchants"][0]
    reference = "Tisch-7 · 茶 #42"  # any Unicode, exactly as typed
    order_id = Web3.keccak(text=reference)
    opened.testid("spend-merchant").select_option(Web3.to_checksum_address(merchant))
    opened.testid("spend-amount").fill("2")
    opened.testid("spend-order").fill(reference)
    opened.testid("spend-preview-button").click()
    expect(opened.testid("spend-preview-order-id")).to_have_text(order_id.to_0x_hex())
    expect(opened.testid("spend-preview-discount")).to_have_attribute(
        "data-raw", str(2 * 10**dapp.deployment.asset_decimals)
    )
    before = balance_of(dapp, account)
    opened.testid("spend-confirm").click()
    opened.wait_done("spend")
    assert dapp.pool().functions.spentPoints(merchant, account, order_id).call() == 2 * POINT
    assert balance_of(dapp, account) == before - 2 * POINT
    expect(opened.page.locator("[data-testid=activity-list] li").first).to_have_attribute("data-kind", "spend")
    # The same order reference again is refused before the wallet opens.
    opened.testid("spend-merchant").select_option(Web3.to_checksum_address(merchant))
    opened.testid("spend-amount").fill("1")
    opened.testid("spend-order").fill(reference)
    opened.testid("spend-preview-button").click()
    expect(opened.field_error("spend", "already spent")).to_be_visible()
    expect(opened.testid("spend-preview")).to_be_hidden()
    assert len(opened.wallet.sent()) == 1


def toward_zero(a: int, b: int) -> int:
    return -(-a // b) if (a < 0) != (b < 0) else a // b
