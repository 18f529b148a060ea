"""The auditor's view reads the chain itself: its figures equal eth_call at the block it names,
SPEC §3.1 and §5 are computed from them, the mirror is compared at the mirror's block, and each
contract's code is matched against the repository's build."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from web3 import Web3

from greenpoints.chain import contract
from greenpoints.rules import fraud_threshold
from tests.dapp.conftest import OpenPage
from tests.dapp.stack import DappStack


def raw(opened: object, testid: str) -> int:
    return int(opened.testid(testid).get_attribute("data-raw"))  # type: ignore[attr-defined]


def test_the_auditor_figures_equal_eth_call_without_any_wallet(dapp: DappStack, open_page: OpenPage) -> None:
    opened = open_page(dapp.roles()["customers"][0], view="auditor", connect=False)
    verdict = opened.testid("audit-backing-verdict")
    expect(verdict).to_be_visible()
    source = opened.page.locator("#audit-backing .caption").inner_text()
    assert "public RPC" in source
    block = int(re.search(r"block (\d+)", source).group(1))  # type: ignore[union-attr]
    at = {"block_identifier": block}
    pool, token, asset = dapp.pool(), dapp.token(), dapp.asset()
    reserve = pool.functions.reserve().call(**at)
    tax = pool.functions.taxAccrued().call(**at)
    supply = token.functions.totalSupply().call(**at)
    held = asset.functions.balanceOf(dapp.deployment.pool).call(**at)
    price = pool.functions.price().call(**at)
    assert (raw(opened, "audit-reserve"), raw(opened, "audit-tax"), raw(opened, "audit-supply")) == (
        reserve,
        tax,
        supply,
    )
    assert (raw(opened, "audit-asset-balance"), raw(opened, "audit-price")) == (held, price)
    assert raw(opened, "audit-surplus") == held - reserve - tax
    expect(verdict).to_have_attribute("data-ok", str(held >= reserve + tax).lower())

    # SPEC §5 from the chain's parameters.
    fee, tax_bps = pool.functions.feeBps().call(**at), pool.functions.taxBps().call(**at)
    share = pool.functions.poolShareBps().call(**at)
    numerator, denominator = fraud_threshold(share, fee)
    assert raw(opened, "audit-threshold") == numerator * 10**18 // denominator
    expect(opened.testid("audit-fraud-verdict")).to_have_attribute(
        "data-above", str(price * denominator > numerator * 10**18).lower()
    )
    assert (raw(opened, "param-fee"), raw(opened, "param-tax"), raw(opened, "param-pool-share")) == (
        fee,
        tax_bps,
        share,
    )
    assert raw(opened, "param-global-cap") == pool.functions.globalDailyCap().call(**at)
    expect(opened.testid("param-collector")).to_have_text(pool.functions.taxCollector().call(**at))

    # Governance: the timelock's delay and the role holders, rebuilt from the logs.
    timelock = contract(dapp.w3, "TimelockController", dapp.deployment.timelock)
    assert raw(opened, "audit-timelock-delay") == timelock.functions.getMinDelay().call(**at)
    expect(opened.testid("audit-default-admin")).to_have_text(pool.functions.defaultAdmin().call(**at))
    admin = Web3.to_checksum_address(dapp.deployment.admin)
    for role, holder in (
        ("pool:PAUSER_ROLE", admin),
        ("pool:PARAMETER_ADMIN_ROLE", dapp.deployment.timelock),
        ("timelock:PROPOSER_ROLE", admin),
    ):
        expect(opened.page.locator(f"[data-role='{role}'] .address")).to_have_attribute("title", holder)
        source_contract = pool if role.startswith("pool") else timelock
        role_id = source_contract.functions[role.split(":")[1]]().call()
        assert source_contract.functions.hasRole(role_id, holder).call(**at)

    # Every contract's code matches this build; the asset is an external token.
    for name in ("DividendPool", "PointsToken", "TimelockController"):
        expect(opened.page.locator(f"[data-contract={name}] [data-matches]")).to_have_attribute("data-matches", "true")

    # The mirror at its own block equals the chain there, and the stored audit is shown as the API has it.
    rows = opened.page.locator("[data-testid=audit-mirror-table] tbody tr")
    expect(rows).to_have_count(4)
    for i in range(4):
        expect(rows.nth(i)).to_have_attribute("data-equal", "true")
    status = dapp.api.json("/v1/audit")["status"]
    expect(opened.testid("audit-status")).to_have_attribute("data-status", status)
