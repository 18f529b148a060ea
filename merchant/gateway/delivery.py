"""Webhook delivery: POST each finished checkout's event to the merchant, signed, until it answers 2xx.

Deliveries are at least once: an event is marked delivered only after a 2xx answer, so a crash
in between delivers it again, with the same `Greenpoints-Event-Id` (receivers deduplicate on it).
A failed attempt (no answer, timeout, non-2xx) is retried after `backoff × 2^attempts` seconds
(±10 %, at most an hour) until `max_attempts`. Each attempt is signed at its own time, so a late
retry still passes a receiver's freshness check.
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import urllib3
from psycopg_pool import ConnectionPool

from merchant.gateway import outbox
from merchant.gateway.failpoints import Failpoints
from merchant.gateway.outbox import CheckoutRow, Scope
from merchant.gateway.resource import render
from merchant.webhooks import EVENT_ID_HEADER, SIGNATURE_HEADER, signature_header

log = logging.getLogger("merchant.gateway.webhooks")

MAX_DELAY = 3600.0


def event_builder(*, scope: Scope, asset_decimals: int) -> Callable[[CheckoutRow], tuple[str, str, str]]:
    """The webhook of a finished checkout: (event id, event type, exact JSON body).

    The event id is derived from what the event is about (chain, pool, merchant, idempotency key,
    final or failed), so it is the same through every retry and restart, and unique across
    gateways and databases: a receiver deduplicates on it."""

    def build(row: CheckoutRow) -> tuple[str, str, str]:
        event_type = f"checkout.{row.state}"
        about = f"{scope.chain_id}:{scope.pool.lower()}:{scope.merchant.lower()}:{row.idempotency_key}:{row.state}"
        event_id = "evt_" + hashlib.sha256(about.encode()).hexdigest()[:32]
        body = {
            "id": event_id,
            "type": event_type,
            "created_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "data": render(row, merchant=scope.merchant, asset_decimals=asset_decimals),
        }
        return event_id, event_type, outbox.dumps(body)

    return build


def retry_delay(attempts: int, backoff: float, rng: random.Random) -> float:
    """Seconds before the next attempt after `attempts` failed ones (exponential, jittered, capped)."""
    delay = min(backoff * 2 ** max(attempts - 1, 0), MAX_DELAY)
    return delay * rng.uniform(0.9, 1.1)


class WebhookDeliverer:
    """Delivers due webhooks from the outbox in its own thread."""

    def __init__(
        self,
        *,
        db: ConnectionPool[Any],
        url: str,
        secret: bytes,
        timeout: float,
        max_attempts: int,
        backoff: float,
        poll_interval: float,
        failpoints: Failpoints,
    ) -> None:
        self.db = db
        self.url = url
        self._secret = secret
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.poll_interval = poll_interval
        self.failpoints = failpoints
        self.wake = threading.Event()
        self.stop_event = threading.Event()
        self._http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(total=timeout))
        self._rng = random.Random()
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"WebhookDeliverer(url={self.url!r})"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        self.wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self.stop_event.is_set():
            try:
                delivered = self.deliver_one()
            except Exception as exc:  # the database or the network: log and keep going
                log.warning("webhook delivery round failed: %s", exc)
                delivered = False
                self.stop_event.wait(1.0)
            if not delivered:
                self.wake.wait(self.poll_interval)
                self.wake.clear()

    def deliver_one(self) -> bool:
        """Attempt the next due webhook; False when none is due."""
        with self.db.connection() as conn:
            due = outbox.claim_due_webhook(conn)
            if due is None:
                return False
            body = due.payload.encode()
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "greenpoints-gateway",
                EVENT_ID_HEADER: due.event_id,
                SIGNATURE_HEADER: signature_header(self._secret, int(time.time()), body),
            }
            error: str | None = None
            try:
                response = self._http.request("POST", self.url, body=body, headers=headers)
                if not 200 <= response.status < 300:
                    error = f"HTTP {response.status}"
            except urllib3.exceptions.HTTPError as exc:
                error = exc.__class__.__name__
            if error is None:
                self.failpoints.hit("delivered")
                outbox.webhook_delivered(conn, due.id)
                log.info("delivered webhook %s (%s)", due.event_id, due.event_type)
                return True
            attempts = due.attempts + 1
            retry_in = None if attempts >= self.max_attempts else retry_delay(attempts, self.backoff, self._rng)
            outbox.webhook_failed(conn, due.id, error=error, retry_in=retry_in)
            if retry_in is None:
                log.error("gave up on webhook %s after %d attempts: %s", due.event_id, attempts, error)
            else:
                log.warning(
                    "webhook %s attempt %d failed (%s): retrying in %.1f s", due.event_id, attempts, error, retry_in
                )
            return True
