"""Compare the mirror with the chain at the indexed block (eth_call at the cursor).

Checks every holder's `balanceOf`, `totalSupply` (also against the sum of balances), `reserve()`,
`taxAccrued()`, `price()`, the parameters (fees, pool share, tax collector, global daily cap), the
merchants' settings, that no points exist exactly when the reserve is 0, and that the pool holds at
least `reserve + taxAccrued` of its asset. A halted indexer, or a cursor block the node no longer has,
is a failure too: the mirror is not the chain's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_utils import function_signature_to_4byte_selector
from sqlalchemy import Engine, text

from indexer import db
from indexer.derive import price_of
from indexer.rpc import RpcClient
from indexer.target import Target


def _selector(signature: str) -> str:
    return "0x" + function_signature_to_4byte_selector(signature).hex()


BALANCE_OF = _selector("balanceOf(address)")
TOTAL_SUPPLY = _selector("totalSupply()")
RESERVE = _selector("reserve()")
TAX_ACCRUED = _selector("taxAccrued()")
PRICE = _selector("price()")
MERCHANT = _selector("merchant(address)")
FEE_BPS = _selector("feeBps()")
TAX_BPS = _selector("taxBps()")
POOL_SHARE_BPS = _selector("poolShareBps()")
TAX_COLLECTOR = _selector("taxCollector()")
GLOBAL_DAILY_CAP = _selector("globalDailyCap()")

# The parameters as the mirror last saw them set: (what, SQL for the latest value).
_LATEST = "FROM {table} WHERE chain_id = :c ORDER BY block_number DESC, log_index DESC LIMIT 1"
PARAMETER_QUERIES = {
    "fees": "SELECT fee_bps, tax_bps " + _LATEST.format(table="fee_updates"),
    "pool share": "SELECT pool_share_bps " + _LATEST.format(table="pool_share_updates"),
    "tax collector": "SELECT collector " + _LATEST.format(table="tax_collector_updates"),
    "global daily cap": "SELECT cap " + _LATEST.format(table="global_cap_updates"),
}


def _address_arg(address: str) -> str:
    return address.lower().removeprefix("0x").rjust(64, "0")


def _words(result: str) -> list[int]:
    body = result.removeprefix("0x")
    return [int(body[i : i + 64], 16) for i in range(0, len(body), 64)]


@dataclass
class AuditReport:
    """The audit's findings: `ok` when the mirror equals the chain at `block`."""

    chain_id: int
    pool: str
    block: int
    block_hash: str | None = None
    lines: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    # Every check, as stored and served: {"name", "ok", "mirror", "chain"} (values as text).
    checks: list[dict[str, object]] = field(default_factory=list)
    holders: int = 0

    @property
    def ok(self) -> bool:
        return not self.differences

    def check(self, what: str, mirror: object, chain: object, *, record: bool = True) -> None:
        if record:
            self.checks.append({"name": what, "ok": mirror == chain, "mirror": str(mirror), "chain": str(chain)})
        if mirror == chain:
            self.lines.append(f"  ok    {what}: {chain}")
        else:
            self.differences.append(f"{what}: mirror {mirror}, chain {chain}")
            self.lines.append(f"  DIFF  {what}: mirror {mirror}, chain {chain}")

    def fail(self, message: str) -> None:
        self.checks.append({"name": message, "ok": False, "mirror": None, "chain": None})
        self.differences.append(message)
        self.lines.append(f"  FAIL  {message}")

    def render(self) -> str:
        head = f"audit of pool {self.pool} on chain {self.chain_id} at indexed block {self.block}"
        verdict = (
            f"result: mirror equals the chain ({self.holders} holders checked)"
            if self.ok
            else f"result: {len(self.differences)} difference(s)"
        )
        return "\n".join([head, *self.lines, verdict])


