"""A holder's signed EIP-712 `Spend` permission, as the JSON file `merchant spend-for` reads.

The file holds the signed message with its signature (the fields of `greenpoints.permission`):

    {"holder": "0x…", "merchant": "0x…", "points": "12500000000000000000",
     "orderId": "0x…32 bytes…", "nonce": "0", "deadline": "1767225600",
     "signature": "0x…65 bytes…",
     "chainId": 31337, "verifyingContract": "0x…pool…", "orderRef": "S-1001"}

`points` are base units (18 decimals: the example is 12.5 points) as a decimal string; `nonce`
and `deadline` (unix seconds) are decimal strings or JSON integers. `chainId` and
`verifyingContract` (the pool) are optional and checked when present; `orderRef` is optional and,
when present, must be the reference `orderId` was derived from.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount

from greenpoints.orders import OrderRefError, order_id
from greenpoints.permission import SPEND_TYPES, spend_domain
from merchant import abi
from merchant.errors import ChainUnavailable, InputError, InvalidPermission, PermissionExpired
from merchant.pool import PoolView, checked_address

_FIELDS = frozenset(
    {
        "holder",
        "merchant",
        "points",
        "orderId",
        "nonce",
        "deadline",
        "signature",
        "chainId",
        "verifyingContract",
        "orderRef",
    }
)
_REQUIRED = ("holder", "merchant", "points", "orderId", "nonce", "deadline", "signature")


def _uint(value: Any, name: str, *, strings_only: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, str | int) or (strings_only and not isinstance(value, str)):
        kind = "a decimal string" if strings_only else "a decimal string or an integer"
        raise InputError(f"permission field {name!r} must be {kind} (got {value!r})")
    text = str(value)
    if not text.isdigit() or not text.isascii():
        raise InputError(f"permission field {name!r} must be a non-negative integer (got {value!r})")
    number = int(text)
    if number >= 2**256:
        raise InputError(f"permission field {name!r} does not fit in uint256")
    return number


def _hex_bytes(value: Any, name: str, length: int | None) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise InputError(f"permission field {name!r} must be 0x-prefixed hex")
    try:
        raw = bytes.fromhex(value[2:])
    except ValueError:
        raise InputError(f"permission field {name!r} is not hex") from None
    if length is not None and len(raw) != length:
        raise InputError(f"permission field {name!r} must be {length} bytes (got {len(raw)})")
    return raw


@dataclass(frozen=True)
class SpendPermission:
    """A signed `Spend` permission: `holder` lets `merchant` burn `points` for `order_id`."""

    holder: str
    merchant: str
    points: int
    order_id: bytes
    nonce: int
    deadline: int
    signature: bytes
    chain_id: int | None = None
    verifying_contract: str | None = None
    order_ref: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> SpendPermission:
        if not isinstance(data, dict):
            raise InputError("a permission must be a JSON object")
        unknown = sorted(set(data) - _FIELDS)
        if unknown:
            raise InputError(f"unknown permission field {unknown[0]!r}")
        missing = [name for name in _REQUIRED if name not in data]
        if missing:
            raise InputError(f"the permission lacks field {missing[0]!r}")
        oid = _hex_bytes(data["orderId"], "orderId", 32)
        order_ref = data.get("orderRef")
        if order_ref is not None:
            try:
                derived = order_id(order_ref)
            except OrderRefError as exc:
                raise InputError(f"permission field 'orderRef': {exc}") from None
            if derived != oid:
                raise InputError(f"permission orderId is not the id of orderRef {order_ref!r}")
        chain_id = data.get("chainId")
        return cls(
            holder=checked_address(data["holder"], "holder"),
            merchant=checked_address(data["merchant"], "merchant"),
            points=_uint(data["points"], "points", strings_only=True),
            order_id=oid,
            nonce=_uint(data["nonce"], "nonce"),
            deadline=_uint(data["deadline"], "deadline"),
            signature=_hex_bytes(data["signature"], "signature", None),
            chain_id=None if chain_id is None else _uint(chain_id, "chainId"),
            verifying_contract=(
                None
                if data.get("verifyingContract") is None
                else checked_address(data["verifyingContract"], "verifyingContract")
            ),
            order_ref=order_ref,
        )

    @classmethod
    def load(cls, path: Path) -> SpendPermission:
        try:
            text = path.read_text()
        except OSError as exc:
            raise InputError(f"cannot read permission file {path}: {exc.strerror or exc.__class__.__name__}") from None
        try:
            data = json.loads(text)
        except ValueError:
            raise InputError(f"permission file {path} is not JSON") from None
        return cls.from_json(data)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "holder": self.holder,
            "merchant": self.merchant,
            "points": str(self.points),
            "orderId": "0x" + self.order_id.hex(),
            "nonce": str(self.nonce),
            "deadline": str(self.deadline),
            "signature": "0x" + self.signature.hex(),
        }
        if self.chain_id is not None:
            data["chainId"] = self.chain_id
        if self.verifying_contract is not None:
            data["verifyingContract"] = self.verifying_contract
        if self.order_ref is not None:
            data["orderRef"] = self.order_ref
        return data

    # ------------------------------------------------------------------ checks

    def check_for(self, view: PoolView, merchant: str) -> None:
        """Refuse a permission made for another merchant, chain or pool."""
        if self.merchant != merchant:
            raise InvalidPermission(f"the permission is for merchant {self.merchant}, this key is {merchant}")
        if self.chain_id is not None and self.chain_id != view.chain_id:
            raise InvalidPermission(
                f"the permission is for chain {self.chain_id}, the deployment is chain {view.chain_id}"
            )
        if self.verifying_contract is not None and self.verifying_contract != view.pool:
            raise InvalidPermission(f"the permission is for pool {self.verifying_contract}, not {view.pool}")

    def check_on_chain(self, view: PoolView) -> None:
        """Refuse an expired permission, a used nonce and (for key holders) a wrong signature."""
        latest = view.rpc.call("eth_getBlockByNumber", ["latest", False])
        now = int(latest["timestamp"], 16)
        if self.deadline < now:
            raise PermissionExpired(f"the spend permission expired at {self.deadline} (chain time is {now})")
        expected = int(view.call(abi.NONCES, self.holder))
        if self.nonce != expected:
            raise InvalidPermission(
                f"the permission's nonce {self.nonce} is not the holder's next ({expected}): "
                "it was used or cancelled; ask the holder to sign a new one"
            )
        if view.rpc.call("eth_getCode", [self.holder, "latest"]) in ("0x", None):
            signer = self.recover(view.chain_id, view.pool)
            if signer != self.holder:
                raise InvalidPermission(f"the permission is signed by {signer}, not by holder {self.holder}")

    def recover(self, chain_id: int, pool: str) -> str | None:
        """The address that signed this permission for `pool` on `chain_id` (None: unreadable)."""
        message = encode_typed_data(
            domain_data=spend_domain(chain_id, pool), message_types=SPEND_TYPES, message_data=self._message()
        )
        try:
            return str(Account.recover_message(message, signature=self.signature))
        except (ValueError, TypeError):
            return None

    def find_on_chain(self, view: PoolView) -> tuple[int, str, int] | None:
        """(points, tx hash, block) of this holder's spend at this merchant for this order, if any
        (the points from `spentPoints`, where it was mined from its `Spent` event)."""
        points = int(view.call(abi.SPENT_POINTS, self.merchant, self.holder, self.order_id))
        if points == 0:
            return None
        topics = [
            abi.SPENT_TOPIC,
            abi.address_topic(self.holder),
            abi.address_topic(self.merchant),
            "0x" + self.order_id.hex(),
        ]
        flt = {"address": view.pool, "topics": topics, "fromBlock": hex(view.deployment.deployment_block)}
        logs = [log for log in view.rpc.call("eth_getLogs", [flt]) if not log.get("removed")]
        if not logs:
            raise ChainUnavailable("the spend is recorded but its Spent event is not visible yet; retry")
        return points, logs[-1]["transactionHash"], int(logs[-1]["blockNumber"], 16)

    def _message(self) -> dict[str, Any]:
        return {
            "holder": self.holder,
            "merchant": self.merchant,
            "points": self.points,
            "orderId": self.order_id,
            "nonce": self.nonce,
            "deadline": self.deadline,
        }


def make_permission(
    signer: LocalAccount,
    *,
    chain_id: int,
    pool: str,
    merchant: str,
    points: int,
    order_ref: str,
    nonce: int,
    deadline: int,
    holder_address: str | None = None,
) -> SpendPermission:
    """A permission signed with `signer`'s key for holder `signer` itself, or for `holder_address`
    (a contract wallet `signer` signs for). A wallet does this in the DApp; tests and scripts here."""
    unsigned = SpendPermission(
        holder=checked_address(holder_address or signer.address, "holder"),
        merchant=checked_address(merchant, "merchant"),
        points=points,
        order_id=order_id(order_ref),
        nonce=nonce,
        deadline=deadline,
        signature=b"",
        chain_id=chain_id,
        verifying_contract=checked_address(pool, "verifyingContract"),
        order_ref=order_ref,
    )
    signed = signer.sign_typed_data(
        domain_data=spend_domain(chain_id, unsigned.verifying_contract or pool),
        message_types=SPEND_TYPES,
        message_data=unsigned._message(),
    )
    return dataclasses.replace(unsigned, signature=bytes(signed.signature))
