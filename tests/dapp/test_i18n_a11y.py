"""Both languages on every view, at a desktop and a 375×667 phone size: no missing string (the
tables are walked here), no horizontal scrolling, no serious or critical axe-core violation, a
screenshot of each into reports/dapp-screenshots/; the language choice is remembered; the forms
work from the keyboard."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from greenpoints.compiler import ROOT
from tests.dapp.accounts import customer
from tests.dapp.conftest import DESKTOP, PHONE, SCREENSHOTS, OpenPage
from tests.dapp.stack import DappStack

I18N = ROOT / "dapp" / "src" / "i18n"
SOURCES = ROOT / "dapp" / "src"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
MISSING = "⟦"
# Keys the code builds from a value (`t(\`transfer.error.${reason}\`)`), by family: every member
# must exist, and a key of the family counts as used.
FAMILIES = {
    "transfer.error.": {"empty", "format", "checksum", "zero", "pool", "token"},
    "order.error.": {"empty", "long", "control", "surrogate"},
    "audit.status.": {"ok", "failed", "stale", "missing"},
}
VIEWS = ("customer", "merchant", "auditor")


def tables() -> dict[str, dict[str, str]]:
    return {path.stem: json.loads(path.read_text()) for path in sorted(I18N.glob("*.json"))}


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


def pool_errors() -> set[str]:
    """Every custom error of the pool (and the pause errors it inherits): each needs its words."""
    abi = json.loads((ROOT / "artifacts" / "DividendPool.json").read_text())["abi"]
    return {e["name"] for e in abi if e["type"] == "error" and (e["name"].startswith("Pool") or "Pause" in e["name"])}


def test_the_string_tables_have_the_same_keys_placeholders_and_every_key_the_code_uses(artifacts: None) -> None:
    found = tables()
    assert set(found) == {"en", "zh-CN"}
    en, zh = found["en"], found["zh-CN"]
    assert set(en) == set(zh)
    for key in en:
        assert en[key].strip() and zh[key].strip(), key
        assert placeholders(en[key]) == placeholders(zh[key]), key
    source = "\n".join(p.read_text() for p in SOURCES.rglob("*.ts") if "generated" not in p.parts)
    literal = set(re.findall(r'"((?:[a-z][A-Za-z0-9]*)(?:\.[A-Za-z0-9_]+)+)"', source)) & set(en) | set(
        re.findall(r'\bt\(\s*"([^"]+)"', source)
    )
    assert literal - set(en) == set(), "keys used in the code but missing from the tables"
    for prefix, members in FAMILIES.items():
        assert {f"{prefix}{m}" for m in members} <= set(en), prefix
    assert {f"error.{name}" for name in pool_errors()} <= set(en), "a pool error without words"
    dynamic = {k for k in en if k.startswith("error.") and k[6:7].isupper()}
    unused = set(en) - literal - dynamic - {k for k in en if any(k.startswith(p) for p in FAMILIES)}
    assert unused == set(), "strings no code uses"


def axe_violations(page: Any) -> list[dict[str, Any]]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())  # through the debugger protocol: the page's CSP stays as it is
    result = page.evaluate("() => axe.run(document, { resultTypes: ['violations'] })")
    assert result["passes"], "axe ran no rule"
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def settle(opened: Any, view: str) -> None:
    """Until the view shows its figures (not "Loading…")."""
    ready = {"customer": "balance", "merchant": "merchant-rate", "auditor": "audit-backing-verdict"}[view]
    expect(opened.testid(ready)).to_be_visible()
    if view == "customer":
        expect(opened.page.locator("[data-testid=activity-list] li").first).to_be_visible()
        expect(opened.testid("price-chart")).not_to_have_attribute("data-candles", "0")
    if view == "auditor":
        expect(opened.page.locator("[data-contract=DividendPool] [data-matches]")).to_be_visible()
    opened.page.wait_for_timeout(300)  # the charts draw on the next frames


def check_views(opened: Any, dapp: DappStack, holder: str, language: str, size: str, scan: bool) -> dict[str, Any]:
    """Walk the three views in `language`: missing strings, headings from the table, sideways
    scrolling, a screenshot, and (with `scan`) axe's serious or critical violations (returned)."""
    table = tables()[language]
    merchant = dapp.roles()["merchants"][0]
    page = opened.page
    width_limit = page.viewport_size["width"]
    expect(page.locator("html")).to_have_attribute("lang", language)
    problems: dict[str, Any] = {}
    for view in VIEWS:
        opened.wallet.change_account(merchant if view == "merchant" else holder)
        page.get_by_test_id(f"nav-{view}").click()
        expect(page.locator(f"[data-view={view}]")).to_be_visible()
        settle(opened, view)
        text = page.locator("body").inner_text()
        assert MISSING not in text, (view, [line for line in text.splitlines() if MISSING in line])
        # Every heading and the navigation come from the chosen table (nothing left in the other language).
        for heading in page.locator("h1, h2, nav a").all_inner_texts():
            assert heading in table.values(), (view, heading)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= width_limit, (view, "scrolls sideways", width)
        page.screenshot(path=str(SCREENSHOTS / f"{view}-{size}-{language}.png"), full_page=True)
        violations = axe_violations(page) if scan else []
        if violations:
            problems[f"{view} {language}"] = violations
    return problems


