"""`MerchantClient`: checkout, quote, status and spend-for from a merchant's backend in Python.

A checkout quotes first, approves the reserve asset when the allowance is short, signs an
EIP-1559 transaction with the next nonce (several checkouts may be in flight from one key, one
thread each), sends it, and waits for the receipt and the confirmations. While it waits it
replaces a transaction stuck below the base fee, sends it again when the node lost it or a reorg
dropped it, and finds the checkout when another transaction of the same order mined first.

A retry of the same order reference never mints twice: the pool refuses a second checkout of an
order id, and the client looks for an earlier one (`isCheckedOut` and its `CheckedOut` event)
before it sends, returning it (`replayed=True`) when its figures match and refusing with
`OrderConflict` when they do not.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from greenpoints.deployment import Deployment, load_deployment
from greenpoints.orders import order_id as derive_order_id
from greenpoints.units import POINT_DECIMALS, format_units
from merchant import abi
from merchant.amounts import parse_amount
from merchant.errors import (
    AllowanceTooLow,
    BalanceTooLow,
    ChainUnavailable,
    DailyCapReached,
    GlobalDailyCapReached,
    InputError,
    MerchantError,
    NotFinal,
    OrderConflict,
    PoolPaused,
    Refusal,
    SpendReplayed,
    TransactionReverted,
)
from merchant.fees import Fees, base_fee, node_tip, offer, replacement
from merchant.keys import MerchantKey
from merchant.nonces import NonceAllocator
from merchant.permission_file import SpendPermission
from merchant.pool import PoolView, checked_address
from merchant.results import Checkout, OrderStatus, Quote, Spend
from merchant.rpc import Rpc, RpcError
from merchant.txs import NonceUsed, SignedTx, Underpriced, broadcast, sign

log = logging.getLogger("merchant.client")

MAX_UINT256 = 2**256 - 1
# Gas estimates get this margin (a checkout's cost varies with storage touched first or again).
GAS_MARGIN_NUMERATOR, GAS_MARGIN_DENOMINATOR = 5, 4
# A transaction the node no longer knows is sent again after this many seconds without a receipt.
RESEND_AFTER = 2.0


@dataclass
class _Flight:
    """One call in flight: every transaction signed for it (replacements share a nonce)."""

    data: str
    gas: int
    attempts: list[SignedTx] = field(default_factory=list)
    sent_at: float = 0.0  # when the current attempt was signed (how long it has been waiting)
    checked_at: float = 0.0  # when the node was last asked about it
    mined_seen: str | None = None  # block hash of the last receipt seen (a reorg can drop it)

    @property
    def current(self) -> SignedTx:
        return self.attempts[-1]


class MerchantClient:
    """A merchant's access to the pool of `deployment` on `rpc_url`, signing with `signer`.

    `confirmations`: blocks on top of a checkout's block before it counts as final.
    `approve`: approve the reserve asset (unlimited) when the allowance is short; with False a
    short allowance is refused (`AllowanceTooLow`). The pool only ever pulls from the merchant
    that calls `checkout`, for that checkout's pool-in.
    """

    def __init__(
        self,
        rpc_url: str,
        deployment: Deployment | Path,
        signer: MerchantKey | None,
        *,
        confirmations: int = 0,
        timeout: float = 120.0,
        poll_interval: float = 0.2,
        stuck_after: float = 15.0,
        priority_fee: int | None = None,
        max_fee: int | None = None,
        approve: bool = True,
        rpc: Rpc | None = None,
    ) -> None:
        self.rpc = rpc or Rpc(rpc_url)
        if isinstance(deployment, Path):
            deployment = load_deployment(deployment)
        self.view = PoolView(self.rpc, deployment)
        self.signer = signer
        self.confirmations = confirmations
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.stuck_after = stuck_after
        self.priority_fee = priority_fee
        self.max_fee = max_fee
        self.approve = approve
        self._nonces = NonceAllocator(self.rpc, signer.address) if signer is not None else None
        self._allowance_lock = threading.Lock()
        self._checked_chain = False

    def __repr__(self) -> str:
        return f"MerchantClient(rpc={self.rpc.url!r}, pool={self.view.pool}, merchant={self.merchant_address()})"

    # ------------------------------------------------------------------ public calls

    def merchant_address(self) -> str | None:
        return self.signer.address if self.signer is not None else None

    def quote(self, amount: str | Decimal, merchant: str | None = None) -> Quote:
        """What a checkout of `amount` (whole units of the asset) by `merchant` (default: this
        client's) would mint and pull into the pool now."""
        who = self._merchant_or(merchant)
        sale = parse_amount(amount, self.view.asset_decimals)
        points, pool_in = self.view.quote(who, sale)
        return Quote(sale, points, pool_in, self.view.asset_decimals)

    def status(self, order_ref: str, merchant: str | None = None) -> OrderStatus:
        """Whether `order_ref` is checked out by `merchant` (default: this client's)."""
        who = self._merchant_or(merchant)
        oid = derive_order_id(order_ref)
        found = self.view.find_checkout(who, oid) if self.view.is_checked_out(who, oid) else None
        checkout = None if found is None else self._checkout_from(found, order_ref, replayed=True)
        return OrderStatus(order_ref, oid, who, checkout)

    def checkout(
        self,
        customer: str,
        amount: str | Decimal,
        order_ref: str,
        *,
        confirmations: int | None = None,
        timeout: float | None = None,
    ) -> Checkout:
        """Check out a sale of `amount` (whole units of the asset: "12000.00") to `customer` for
        the merchant's own `order_ref`, and wait until it is final. See the module docstring."""
        key = self._key()
        customer = checked_address(customer)
        sale = parse_amount(amount, self.view.asset_decimals)
        oid = derive_order_id(order_ref)
        wanted = self.confirmations if confirmations is None else confirmations
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        self._check_chain()

        earlier = self._earlier_checkout(key.address, oid, order_ref, customer, sale)
        if earlier is not None:
            return self._await_earlier(earlier, order_ref, wanted, deadline)
        points, pool_in = self._preflight(key.address, sale)
        log.info("checkout order_ref=%r points=%d pool_in=%d", order_ref, points, pool_in)
        data = abi.CHECKOUT.data(customer, sale, oid)
        try:
            gas = self._estimate(key.address, self.view.pool, data)
        except Refusal as exc:
            if isinstance(exc, OrderConflict):  # a concurrent call of the same order got in first
                again = self._earlier_checkout(key.address, oid, order_ref, customer, sale)
                if again is not None:
                    return self._await_earlier(again, order_ref, wanted, deadline)
            raise
        flight = _Flight(data=data, gas=gas)
        self._send_new(flight)
        try:
            receipt, head = self._await_receipt(flight, wanted, deadline, order=(key.address, oid))
        except _CheckedOutElsewhere:
            again = self._earlier_checkout(key.address, oid, order_ref, customer, sale)
            if again is None:  # it was there a moment ago: a reorg removed it; the caller retries
                raise ChainUnavailable(f"order {order_ref!r} vanished from the chain (reorg); retry") from None
            return self._await_earlier(again, order_ref, wanted, deadline)
        if int(receipt["status"], 16) != 1:
            problem = self._explain_failure(receipt, flight, key.address)
            if isinstance(problem, OrderConflict):  # another call of the same order was mined first
                again = self._earlier_checkout(key.address, oid, order_ref, customer, sale)
                if again is not None:
                    return self._await_earlier(again, order_ref, wanted, deadline)
            raise problem
        events = [e for e in abi.checked_out_in(receipt, self.view.pool) if e.order_id == oid]
        if not events:
            raise TransactionReverted(f"transaction {receipt['transactionHash']} emitted no CheckedOut event")
        return self._checkout_from(events[0], order_ref, replayed=False, head=head)

    def spend_for(self, permission: SpendPermission, *, timeout: float | None = None) -> Spend:
        """Spend (burn) a holder's points for an order with the holder's signed EIP-712 `Spend`
        permission; this merchant pays the gas. A retry after the spend went through returns it."""
        key = self._key()
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        permission.check_for(self.view, key.address)
        self._check_chain()
        earlier = self._find_spend(permission)
        if earlier is not None:
            return earlier
        permission.check_on_chain(self.view)
        data = abi.SPEND_FOR.data(
            permission.holder, permission.points, permission.order_id, permission.deadline, permission.signature
        )
        try:
            gas = self._estimate(key.address, self.view.pool, data, what="spend")
        except Refusal:
            earlier = self._find_spend(permission)
            if earlier is not None:
                return earlier
            raise
        flight = _Flight(data=data, gas=gas)
        self._send_new(flight)
        receipt, _ = self._await_receipt(flight, self.confirmations, deadline, order=None)
        if int(receipt["status"], 16) != 1:
            raise self._explain_failure(receipt, flight, key.address, what="spend")
        return Spend(
            holder=permission.holder,
            merchant=key.address,
            order_id=permission.order_id,
            points=permission.points,
            tx_hash=receipt["transactionHash"],
            block_number=int(receipt["blockNumber"], 16),
            replayed=False,
        )

    # ------------------------------------------------------------------ before sending

    def _key(self) -> MerchantKey:
        if self.signer is None:
            raise InputError("this client has no signing key (read-only: quote and status only)")
        return self.signer

    def _merchant_or(self, merchant: str | None) -> str:
        if merchant is not None:
            return checked_address(merchant, "merchant")
        if self.signer is None:
            raise InputError("name the merchant: this client has no signing key")
        return self.signer.address

    def _check_chain(self) -> None:
        if self._checked_chain:
            return
        chain_id = int(self.rpc.call("eth_chainId"), 16)
        if chain_id != self.view.chain_id:
            raise InputError(f"the deployment is for chain {self.view.chain_id}, the node is chain {chain_id}")
        self._checked_chain = True

    def _earlier_checkout(
        self, merchant: str, oid: bytes, order_ref: str, customer: str, sale: int
    ) -> abi.CheckedOutLog | None:
        """The checkout of this order already on chain, or None; `OrderConflict` when its figures differ."""
        if not self.view.is_checked_out(merchant, oid):
            return None
        found = self.view.find_checkout(merchant, oid)
        if found is None:  # checked out in a block the node has not indexed for logs yet
            raise ChainUnavailable(f"order {order_ref!r} is checked out but its event is not visible yet; retry")
        if found.customer != customer or found.sale_amount != sale:
            raise OrderConflict(
                f"order {order_ref!r} was already checked out with different figures: "
                f"{format_units(found.sale_amount, self.view.asset_decimals)} to {found.customer} "
                f"in transaction {found.tx_hash}"
            )
        return found

    def _preflight(self, merchant: str, sale: int) -> tuple[int, int]:
        """Refuse early, with a clear reason, what the pool would refuse; approve when needed."""
        state = self.view.checkout_state(merchant)
        info = state.merchant
        if state.paused:
            raise PoolPaused("the pool is paused: no checkout until it is unpaused (redemptions still work)")
        if not info.active:
            raise self.view.not_active(merchant, info)
        points, pool_in = self.view.quote(merchant, sale)
        remaining = max(info.daily_cap - info.minted_today, 0)
        if points > remaining:
            raise DailyCapReached(
                f"the merchant's daily mint cap is reached: this checkout mints {format_units(points, 18)} points,"
                f" {format_units(remaining, 18)} are left today (UTC)"
            )
        if points > state.global_remaining:
            raise GlobalDailyCapReached(
                f"the pool's daily mint cap over all merchants is reached: this checkout mints"
                f" {format_units(points, 18)} points, {format_units(state.global_remaining, 18)} are left today (UTC)"
            )
        decimals = self.view.asset_decimals
        balance, allowance = state.balance, state.allowance
        if balance < pool_in:
            raise BalanceTooLow(
                f"the merchant holds {format_units(balance, decimals)} of the reserve asset, "
                f"{format_units(pool_in, decimals)} are needed"
            )
        if allowance < pool_in:
            self._ensure_allowance(merchant, pool_in, allowance)
        return points, pool_in

    def _ensure_allowance(self, merchant: str, needed: int, seen: int) -> None:
        decimals = self.view.asset_decimals
        if not self.approve:
            raise AllowanceTooLow(
                f"the merchant's allowance to the pool is {format_units(seen, decimals)}, "
                f"{format_units(needed, decimals)} are needed (approve the pool, or let the client approve)"
            )
        with self._allowance_lock:  # one approval for all the checkouts that need it
            current = int(self.view.call(abi.ALLOWANCE, merchant, self.view.pool, to=self.view.asset))
            if current >= needed:
                return
            log.info("approving the pool to pull the reserve asset")
            data = abi.APPROVE.data(self.view.pool, MAX_UINT256)
            flight = _Flight(data=data, gas=self._estimate(merchant, self.view.asset, data, what="approval"))
            self._send_new(flight, to=self.view.asset)
            receipt, _ = self._await_receipt(flight, 0, time.monotonic() + self.timeout, order=None, to=self.view.asset)
            if int(receipt["status"], 16) != 1:
                raise TransactionReverted(f"the approval {receipt['transactionHash']} reverted")

    def _estimate(self, sender: str, to: str, data: str, what: str = "checkout") -> int:
        try:
            gas = int(self.rpc.call("eth_estimateGas", [{"from": sender, "to": to, "data": data}]), 16)
        except RpcError as exc:
            problem = self.view.refusal(exc, merchant=sender, what=what)
            if isinstance(problem, RpcError):
                raise TransactionReverted(f"the node refused to estimate the {what}: {exc.message}") from None
            raise problem from None
        return gas * GAS_MARGIN_NUMERATOR // GAS_MARGIN_DENOMINATOR

    # ------------------------------------------------------------------ sending

    def _fees(self) -> tuple[int, int]:
        tip = self.priority_fee if self.priority_fee is not None else node_tip(self.rpc)
        return base_fee(self.rpc), tip

    def _sign(self, flight: _Flight, nonce: int, fees: Fees, to: str | None) -> SignedTx:
        return sign(
            self._key(),
            chain_id=self.view.chain_id,
            nonce=nonce,
            to=to or self.view.pool,
            data=flight.data,
            gas=flight.gas,
            fees=fees,
        )

    def _send_new(self, flight: _Flight, to: str | None = None) -> None:
        """Sign `flight` with a fresh nonce and send it."""
        assert self._nonces is not None
        for _ in range(5):
            base, tip = self._fees()
            with self._nonces.allocate() as nonce:
                tx = self._sign(flight, nonce, offer(base, tip, self.max_fee), to)
                try:
                    broadcast(self.rpc, tx)
                except (NonceUsed, Underpriced):
                    # Underpriced at a fresh nonce: another sender's transaction holds it in the pool
                    # with a higher fee (one key shared by several backends).
                    if self._known(tx.tx_hash):  # our own send arrived twice (a dropped answer)
                        self._record(flight, tx)
                        return
                    continue  # another sender took the nonce: counted as used, the next one is tried
                except ChainUnavailable as exc:
                    raise ChainUnavailable(
                        f"{exc} while sending transaction {tx.tx_hash}: it may still be mined; "
                        "retry with the same order reference"
                    ) from None
                self._record(flight, tx)
                return
        raise ChainUnavailable("could not find a free nonce for the merchant key (another sender keeps taking them)")

    def _record(self, flight: _Flight, tx: SignedTx) -> None:
        flight.attempts.append(tx)
        flight.sent_at = flight.checked_at = time.monotonic()
        log.info("sent tx=%s nonce=%d max_fee=%d tip=%d", tx.tx_hash, tx.nonce, tx.fees.max_fee, tx.fees.tip)

    def _known(self, tx_hash: str) -> bool:
        return self.rpc.call("eth_getTransactionByHash", [tx_hash]) is not None

    # ------------------------------------------------------------------ waiting

    def _await_receipt(
        self,
        flight: _Flight,
        confirmations: int,
        deadline: float,
        *,
        order: tuple[str, bytes] | None,
        to: str | None = None,
    ) -> tuple[dict[str, Any], int]:
        """(receipt, head): the receipt of one of `flight`'s transactions once it has
        `confirmations` blocks on top, on the canonical chain. Replaces, resends or re-signs as
        the chain requires."""
        while True:
            receipts = self.rpc.batch([("eth_getTransactionReceipt", [tx.tx_hash]) for tx in flight.attempts])
            receipt = next((r for r in receipts if isinstance(r, dict)), None)
            head = int(self.rpc.call("eth_blockNumber"), 16)
            if receipt is not None:
                number = int(receipt["blockNumber"], 16)
                flight.mined_seen = receipt["blockHash"]
                if head - number >= confirmations and self._canonical(number, receipt["blockHash"]):
                    return receipt, head
            else:
                if flight.mined_seen is not None:
                    log.warning("tx=%s was mined in a block a reorg dropped; sending it again", flight.current.tx_hash)
                    flight.mined_seen = None
                    self._resend(flight, order, to)
                elif time.monotonic() - flight.checked_at >= min(RESEND_AFTER, self.stuck_after):
                    flight.checked_at = time.monotonic()
                    self._unstick(flight, order, to)
            if time.monotonic() >= deadline:
                raise NotFinal(
                    f"transaction {flight.current.tx_hash} was sent but is not final after the timeout; "
                    "retry with the same order reference to keep waiting (it will not be sent twice)"
                )
            time.sleep(self.poll_interval)

    def _canonical(self, number: int, block_hash: str) -> bool:
        block = self.rpc.call("eth_getBlockByNumber", [hex(number), False])
        return isinstance(block, dict) and block.get("hash") == block_hash

    def _resend(self, flight: _Flight, order: tuple[str, bytes] | None, to: str | None) -> None:
        """Send the current transaction again, byte for byte; re-sign if its nonce went elsewhere."""
        try:
            broadcast(self.rpc, flight.current)
        except NonceUsed:
            self._nonce_taken(flight, order, to)
        except Underpriced:
            self._replace(flight, to)

    def _unstick(self, flight: _Flight, order: tuple[str, bytes] | None, to: str | None) -> None:
        """No receipt for a while: replace a transaction below the base fee, resend a lost one."""
        base = base_fee(self.rpc)
        stuck = flight.current.fees.below(base)
        if stuck and time.monotonic() - flight.sent_at >= self.stuck_after:
            self._replace(flight, to)
            return
        if self._known(flight.current.tx_hash):
            return  # pending in the node: wait
        nonce_now = int(self.rpc.call("eth_getTransactionCount", [self._key().address, "latest"]), 16)
        if nonce_now > flight.current.nonce:
            self._nonce_taken(flight, order, to)
        elif not stuck:  # the node lost it (a restart, an eviction): send it again
            self._resend(flight, order, to)

    def _replace(self, flight: _Flight, to: str | None) -> None:
        base, tip = self._fees()
        fees = replacement(flight.current.fees, base, tip, self.max_fee)
        if fees is None:
            log.warning(
                "tx=%s is stuck below the base fee and the fee cap allows no replacement", flight.current.tx_hash
            )
            flight.sent_at = time.monotonic()
            return
        tx = self._sign(flight, flight.current.nonce, fees, to)
        try:
            broadcast(self.rpc, tx)
        except NonceUsed:
            return  # one of the earlier attempts was mined: the next poll sees its receipt
        log.warning("replaced stuck tx=%s with tx=%s (base fee %d)", flight.current.tx_hash, tx.tx_hash, base)
        self._record(flight, tx)

    def _nonce_taken(self, flight: _Flight, order: tuple[str, bytes] | None, to: str | None) -> None:
        """The nonce was used by a transaction that is none of ours for this call."""
        receipts = self.rpc.batch([("eth_getTransactionReceipt", [tx.tx_hash]) for tx in flight.attempts])
        if any(isinstance(r, dict) for r in receipts):
            return  # mined after all: the next poll sees it
        if order is not None and self.view.is_checked_out(*order):
            raise _CheckedOutElsewhere
        log.warning("the nonce of tx=%s was used by another transaction; signing again", flight.current.tx_hash)
        self._send_new(flight, to)

    # ------------------------------------------------------------------ results

    def _explain_failure(
        self, receipt: dict[str, Any], flight: _Flight, sender: str, what: str = "checkout"
    ) -> MerchantError:
        """The refusal of a mined, reverted transaction (its call replayed at its block)."""
        request = {"from": sender, "to": receipt["to"], "data": flight.data, "gas": hex(flight.gas)}
        try:
            self.rpc.call("eth_call", [request, receipt["blockNumber"]])
        except RpcError as exc:
            problem = self.view.refusal(exc, merchant=sender, what=what)
            if isinstance(problem, MerchantError) and not isinstance(problem, RpcError):
                return problem
        return TransactionReverted(f"transaction {receipt['transactionHash']} reverted")

    def _await_earlier(self, found: abi.CheckedOutLog, order_ref: str, wanted: int, deadline: float) -> Checkout:
        """An earlier checkout of this order, once it has the confirmations."""
        while True:
            head = int(self.rpc.call("eth_blockNumber"), 16)
            if head - found.block_number >= wanted and self._canonical(found.block_number, found.block_hash):
                return self._checkout_from(found, order_ref, replayed=True, head=head)
            if time.monotonic() >= deadline:
                raise NotFinal(f"order {order_ref!r} is checked out in {found.tx_hash} but not final yet")
            time.sleep(self.poll_interval)
            again = self.view.find_checkout(found.merchant, found.order_id)
            if again is None:
                raise ChainUnavailable(f"order {order_ref!r} vanished from the chain (reorg); retry")
            found = again

    def _checkout_from(
        self, event: abi.CheckedOutLog, order_ref: str, *, replayed: bool, head: int | None = None
    ) -> Checkout:
        if head is None:
            head = int(self.rpc.call("eth_blockNumber"), 16)
        return Checkout(
            order_ref=order_ref,
            order_id=event.order_id,
            merchant=event.merchant,
            customer=event.customer,
            sale_amount=event.sale_amount,
            points=event.points,
            pool_in=event.pool_in,
            tx_hash=event.tx_hash,
            block_number=event.block_number,
            block_hash=event.block_hash,
            confirmations=head - event.block_number,
            replayed=replayed,
            asset_decimals=self.view.asset_decimals,
        )

    def _find_spend(self, permission: SpendPermission) -> Spend | None:
        """The spend this permission already made, or None; `SpendReplayed` when the order was
        spent with another amount (another permission)."""
        found = permission.find_on_chain(self.view)
        if found is None:
            return None
        if found[0] != permission.points:
            raise SpendReplayed(
                f"holder {permission.holder} already spent {format_units(found[0], POINT_DECIMALS)} points for order id"
                f" 0x{permission.order_id.hex()} at this merchant (transaction {found[1]})"
            )
        return Spend(
            holder=permission.holder,
            merchant=permission.merchant,
            order_id=permission.order_id,
            points=found[0],
            tx_hash=found[1],
            block_number=found[2],
            replayed=True,
        )


class _CheckedOutElsewhere(Exception):
    """The order was checked out by a transaction that is not one of this call's."""
