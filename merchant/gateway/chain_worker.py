"""The gateway's chain worker: signs, sends and confirms the outbox's checkouts.

One worker per (chain, pool, merchant key) sends, guarded by a PostgreSQL advisory lock (a second
gateway serves HTTP and waits as a standby). Each round:

1. **dispatch** the oldest `accepted` rows: the chain decides first (`isCheckedOut`: a checkout
   already there, from an earlier run or another tool, is adopted, never sent again); the rest
   are estimated (a refusal fails the row with its code), signed with consecutive nonces and
   stored, all in one database transaction, and only then sent, in one batch;
2. **confirm** the `sent` rows: a receipt with the configured confirmations on the canonical
   chain makes a row `final` (or `failed` for a revert); a receipt that vanished (a reorg)
   sends the very same transaction again; a transaction stuck below the base fee is replaced
   (same nonce, higher fees, stored before it is sent); one the node lost is sent again; one
   whose nonce went to another transaction is signed again with a new nonce unless the chain
   shows the order checked out.

Every transaction is stored before it is sent, and the chain is asked before anything is sent
again, so a crash at any point resumes without losing or doubling a checkout: at worst a
transaction is sent twice, and the second copy cannot be mined (same nonce) or cannot mint (the
pool refuses a second checkout of an order id).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from merchant import abi
from merchant.errors import (
    AllowanceTooLow,
    ChainUnavailable,
    MerchantError,
    OrderConflict,
    Refusal,
    TransactionReverted,
)
from merchant.fees import Fees, base_fee, node_tip, offer, replacement
from merchant.gateway import outbox
from merchant.gateway.failpoints import Failpoints
from merchant.gateway.outbox import Attempt, CheckoutRow, Scope
from merchant.keys import MerchantKey
from merchant.pool import PoolView
from merchant.rpc import Rpc, RpcError
from merchant.txs import SignedTx, classify_send_error, sign

log = logging.getLogger("merchant.gateway.chain")

MAX_UINT256 = 2**256 - 1
GAS_MARGIN_NUMERATOR, GAS_MARGIN_DENOMINATOR = 5, 4
# A sent row without a receipt is looked at again (lost? stuck? nonce taken?) this often.
RECHECK_AFTER = 2.0
CONFIRM_LIMIT = 2000


@dataclass(frozen=True)
class WorkerOptions:
    confirmations: int
    batch_size: int
    poll_interval: float
    stuck_after: float
    priority_fee: int | None
    max_fee: int | None


WebhookBuilder = Callable[[CheckoutRow], tuple[str, str, str]]


@dataclass
class _Writes:
    """What one confirm pass writes, in one transaction: receipts seen, checkouts finished."""

    mined: list[dict[str, Any]] = field(default_factory=list)
    finished: list[tuple[int, str, str | None, str | None]] = field(default_factory=list)


def _attempt_tx(a: Attempt) -> SignedTx:
    return SignedTx(nonce=a.nonce, tx_hash=a.tx_hash, raw=a.raw, fees=Fees(a.max_fee, a.tip), gas=a.gas)


class ChainWorker:
    """Runs the rounds in its own thread while it holds the scope's advisory lock."""

    def __init__(
        self,
        *,
        rpc: Rpc,
        view: PoolView,
        key: MerchantKey,
        db: ConnectionPool[Any],
        conninfo: str,
        scope: Scope,
        options: WorkerOptions,
        webhook: WebhookBuilder | None,
        on_finished: Callable[[], None] | None,
        failpoints: Failpoints,
    ) -> None:
        self.rpc = rpc
        self.view = view
        self.key = key
        self.db = db
        self.conninfo = conninfo
        self.scope = scope
        self.options = options
        self.webhook = webhook
        self.on_finished = on_finished
        self.failpoints = failpoints
        self.wake = threading.Event()
        self.stop_event = threading.Event()
        self.status = "starting"
        self.next_nonce = 0
        self._checked_at: dict[int, float] = {}
        self._thread: threading.Thread | None = None
        self._lock_conn: psycopg.Connection[Any] | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="chain-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        self.wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            while self._take_lock():
                self.status = "running"
                self._rounds()
        except Exception:
            log.exception("the chain worker stopped")
            self.status = "stopped after an error"
        finally:
            if self._lock_conn is not None:
                self._lock_conn.close()

    def _rounds(self) -> None:
        """Rounds until stopped, or until the session holding the lock is gone."""
        backoff = self.options.poll_interval
        while not self.stop_event.is_set():
            if not self._holds_lock():
                log.warning("the connection holding the worker lock broke: standing by until it is ours again")
                return
            try:
                busy = self.round()
                backoff = self.options.poll_interval
                self.status = "running"
            except (MerchantError, psycopg.Error) as exc:  # the node, the database, a refused approval
                log.warning("round failed, retrying in %.1f s: %s", backoff, exc)
                self.status = "running (retrying after an error)"
                self.stop_event.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            except Exception:  # a bug: keep the outbox moving for the rest, and say so loudly
                log.exception("round failed unexpectedly, retrying in 5 s")
                self.status = "running (retrying after an internal error)"
                self.stop_event.wait(5.0)
                continue
            if not busy:
                self.wake.wait(self.options.poll_interval)
                self.wake.clear()

    def _take_lock(self) -> bool:
        """Wait for the scope's advisory lock (a standby polls); False when stopped first."""
        while not self.stop_event.is_set():
            try:
                if self._lock_conn is None or self._lock_conn.closed:
                    self._lock_conn = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5)
                got = self._lock_conn.execute(
                    "SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", (self.scope.lock_key(),)
                ).fetchone()
                if got is not None and got[0]:
                    self._init_nonce()
                    log.info(
                        "chain worker running for merchant %s (next nonce %d)", self.scope.merchant, self.next_nonce
                    )
                    return True
                if self.status != "standby":
                    log.info("another gateway sends for merchant %s: standing by", self.scope.merchant)
                self.status = "standby"
            except (psycopg.OperationalError, ChainUnavailable) as exc:
                log.warning("cannot take the worker lock yet: %s", exc)
            self.stop_event.wait(0.5)
        return False

    def _holds_lock(self) -> bool:
        """Whether the session holding the lock is alive (when it is not, another gateway may hold it)."""
        if self._lock_conn is None:
            return False
        try:
            self._lock_conn.execute("SELECT 1")
        except psycopg.Error:
            self._lock_conn.close()
            self._lock_conn = None
            return False
        return True

    def _init_nonce(self) -> None:
        with self.db.connection() as conn:
            highest = outbox.highest_open_nonce(conn, self.scope)
        pending = int(self.rpc.call("eth_getTransactionCount", [self.key.address, "pending"]), 16)
        self.next_nonce = max(pending, -1 if highest is None else highest + 1)
        self._checked_at.clear()  # after a restart every sent row is looked at in the first round

    def _catch_up_nonce(self) -> None:
        """Never sign below the node's count: another sender of the key may have used nonces."""
        pending = int(self.rpc.call("eth_getTransactionCount", [self.key.address, "pending"]), 16)
        self.next_nonce = max(self.next_nonce, pending)

    # ------------------------------------------------------------------ one round

    def round(self) -> bool:
        """Dispatch, then confirm; True when something moved (the next round starts at once)."""
        head = int(self.rpc.call("eth_blockNumber"), 16)
        dispatched = self._dispatch()
        confirmed = self._confirm(head)
        return dispatched or confirmed

    # ------------------------------------------------------------------ dispatch

    def _dispatch(self) -> bool:
        with self.db.connection() as conn:
            rows = outbox.open_rows(conn, self.scope, "accepted", self.options.batch_size)
        if not rows:
            return False
        merchant = self.key.address
        flags = self.rpc.batch([self.view.call_request(abi.IS_CHECKED_OUT, merchant, _oid(r)) for r in rows])
        fresh: list[CheckoutRow] = []
        for row, flag in zip(rows, flags, strict=True):
            if isinstance(flag, RpcError):
                raise flag
            if abi.IS_CHECKED_OUT.result(flag):
                self._adopt(row)
            else:
                fresh.append(row)
        if not fresh:
            return True
        estimates = self.rpc.batch(
            [("eth_estimateGas", [{"from": merchant, "to": self.view.pool, "data": _checkout_data(r)}]) for r in fresh]
        )
        ready: list[tuple[CheckoutRow, int]] = []
        approved = False
        for row, estimate in zip(fresh, estimates, strict=True):
            if not isinstance(estimate, RpcError):
                ready.append((row, int(estimate, 16) * GAS_MARGIN_NUMERATOR // GAS_MARGIN_DENOMINATOR))
                continue
            problem = self.view.refusal(estimate, merchant=merchant)
            if isinstance(problem, AllowanceTooLow):
                if not approved:
                    self._approve()  # the rows stay accepted: the next round sends them
                    approved = True
            elif isinstance(problem, OrderConflict):
                pass  # checked out a moment ago (by another tool): the next round adopts it
            elif isinstance(problem, Refusal):
                self._finish(row.id, "failed", problem.code, str(problem))
            else:
                raise ChainUnavailable(f"the node refused to estimate a checkout: {problem}")
        if not ready:
            return True
        base, tip = self._fees()
        fees = offer(base, tip, self.options.max_fee)
        self._catch_up_nonce()
        signed: list[tuple[CheckoutRow, SignedTx]] = []
        with self.db.connection() as conn:
            for i, (row, gas) in enumerate(ready):
                tx = self._sign(self.next_nonce + i, _checkout_data(row), gas, fees)
                outbox.record_signed(conn, row.id, tx)
                signed.append((row, tx))
        self.next_nonce += len(signed)
        self.failpoints.hit("signed")
        self._broadcast(signed)
        return True

    def _broadcast(self, signed: list[tuple[CheckoutRow, SignedTx]]) -> None:
        """Send transactions (in nonce order) and count the sends."""
        signed = sorted(signed, key=lambda pair: pair[1].nonce)
        results = self.rpc.batch([("eth_sendRawTransaction", ["0x" + tx.raw.hex()]) for _, tx in signed])
        self.failpoints.hit("broadcast")
        now = time.monotonic()
        for (row, tx), result in zip(signed, results, strict=True):
            self._checked_at[row.id] = now
            if isinstance(result, RpcError):
                problem = classify_send_error(result)
                if problem is not None:
                    # Not fatal: the confirm pass finds out whether it was mined, lost or stuck.
                    log.warning("sending tx=%s (nonce %d) was refused: %s", tx.tx_hash, tx.nonce, problem)
        with self.db.connection() as conn:
            outbox.count_broadcasts(conn, [row.id for row, _ in signed])

    def _adopt(self, row: CheckoutRow) -> None:
        """An accepted row whose order is already checked out on chain: follow that checkout."""
        event = self.view.find_checkout(self.key.address, _oid(row))
        if event is None:
            return  # not visible in the logs yet: the next round looks again
        if event.customer.lower() != row.customer.lower() or event.sale_amount != row.sale_amount:
            self._finish(
                row.id,
                "failed",
                "order_conflict",
                f"order {row.order_ref!r} was already checked out with other figures in transaction {event.tx_hash}",
            )
            return
        log.info("order %r is already checked out on chain (tx=%s): following it", row.order_ref, event.tx_hash)
        with self.db.connection() as conn:
            outbox.adopt_transaction(conn, row.id, event.tx_hash)

    def _approve(self) -> None:
        """Approve the pool for the reserve asset (unlimited) and wait until it is mined."""
        log.info("the merchant's allowance is short: approving the pool")
        data = abi.APPROVE.data(self.view.pool, MAX_UINT256)
        gas = int(
            self.rpc.call("eth_estimateGas", [{"from": self.key.address, "to": self.view.asset, "data": data}]), 16
        )
        base, tip = self._fees()
        self._catch_up_nonce()
        tx = sign(
            self.key,
            chain_id=self.view.chain_id,
            nonce=self.next_nonce,
            to=self.view.asset,
            data=data,
            gas=gas * GAS_MARGIN_NUMERATOR // GAS_MARGIN_DENOMINATOR,
            fees=offer(base, tip, self.options.max_fee),
        )
        self.rpc.call("eth_sendRawTransaction", ["0x" + tx.raw.hex()])
        self.next_nonce += 1
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not self.stop_event.is_set():
            receipt = self.rpc.call("eth_getTransactionReceipt", [tx.tx_hash])
            if receipt is not None:
                if int(receipt["status"], 16) != 1:
                    raise TransactionReverted(f"the approval {tx.tx_hash} reverted")
                return
            time.sleep(self.options.poll_interval)
        raise ChainUnavailable(f"the approval {tx.tx_hash} was not mined within 60 s")

    # ------------------------------------------------------------------ confirm

    def _confirm(self, head: int) -> bool:
        with self.db.connection() as conn:
            rows = outbox.open_rows(conn, self.scope, "sent", CONFIRM_LIMIT)
            attempts = outbox.attempts_of(conn, [r.id for r in rows])
        if not rows:
            return False
        hashes = {r.id: _hashes(r, attempts[r.id]) for r in rows}
        flat = [h for r in rows for h in hashes[r.id]]
        answers = dict(zip(flat, self.rpc.batch([("eth_getTransactionReceipt", [h]) for h in flat]), strict=True))
        receipts: dict[int, dict[str, Any]] = {}
        for row in rows:
            found = [a for a in (answers[h] for h in hashes[row.id]) if isinstance(a, dict)]
            if found:
                receipts[row.id] = next((r for r in found if int(r["status"], 16) == 1), found[0])
        deep = [
            r
            for r in rows
            if r.id in receipts and head - int(receipts[r.id]["blockNumber"], 16) >= self.options.confirmations
        ]
        canonical = self._canonical([receipts[r.id] for r in deep])
        batch = _Writes()
        moved = False
        for row in rows:
            receipt = receipts.get(row.id)
            if receipt is None:
                moved |= self._without_receipt(row, attempts[row.id])
                continue
            self._with_receipt(row, receipt, canonical.get(receipt["transactionHash"], False), head, batch)
        return self._apply(batch) or moved

    def _apply(self, batch: _Writes) -> bool:
        """Write a round's receipts and finished checkouts in one database transaction."""
        if not batch.mined and not batch.finished:
            return False
        with self.db.connection() as conn:
            for mined in batch.mined:
                outbox.record_mined(conn, **mined)
            for checkout_id, state, code, message in batch.finished:
                outbox.finish(
                    conn, checkout_id, state=state, error_code=code, error_message=message, webhook=self.webhook
                )
        finished = {f[0] for f in batch.finished}
        if any(m["checkout_id"] not in finished for m in batch.mined):
            self.failpoints.hit("mined")
        if finished:
            for checkout_id in finished:
                self._checked_at.pop(checkout_id, None)
            self.failpoints.hit("final")
            if self.on_finished is not None:
                self.on_finished()
        return True

    def _canonical(self, receipts: list[dict[str, Any]]) -> dict[str, bool]:
        """Whether each receipt's block is still the chain's block at that height."""
        numbers = sorted({r["blockNumber"] for r in receipts})
        blocks = self.rpc.batch([("eth_getBlockByNumber", [n, False]) for n in numbers])
        hash_at = {n: b.get("hash") for n, b in zip(numbers, blocks, strict=True) if isinstance(b, dict)}
        return {r["transactionHash"]: hash_at.get(r["blockNumber"]) == r["blockHash"] for r in receipts}

    def _with_receipt(
        self, row: CheckoutRow, receipt: dict[str, Any], canonical: bool, head: int, batch: _Writes
    ) -> None:
        number, block_hash = int(receipt["blockNumber"], 16), receipt["blockHash"]
        ok = int(receipt["status"], 16) == 1
        if block_hash != row.block_hash:
            events = [e for e in abi.checked_out_in(receipt, self.view.pool) if "0x" + e.order_id.hex() == row.order_id]
            batch.mined.append(
                {
                    "checkout_id": row.id,
                    "tx_hash": receipt["transactionHash"],
                    "block_number": number,
                    "block_hash": block_hash,
                    "points": events[0].points if ok and events else None,
                    "pool_in": events[0].pool_in if ok and events else None,
                }
            )
        if head - number < self.options.confirmations or not canonical:
            return
        if ok:
            batch.finished.append((row.id, "final", None, None))
            return
        problem = self._revert_reason(receipt)
        if isinstance(problem, OrderConflict) and self.view.is_checked_out(self.key.address, _oid(row)):
            # A duplicate of a checkout that did mint (another attempt, another tool): follow that one.
            self._adopt(row)
            return
        batch.finished.append((row.id, "failed", problem.code, str(problem)))

    def _revert_reason(self, receipt: dict[str, Any]) -> Refusal:
        tx = self.rpc.call("eth_getTransactionByHash", [receipt["transactionHash"]])
        request = {"from": self.key.address, "to": self.view.pool, "data": tx["input"] if tx else "0x"}
        try:
            self.rpc.call("eth_call", [request, receipt["blockNumber"]])
        except RpcError as exc:
            problem = self.view.refusal(exc, merchant=self.key.address)
            if isinstance(problem, Refusal):
                return problem
        return TransactionReverted(f"transaction {receipt['transactionHash']} reverted")

    def _without_receipt(self, row: CheckoutRow, attempts: list[Attempt]) -> bool:
        if row.block_hash is not None:
            log.warning("the block of tx=%s is gone (reorg): sending it again", row.tx_hash)
            with self.db.connection() as conn:
                outbox.record_reorg(conn, row.id)
            if attempts:
                self._broadcast([(row, _attempt_tx(attempts[-1]))])
            return True
        now = time.monotonic()
        if now - self._checked_at.get(row.id, 0.0) < min(RECHECK_AFTER, self.options.stuck_after):
            return False
        self._checked_at[row.id] = now
        if not attempts:  # following a checkout found on chain that is no longer there
            if not self.view.is_checked_out(self.key.address, _oid(row)):
                log.warning("the checkout followed for order %r is gone from the chain: sending it", row.order_ref)
                self._requeue(row)
                return True
            return False
        current = _attempt_tx(attempts[-1])
        base = base_fee(self.rpc)
        stuck = current.fees.below(base)
        age = time.time() - attempts[-1].signed_at.timestamp()
        if stuck and age >= self.options.stuck_after:
            return self._replace(row, current, base)
        if self.rpc.call("eth_getTransactionByHash", [current.tx_hash]) is not None:
            return False  # pending in the node: wait
        mined_nonce = int(self.rpc.call("eth_getTransactionCount", [self.key.address, "latest"]), 16)
        if mined_nonce > current.nonce:
            return self._nonce_taken(row, current)
        if not stuck:
            log.info("the node lost tx=%s: sending it again", current.tx_hash)
            self._broadcast([(row, current)])
            return True
        return False

    def _replace(self, row: CheckoutRow, current: SignedTx, base: int) -> bool:
        tip = self.options.priority_fee if self.options.priority_fee is not None else node_tip(self.rpc)
        fees = replacement(current.fees, base, tip, self.options.max_fee)
        if fees is None:
            log.warning(
                "tx=%s is stuck below the base fee and GREENPOINTS_MERCHANT_MAX_FEE allows no replacement",
                current.tx_hash,
            )
            return False
        tx = self._sign(current.nonce, _checkout_data(row), current.gas, fees)
        with self.db.connection() as conn:
            outbox.record_signed(conn, row.id, tx)
        log.warning("replacing tx=%s stuck below base fee %d with tx=%s", current.tx_hash, base, tx.tx_hash)
        self._broadcast([(row, tx)])
        return True

    def _nonce_taken(self, row: CheckoutRow, current: SignedTx) -> bool:
        """The nonce went to a transaction that is none of this row's."""
        if self.view.is_checked_out(self.key.address, _oid(row)):
            self._adopt(row)
            return True
        gas = current.gas
        base, tip = self._fees()
        self._catch_up_nonce()
        tx = self._sign(self.next_nonce, _checkout_data(row), gas, offer(base, tip, self.options.max_fee))
        with self.db.connection() as conn:
            outbox.record_signed(conn, row.id, tx)
        self.next_nonce += 1
        log.warning("the nonce of tx=%s went to another transaction: signed tx=%s", current.tx_hash, tx.tx_hash)
        self._broadcast([(row, tx)])
        return True

    def _requeue(self, row: CheckoutRow) -> None:
        with self.db.connection() as conn:
            conn.execute(
                "UPDATE gateway_checkouts SET state = 'accepted', tx_hash = NULL, updated_at = now() WHERE id = %s",
                (row.id,),
            )

    # ------------------------------------------------------------------ helpers

    def _finish(self, checkout_id: int, state: str, code: str | None = None, message: str | None = None) -> None:
        with self.db.connection() as conn:
            outbox.finish(conn, checkout_id, state=state, error_code=code, error_message=message, webhook=self.webhook)
        self._checked_at.pop(checkout_id, None)
        self.failpoints.hit("final")
        if self.on_finished is not None:
            self.on_finished()

    def _fees(self) -> tuple[int, int]:
        tip = self.options.priority_fee if self.options.priority_fee is not None else node_tip(self.rpc)
        return base_fee(self.rpc), tip

    def _sign(self, nonce: int, data: str, gas: int, fees: Fees) -> SignedTx:
        return sign(
            self.key, chain_id=self.view.chain_id, nonce=nonce, to=self.view.pool, data=data, gas=gas, fees=fees
        )


def _oid(row: CheckoutRow) -> bytes:
    return bytes.fromhex(row.order_id.removeprefix("0x"))


def _checkout_data(row: CheckoutRow) -> str:
    return abi.CHECKOUT.data(row.customer, row.sale_amount, _oid(row))


def _hashes(row: CheckoutRow, attempts: list[Attempt]) -> list[str]:
    found = [a.tx_hash for a in attempts]
    if row.tx_hash is not None and row.tx_hash not in found:
        found.append(row.tx_hash)
    return found
