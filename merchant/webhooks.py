"""Webhook signatures: how the gateway signs each delivery and how a receiver checks one.

Each delivery carries `Greenpoints-Signature: t=<unix seconds>,v1=<hex>` where the hex is
HMAC-SHA256 under the shared secret of `<t>.` followed by the exact body bytes, and
`Greenpoints-Event-Id`, the same for every retry of one event. A receiver:

1. recomputes the HMAC over the raw body it received (before any JSON parsing) and compares it
   in constant time with each `v1` of the header;
2. refuses a timestamp further than `tolerance` seconds (five minutes) from its own clock, so a
   captured delivery cannot be replayed later;
3. remembers the event ids it processed, so a retry (or a replay inside the window) does nothing.

`verify` does 1 and 2; a receiver in another language follows the same three steps.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Greenpoints-Signature"
EVENT_ID_HEADER = "Greenpoints-Event-Id"
TOLERANCE = 300


class WebhookSignatureError(ValueError):
    """A delivery whose signature does not verify: refuse it (HTTP 400)."""


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of `<timestamp>.<body>` under `secret`."""
    return hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_header(secret: bytes, timestamp: int, body: bytes) -> str:
    """The `Greenpoints-Signature` header value of a delivery of `body` signed at `timestamp`."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(
    secret: bytes, header: str | None, body: bytes, *, now: float | None = None, tolerance: int = TOLERANCE
) -> int:
    """Check a delivery; its timestamp when the signature is right and fresh, else
    `WebhookSignatureError` saying what is wrong."""
    if not header:
        raise WebhookSignatureError(f"no {SIGNATURE_HEADER} header")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        raise WebhookSignatureError(f"malformed {SIGNATURE_HEADER} header")
    expected = signature(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise WebhookSignatureError("signature does not match the body")
    clock = time.time() if now is None else now
    if abs(clock - timestamp) > tolerance:
        raise WebhookSignatureError(f"timestamp {timestamp} is more than {tolerance} s from now")
    return timestamp
