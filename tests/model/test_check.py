"""`simulate --check` on a real anvil: the model and the hardened contract agree over a seeded random
sequence of ≥ 1,000 steps, and a model with one wrong rule is caught. The bounds the model reads
from the contract's source equal what the deployed contract answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from cli.main import main
from greenpoints.anvil import Anvil
from greenpoints.build import build
from greenpoints.chain import connect, contract
from greenpoints.deploy import deploy
from greenpoints.deployment import Deployment
from greenpoints.pool_constants import pool_bounds
from greenpoints.rules import RedeemQuote
from model.check import CheckFailed, check
from model.pool import Pool


@pytest.fixture(scope="module")
def chain() -> Iterator[tuple[Anvil, Web3]]:
    """An anvil of its own: the check moves the chain's clock days ahead."""
    build()
    with Anvil(accounts=20) as node:
        yield node, connect(node.url)


def fresh(w3: Web3) -> Deployment:
    return deploy(w3, log=lambda _: None)


def test_check_passes_over_a_thousand_steps_through_the_cli(
    chain: tuple[Anvil, Web3], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    node, w3 = chain
    path = fresh(w3).save(tmp_path / "deployment.json")
    code = main(
        ["--rpc", node.url, "--deployment", str(path), "simulate", "--check", "--orders", "1000", "--seed", "7"]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    summary = out.strip().splitlines()[-1]
    assert summary.startswith("model and chain agree over 1000 steps: accepted ")
    accepted, emptied, refused = summary.split(": ", 1)[1].split("; ")
    counts = {kind: int(n) for n, kind in (item.split(" ") for item in accepted.removeprefix("accepted ").split(", "))}
    # Every kind of operation ran, and a last redemption emptied the pool at least once...
    kinds = ("checkout", "transfer", "spend", "spend_for", "redeem", "fund", "burn", "burn_from", "govern", "new_day")
    assert all(counts.get(kind, 0) > 0 for kind in kinds), counts
    assert int(emptied.split()[0]) >= 1
    # ... and the refusals the contract makes were met and matched, not only the happy path.
    for error in (
        "PoolUnknownMerchant",
        "PoolOrderReplayed",
        "PoolSlippage",
        "PoolInsufficientPoints",
        "PoolZeroAmount",
        "PoolDailyCapExceeded",
        "PoolSupplyAboveLimit",
        "ERC20InsufficientBalance",
        "ERC20InvalidReceiver",
    ):
        assert error in refused


class FeeOffByOneBps(Pool):
    """A deliberately wrong model: its redemption fee is one basis point higher than the pool's."""

    def redeem(self, holder: str, points: int, min_payout: int = 0) -> RedeemQuote:
        self.fee_bps += 1
        try:
            return super().redeem(holder, points, min_payout)
        finally:
            self.fee_bps -= 1


class NoMintBound(Pool):
    """A deliberately wrong model: it forgets the mint bound (points at face value)."""

    def _quote_checkout(self, m: Any, sale_amount: int) -> Any:
        self._check_bounds(sale_amount, 0, self.bounds.max_sale_amount)
        from greenpoints.rules import quote_checkout

        return quote_checkout(sale_amount, m.rate_bps, self.pool_share_bps, self.fee_bps, 0, 0, self.asset_decimals)


@pytest.mark.parametrize(("wrong", "where"), [(FeeOffByOneBps, "redeem"), (NoMintBound, "checkout")])
def test_a_wrong_model_rule_is_caught(chain: tuple[Anvil, Web3], wrong: type[Pool], where: str) -> None:
    _, w3 = chain
    with pytest.raises(CheckFailed) as failed:
        check(w3, fresh(w3), 1_000, seed=5, pool_class=wrong, log=None)
    message = str(failed.value)
    assert "\n" not in message and message.startswith("step ")
    assert where in message


def test_the_bounds_read_from_the_source_are_the_deployed_contracts(chain: tuple[Anvil, Web3]) -> None:
    _, w3 = chain
    pool = contract(w3, "DividendPool", fresh(w3).pool)
    b = pool_bounds()
    on_chain = {
        name: getattr(pool.functions, name)().call()
        for name in (
            "MIN_RATE_BPS",
            "MAX_RATE_BPS",
            "MIN_POOL_SHARE_BPS",
            "MAX_POOL_SHARE_BPS",
            "MAX_FEE_BPS",
            "MIN_DAILY_CAP",
            "MAX_DAILY_CAP",
            "MAX_SALE_AMOUNT",
            "feeBps",
            "taxBps",
            "poolShareBps",
        )
    }
    assert on_chain == {
        "MIN_RATE_BPS": b.min_rate_bps,
        "MAX_RATE_BPS": b.max_rate_bps,
        "MIN_POOL_SHARE_BPS": b.min_pool_share_bps,
        "MAX_POOL_SHARE_BPS": b.max_pool_share_bps,
        "MAX_FEE_BPS": b.max_fee_bps,
        "MIN_DAILY_CAP": b.min_daily_cap,
        "MAX_DAILY_CAP": b.max_daily_cap,
        "MAX_SALE_AMOUNT": b.max_sale_amount,
        "feeBps": b.default_fee_bps,
        "taxBps": b.default_tax_bps,
        "poolShareBps": b.default_pool_share_bps,
    }
