"""Fixtures of the browser tests: one system (anvil, the live indexer, the API serving the DApp)
and one Debian Chromium for the whole directory; a fresh browser context per page, with the test
wallet injected, console errors and CSP violations collected and checked at the end."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from greenpoints.compiler import ROOT
from tests.dapp import stack as stack_module
from tests.dapp.stack import DappStack
from tests.dapp.wallet import FakeWallet

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 667}
SCREENSHOTS = ROOT / "reports" / "dapp-screenshots"
# Reports a CSP violation as a console error the collector below can see.
CSP_PROBE = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
});
"""


@pytest.fixture(scope="session")
def dapp(artifacts: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DappStack]:
    running = stack_module.start(tmp_path_factory.mktemp("dapp-stack"))
    try:
        yield running
    finally:
        stack_module.stop(running)


@dataclass
class Opened:
    page: Page
    wallet: FakeWallet
    context: BrowserContext
    errors: list[str] = field(default_factory=list)
    allowed_origins: set[str] = field(default_factory=set)
    origins: set[str] = field(default_factory=set)  # every origin the page sent a request to

    def testid(self, name: str) -> Any:
        return self.page.get_by_test_id(name)

    def status(self, form: str) -> Any:
        """The transaction status line of a form (redeem, transfer, spend, checkout)."""
        return self.page.locator(f"[data-testid={form}-form] .tx-status")

    def wait_done(self, form: str) -> None:
        """Until the form's transaction is mined and the mirror indexed it."""
        expect(self.status(form)).to_have_attribute("data-kind", "ok", timeout=30_000)

    def field_error(self, form: str, text: str) -> Any:
        return self.page.locator(f"[data-testid={form}-form] .field-error").filter(has_text=text)

    def connect(self) -> None:
        self.page.locator("[data-testid^=connect-]").first.click()
        self.testid("account").wait_for()


OpenPage = Callable[..., Opened]


@pytest.fixture
def open_page(browser: Browser, dapp: DappStack) -> Iterator[OpenPage]:
    opened: list[Opened] = []
    allowed: list[str] = []

    def open_(
        account: str,
        *,
        chain_id: int = 31337,
        mode: str = "both",
        viewport: dict[str, int] | None = None,
        locale: str = "en-US",
        view: str = "customer",
        connect: bool = True,
        url: str | None = None,
        allow_errors: tuple[str, ...] = (),
    ) -> Opened:
        context = browser.new_context(viewport=viewport or DESKTOP, locale=locale, timezone_id="UTC")
        context.set_default_timeout(15_000)
        wallet = FakeWallet(dapp.anvil.url, account, chain_id=chain_id, known_chains={chain_id})
        wallet.install(context, mode)
        context.add_init_script(CSP_PROBE)
        page = context.new_page()
        wallet.page = page
        item = Opened(page, wallet, context)
        page.on("console", lambda m: m.type == "error" and item.errors.append(m.text))
        page.on("pageerror", lambda e: item.errors.append(f"uncaught: {e}"))
        page.on("request", lambda r: item.origins.add(origin_of(r.url)))
        allowed.extend(allow_errors)
        opened.append(item)
        item.allowed_origins = {origin_of(url or dapp.app_url), origin_of(dapp.anvil.url)}
        page.goto((url or dapp.app_url) + f"#{view}")
        page.wait_for_selector("body[data-ready=true]")
        if connect:
            item.connect()
        return item

    yield open_
    for item in opened:
        item.context.close()
    unexpected = [e for item in opened for e in item.errors if not any(a in e for a in allowed)]
    assert unexpected == [], unexpected
    # Nothing but the API that served the page and the published RPC was ever asked for anything.
    for item in opened:
        assert item.origins <= item.allowed_origins, item.origins - item.allowed_origins


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def fmt_units(raw: int, decimals: int, max_fraction: int | None = None) -> str:
    """The page's English formatting, computed here independently: grouped, cut toward zero."""
    sign = "−" if raw < 0 else ""
    raw = abs(raw)
    whole, fraction = divmod(raw, 10**decimals)
    digits = str(fraction).rjust(decimals, "0")[: decimals if max_fraction is None else max_fraction].rstrip("0")
    return f"{sign}{whole:,}" + (f".{digits}" if digits else "")