def audit(engine: Engine, rpc: RpcClient, target: Target, *, max_listed: int = 20) -> AuditReport:
    """Audit the mirror of `target` against the node behind `rpc` at the indexed cursor."""
    # One snapshot: a live indexer may commit a batch while the mirror is read.
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        state = db.load_state(conn, target)
        balances = {
            r.holder: int(r.balance)
            for r in conn.execute(
                text("SELECT holder, balance FROM balances WHERE chain_id = :c ORDER BY holder"), {"c": target.chain_id}
            )
        }
        last = db.last_pool_state(conn, target.chain_id)
        last_price = conn.execute(
            text(
                "SELECT price FROM pool_states WHERE chain_id = :c ORDER BY block_number DESC, log_index DESC LIMIT 1"
            ),
            {"c": target.chain_id},
        ).scalar_one_or_none()
        merchants = conn.execute(
            text("SELECT merchant, rate_bps, daily_cap, active FROM merchants WHERE chain_id = :c ORDER BY merchant"),
            {"c": target.chain_id},
        ).all()
        parameters = {
            what: conn.execute(text(sql), {"c": target.chain_id}).one_or_none()
            for what, sql in PARAMETER_QUERIES.items()
        }
    block = state.cursor_block
    report = AuditReport(
        chain_id=target.chain_id, pool=target.pool, block=block, block_hash=state.cursor_hash, holders=len(balances)
    )
    if state.halted_reason is not None:
        report.fail(f"the indexer is halted: {state.halted_reason}")
    if state.cursor_hash is not None:
        node = rpc.get_block(block)
        if node is None or node.hash != state.cursor_hash:
            report.fail(
                f"indexed block {block} ({state.cursor_hash}) is not on the node's chain "
                f"(node: {node.hash if node else 'no such block'}): a reorg is not yet rolled back"
            )
    if block < target.deployment_block:
        report.lines.append("  (nothing indexed yet: the cursor is before the deployment block)")
        return report

    holders = list(balances)
    calls = [(target.token, BALANCE_OF + _address_arg(h)) for h in holders]
    calls += [
        (target.token, TOTAL_SUPPLY),
        (target.pool, RESERVE),
        (target.pool, TAX_ACCRUED),
        (target.pool, PRICE),
        (target.asset, BALANCE_OF + _address_arg(target.pool)),
    ]
    calls += [
        (target.pool, FEE_BPS),
        (target.pool, TAX_BPS),
        (target.pool, POOL_SHARE_BPS),
        (target.pool, TAX_COLLECTOR),
        (target.pool, GLOBAL_DAILY_CAP),
    ]
    calls += [(target.pool, MERCHANT + _address_arg(m.merchant)) for m in merchants]
    results = rpc.eth_calls(calls, block)
    n = len(holders)
    wrong = 0
    for holder, result in zip(holders, results[:n], strict=True):
        chain_balance = _words(result)[0]
        if chain_balance != balances[holder]:
            wrong += 1
            if wrong <= max_listed:
                report.check(f"balanceOf({holder})", balances[holder], chain_balance)
            else:
                report.differences.append(f"balanceOf({holder})")
    report.checks.append(
        {"name": f"balanceOf of all {n} holders", "ok": wrong == 0, "mirror": f"{n - wrong} equal", "chain": str(n)}
    )
    if wrong == 0:
        report.lines.append(f"  ok    balanceOf of all {n} holders")
    elif wrong > max_listed:
        report.lines.append(f"  ... and {wrong - max_listed} more wrong balances")
    supply, reserve, tax, price, asset_balance = (_words(r)[0] for r in results[n : n + 5])
    report.check("totalSupply", last.supply, supply)
    report.check("totalSupply = sum of balances", sum(balances.values()), supply)
    report.check("reserve()", last.reserve, reserve)
    report.check("taxAccrued()", last.tax_accrued, tax)
    report.check("price()", int(last_price) if last_price is not None else 0, price)
    report.check("price from reserve/supply", price_of(last.reserve, last.supply, target.asset_decimals), price)
    if asset_balance >= reserve + tax:
        report.checks.append(
            {
                "name": "asset.balanceOf(pool) >= reserve + taxAccrued",
                "ok": True,
                "mirror": str(last.reserve + last.tax_accrued),
                "chain": str(asset_balance),
            }
        )
        report.lines.append(f"  ok    asset.balanceOf(pool) {asset_balance} >= reserve + taxAccrued {reserve + tax}")
    else:
        report.fail(f"asset.balanceOf(pool) {asset_balance} < reserve + taxAccrued {reserve + tax}")
    # SPEC §2: no points exist exactly when the reserve is 0 (nothing left for the next minter).
    if (supply == 0) != (reserve == 0):
        report.fail(f"supply {supply} and reserve {reserve}: one is 0 and the other is not")
    fee, tax_bps, share, collector, cap = (_words(r)[0] for r in results[n + 5 : n + 10])
    mirror = {what: tuple(row) if row is not None else None for what, row in parameters.items()}
    report.check("fees (feeBps, taxBps)", mirror["fees"], (fee, tax_bps))
    report.check("poolShareBps", mirror["pool share"], (share,))
    report.check("taxCollector", mirror["tax collector"], ("0x" + f"{collector:040x}",))
    cap_row = mirror["global daily cap"]
    report.check("globalDailyCap", (int(cap_row[0]),) if cap_row else None, (cap,))
    for m, result in zip(merchants, results[n + 10 :], strict=True):
        rate, cap, active, _ = _words(result)
        report.check(f"merchant {m.merchant}", (m.rate_bps, int(m.daily_cap), m.active), (rate, cap, bool(active)))
    return report