# The desktop run starts in English (a browser set to English) and switches to Chinese; the phone
# run starts in Chinese (a browser set to Chinese) and switches to English. axe scans each view
# at both sizes, once in each language.
RUNS = {"desktop": (DESKTOP, "en", "zh-CN"), "phone": (PHONE, "zh-CN", "en")}


@pytest.mark.parametrize("size", list(RUNS))
def test_every_view_in_both_languages_and_the_choice_remembered(
    dapp: DappStack, open_page: OpenPage, size: str
) -> None:
    viewport, first, second = RUNS[size]
    holder = customer(dapp, "views", sale_units=3_000 if size == "desktop" else 0)
    opened = open_page(holder, viewport=viewport, locale="en-US" if first == "en" else "zh-CN")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    expect(opened.testid("nav-customer")).to_have_text(tables()[first]["nav.customer"])  # the browser's language first
    problems = check_views(opened, dapp, holder, first, size, scan=first == "en")
    # Switch with the page's own control; the choice survives a reload.
    opened.testid("language").select_option(second)
    expect(opened.page.locator("h1")).to_have_text(tables()[second]["app.title"])
    opened.page.reload()
    opened.page.wait_for_selector("body[data-ready=true]")
    expect(opened.testid("language")).to_have_value(second)
    problems |= check_views(opened, dapp, holder, second, size, scan=second == "zh-CN")
    assert problems == {}


def test_the_forms_work_from_the_keyboard(dapp: DappStack, open_page: OpenPage) -> None:
    opened = open_page(customer(dapp, "views", sale_units=0))
    page = opened.page
    expect(opened.testid("balance")).to_be_visible()
    page.locator("body").focus()
    for _ in range(60):  # Tab from the top of the page to the redemption's amount field
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement?.dataset.testid") == "redeem-amount":
            break
    else:
        pytest.fail("the redemption amount cannot be reached with Tab")
    page.keyboard.type("1")
    page.keyboard.press("Enter")
    expect(opened.testid("redeem-preview")).to_be_visible()
    expect(opened.testid("redeem-quote-points")).to_have_attribute("data-raw", str(10**18))
    # Every control the page shows is labelled (axe checks it too; this names the offender).
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select')].filter((el) =>
             !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map((el) => el.outerHTML)"""
    )
    assert unlabelled == []
    # The views are reachable by keyboard too.
    page.get_by_test_id("nav-auditor").focus()
    page.keyboard.press("Enter")
    expect(page.locator("[data-view=auditor]")).to_be_visible()
