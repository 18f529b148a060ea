"""The API tests' chain: `greenpoints.simulate` (checkouts, transfers, spends, redemptions, top-ups,
direct burns) in chunks with clock jumps between them (so every candle interval has several
buckets and gaps), a merchant's rate and cap changed, the tax withdrawn, a merchant revoked."""

from __future__ import annotations

from web3 import Web3

from greenpoints.chain import contract, send
from greenpoints.deploy import local_roles
from greenpoints.deployment import Deployment
from greenpoints.simulate import simulate

# Seconds the chain clock jumps after each chunk: inside a minute up to more than a day, so the
# workload spans at least three UTC days.
JUMPS = (75, 3700, 26 * 3600, 320, 4 * 3600 + 60, 20, 26 * 3600, 950)


def advance_time(w3: Web3, seconds: int) -> None:
    w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]


def set_merchant(w3: Web3, deployment: Deployment, merchant: str, rate_bps: int, cap: int, active: bool) -> None:
    pool = contract(w3, "DividendPool", deployment.pool)
    send(pool.functions.setMerchant(merchant, rate_bps, cap, active), local_roles(w3)["admin"])


def run_workload(w3: Web3, deployment: Deployment, seed: int, chunks: int = 8, per_chunk: int = 6) -> None:
    merchants = deployment.merchants
    for i in range(chunks):
        simulate(w3, deployment, per_chunk, seed=seed * 1000 + i, log=None)
        advance_time(w3, JUMPS[i % len(JUMPS)])
        if i == chunks // 2:
            first = merchants[0]
            set_merchant(w3, deployment, first.address, first.rate_bps + 200, first.daily_cap * 2, True)
    pool = contract(w3, "DividendPool", deployment.pool)
    collector = local_roles(w3)["tax_collector"]
    if pool.functions.taxOwed(collector).call() > 0:
        send(pool.functions.withdrawTax(), collector)
    last = merchants[-1]
    set_merchant(w3, deployment, last.address, last.rate_bps, last.daily_cap, False)  # revoked
