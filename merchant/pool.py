"""Read-only access to the pool for the merchant tools: views, quotes, earlier checkouts, and
turning a revert into the typed refusal it stands for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils import is_address, is_checksum_address, to_checksum_address

from greenpoints.deployment import Deployment
from greenpoints.revert import decode_custom_error
from merchant import abi
from merchant.errors import InputError, InvalidCustomer, MerchantInactive, NotAMerchant, Refusal, refusal_from_revert
from merchant.rpc import Rpc, RpcError, raise_errors

ZERO_ADDRESS = "0x" + "0" * 40
# Nodes refuse eth_getLogs over too many blocks; a refused range is searched in windows this big.
LOG_WINDOW = 10_000


@dataclass(frozen=True, slots=True)
class MerchantInfo:
    """`merchant(address)`: skim rate, daily cap (points), active, points minted today (UTC)."""

    rate_bps: int
    daily_cap: int
    active: bool
    minted_today: int

    @property
    def registered(self) -> bool:
        return self.rate_bps != 0


@dataclass(frozen=True, slots=True)
class CheckoutState:
    """The pool's and the asset's state a checkout depends on."""

    paused: bool
    merchant: MerchantInfo
    balance: int  # the merchant's reserve asset
    allowance: int  # the merchant's allowance to the pool
    global_remaining: int  # points all merchants may still mint today (UTC)


def checked_address(value: object, what: str = "customer") -> str:
    """`value` as a checksummed address; refuses non-addresses and wrong mixed-case checksums."""
    if not isinstance(value, str) or not is_address(value):
        raise InputError(f"the {what} must be a 0x-prefixed 20-byte hex address (got {value!r})")
    body = value.removeprefix("0x")
    if body != body.lower() and body != body.upper() and not is_checksum_address(value):
        raise InputError(f"the {what} address {value} has a wrong checksum (mixed case that does not match)")
    address = to_checksum_address(value)
    if address == ZERO_ADDRESS:
        raise InvalidCustomer(f"the {what} is the zero address")
    return address


class PoolView:
    """The pool of `deployment` on the node behind `rpc`."""

    def __init__(self, rpc: Rpc, deployment: Deployment) -> None:
        self.rpc = rpc
        self.deployment = deployment
        self.pool = to_checksum_address(deployment.pool)
        self.asset = to_checksum_address(deployment.asset)
        self.points_token = to_checksum_address(deployment.points_token)
        self.asset_decimals = deployment.asset_decimals
        self.chain_id = deployment.chain_id

    # ------------------------------------------------------------------ calls

    def call_request(
        self, fn: abi.Function, *args: Any, to: str | None = None, block: str = "latest"
    ) -> tuple[str, list[Any]]:
        """The `eth_call` request of `fn(*args)` on the pool (or `to`), for a batch."""
        return "eth_call", [{"to": to or self.pool, "data": fn.data(*args)}, block]

    def call(self, fn: abi.Function, *args: Any, to: str | None = None, block: str = "latest") -> Any:
        method, params = self.call_request(fn, *args, to=to, block=block)
        return fn.result(self.rpc.call(method, params))

    def merchant(self, address: str) -> MerchantInfo:
        return MerchantInfo(*self.call(abi.MERCHANT, address))

    def is_checked_out(self, merchant: str, order_id: bytes) -> bool:
        return bool(self.call(abi.IS_CHECKED_OUT, merchant, order_id))

    def quote(self, merchant: str, sale_amount: int) -> tuple[int, int]:
        """(points, pool_in) of a checkout by `merchant` now; a refusal when it is not active."""
        try:
            points, pool_in = self.call(abi.QUOTE_CHECKOUT, merchant, sale_amount)
        except RpcError as exc:
            raise self.refusal(exc, merchant=merchant, what="quote") from None
        return int(points), int(pool_in)

    def checkout_state(self, merchant: str) -> CheckoutState:
        """Everything a checkout by `merchant` depends on, read in one round trip."""
        calls = [
            (abi.PAUSED, self.call_request(abi.PAUSED)),
            (abi.MERCHANT, self.call_request(abi.MERCHANT, merchant)),
            (abi.BALANCE_OF, self.call_request(abi.BALANCE_OF, merchant, to=self.asset)),
            (abi.ALLOWANCE, self.call_request(abi.ALLOWANCE, merchant, self.pool, to=self.asset)),
            (abi.GLOBAL_DAILY_CAP, self.call_request(abi.GLOBAL_DAILY_CAP)),
            (abi.GLOBAL_MINTED_TODAY, self.call_request(abi.GLOBAL_MINTED_TODAY)),
        ]
        raw = raise_errors(self.rpc.batch([request for _, request in calls]))
        paused, info, balance, allowance, cap, minted = (fn.result(r) for (fn, _), r in zip(calls, raw, strict=True))
        return CheckoutState(
            paused=bool(paused),
            merchant=MerchantInfo(*info),
            balance=int(balance),
            allowance=int(allowance),
            global_remaining=max(int(cap) - int(minted), 0),
        )

    # ------------------------------------------------------------------ refusals

    def refusal(self, exc: RpcError, *, merchant: str | None = None, what: str = "checkout") -> Refusal | RpcError:
        """The typed refusal behind a reverted call or estimate; the error itself if it is no revert."""
        data = exc.revert_data
        decoded = decode_custom_error(data) if data and len(data) >= 10 else None
        if decoded is None:
            return exc
        name, args = decoded
        if name == "PoolUnknownMerchant" and merchant is not None:
            return self.not_active(merchant, self.merchant(merchant))
        return refusal_from_revert(name, args, asset_decimals=self.asset_decimals, what=what)

    def not_active(self, merchant: str, info: MerchantInfo) -> Refusal:
        if info.registered:
            return MerchantInactive(f"merchant {merchant} is registered but inactive (revoked by the operator)")
        return NotAMerchant(f"{merchant} is not a merchant of pool {self.pool}")

    # ------------------------------------------------------------------ earlier checkouts

    def find_checkout(self, merchant: str, order_id: bytes) -> abi.CheckedOutLog | None:
        """The `CheckedOut` event of `(merchant, order_id)` on the canonical chain, if any."""
        topics = [abi.CHECKED_OUT_TOPIC, abi.address_topic(merchant), None, "0x" + order_id.hex()]
        first = self.deployment.deployment_block
        head = int(self.rpc.call("eth_blockNumber"), 16)
        try:
            logs = self._logs(topics, first, head)
        except RpcError:
            logs = []
            # The node refused the whole range: search backwards in windows (recent orders first).
            high = head
            while high >= first and not logs:
                low = max(first, high - LOG_WINDOW + 1)
                logs = self._logs(topics, low, high)
                high = low - 1
        found = [abi.decode_checked_out(log) for log in logs if not log.get("removed")]
        return found[-1] if found else None

    def _logs(self, topics: list[Any], first: int, last: int) -> list[dict[str, Any]]:
        flt = {"address": self.pool, "topics": topics, "fromBlock": hex(first), "toBlock": hex(last)}
        logs: list[dict[str, Any]] = self.rpc.call("eth_getLogs", [flt])
        return logs
