"""The gateway's request and response documents (pydantic), with the examples of its OpenAPI document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr
from pydantic.json_schema import JsonDict

from greenpoints.orders import MAX_ORDER_REF_LENGTH
from merchant.gateway.problems import PROBLEM_JSON

EXAMPLE_REQUEST: JsonDict = {
    "customer": "0x976EA74026E726554dB657fA54763abd0C3a0aa9",
    "amount": "12000.00",
    "order_ref": "A-1001",
}
EXAMPLE_CHECKOUT: JsonDict = {
    "idempotency_key": "a1001-attempt-1",
    "state": "final",
    "order_ref": "A-1001",
    "order_id": "0x06883ad7665835bf9eee68f58afc98e1c2fa28756c1dd1d32643c73542f37da0",
    "merchant": "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
    "customer": "0x976EA74026E726554dB657fA54763abd0C3a0aa9",
    "amount": "12000",
    "points": "1260",
    "pool_in": "540",
    "tx_hash": "0x47b8fe257ce060f24182efdbfcdcbe6740b3b6356eec31b9cceae225662f8587",
    "nonce": 2,
    "block_number": 12,
    "block_hash": "0xb7ff039fd6ec6a95010c5458765cef4af8eee36dd6108f9119a056894a65f11d",
    "error": None,
    "accepted_at": "2026-12-03T12:00:00.125000Z",
    "sent_at": "2026-12-03T12:00:00.180000Z",
    "finished_at": "2026-12-03T12:00:01.020000Z",
}


class CheckoutRequest(BaseModel):
    """A sale to check out."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE_REQUEST]})

    customer: StrictStr = Field(description="the customer's address (0x + 40 hex; a mixed-case one must checksum)")
    amount: StrictStr = Field(
        description="the sale amount in whole units of the reserve asset, as a decimal string (never a JSON number)"
    )
    order_ref: StrictStr = Field(
        description=f"the merchant's order reference, 1 to {MAX_ORDER_REF_LENGTH} characters, no control characters;"
        " the on-chain order id is keccak256 of its UTF-8 bytes"
    )


class CheckoutError(BaseModel):
    code: str
    message: str


class Checkout(BaseModel):
    """A checkout and where it stands: accepted → sent → final | failed."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_CHECKOUT]})

    idempotency_key: str
    state: str = Field(description="accepted, sent, final or failed")
    order_ref: str
    order_id: str
    merchant: str
    customer: str
    amount: str
    points: str | None = Field(description="points minted (decimal string) once mined")
    pool_in: str | None = Field(description="reserve asset paid into the pool (decimal string) once mined")
    tx_hash: str | None
    nonce: int | None
    block_number: int | None
    block_hash: str | None
    error: CheckoutError | None = Field(description="why a failed checkout failed (code and message)")
    accepted_at: str
    sent_at: str | None
    finished_at: str | None


class ProblemDocument(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[dict[str, str]] | None = None


PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"model": ProblemDocument, "content": {PROBLEM_JSON: {}}, "description": text}
    for code, text in {
        400: "no or a malformed Idempotency-Key header",
        401: "no or a wrong bearer token",
        404: "no checkout with that idempotency key",
        409: "another idempotency key holds a live checkout of this order reference",
        422: "a malformed body or field, or the key reused with a different request",
    }.items()
}
