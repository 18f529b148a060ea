"""SIGKILL the gateway again and again while 200 checkouts go through it: every idempotency key ends
with exactly one checkout on chain, none is lost, and every one's webhook arrives.

Kills come at random moments (the test's SIGKILL) and at each named failpoint of the gateway
(it SIGKILLs itself right after a commit or a send, before what follows), so every window between
two durable steps is hit, not only the likely ones; a last kill hits the gateway while a standby
waits for its lock, and the standby finishes the work. The chain is a real anvil mining a block every
0.1 s besides automine, with one confirmation required; the outbox is a real PostgreSQL database.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests

from greenpoints.orders import order_id
from merchant.migrate import libpq_url
from tests.merchant.gateway import TOKEN, WEBHOOK_SECRET, Chain, Gateway, WebhookReceiver, chain, database
from tests.merchant.helpers import checkout_events, rpc

__all__ = ["chain", "database"]  # module fixtures

CHECKOUTS = 200
RANDOM_KILLS = 10
FAILPOINTS = ("accepted:4", "signed", "broadcast", "mined:3", "final:5", "delivered:3")


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver().start()
    yield server
    server.stop()


@pytest.fixture
def miner(chain: Chain) -> Iterator[None]:
    """A block every 0.1 s, so that one confirmation comes even when nothing is sent."""
    stop = threading.Event()

    def mine() -> None:
        session = requests.Session()
        while not stop.wait(0.1):
            session.post(
                chain.anvil.url, json={"jsonrpc": "2.0", "id": 1, "method": "evm_mine", "params": []}, timeout=5
            )

    thread = threading.Thread(target=mine, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join()


def _requests(chain: Chain) -> list[tuple[str, dict[str, str]]]:
    customers = chain.w3.eth.accounts[5:15]
    return [
        (
            f"crash-key-{i}",
            {"customer": customers[i % len(customers)], "amount": f"{100 + i}.{i % 100:02d}", "order_ref": f"K-{i}"},
        )
        for i in range(CHECKOUTS)
    ]


class Poster:
    """Posts checkouts in a thread while the gateway lives; remembers every answered one."""

    def __init__(self, gateway: Gateway, todo: list[tuple[str, dict[str, str]]], answered: dict[str, Any]) -> None:
        self.gateway, self.todo, self.answered = gateway, todo, answered
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        session = requests.Session()
        for key, body in self.todo:
            if self.stop.is_set():
                return
            try:
                response = session.post(
                    self.gateway.url + "/v1/checkouts",
                    json=body,
                    headers={"Idempotency-Key": key, "Authorization": f"Bearer {TOKEN}"},
                    timeout=5,
                )
            except requests.RequestException:
                return  # killed: the rest waits for the next run
            assert response.status_code in (200, 202), response.text
            self.answered[key] = response.json()
            time.sleep(0.02)


def test_sigkill_during_200_checkouts_loses_and_doubles_none(
    chain: Chain, database: str, receiver: WebhookReceiver, miner: None, tmp_path: Path
) -> None:
    gateway = Gateway(
        chain,
        database,
        tmp_path,
        gateway_confirmations="1",
        gateway_webhook_url=receiver.url,
        gateway_webhook_secret=WEBHOOK_SECRET,
        gateway_webhook_backoff="0.1",
        gateway_batch_size="16",
        forked=True,
    )
    work = _requests(chain)
    rng = random.Random(11)
    answered: dict[str, Any] = {}
    runs: list[str | None] = [None] * RANDOM_KILLS + list(FAILPOINTS)
    rng.shuffle(runs)
    per_run = CHECKOUTS // len(runs) + 1
    external_kills = self_kills = 0
    started = time.monotonic()
    for number, failpoint in enumerate(runs):
        gateway.start(failpoint=failpoint)
        print(f"run {number} (failpoint {failpoint}): {len(answered)} answered so far", flush=True)
        # This run's new checkouts, and again those never answered before (their first answer was lost).
        todo = [(k, b) for k, b in work[: (number + 1) * per_run] if k not in answered]
        poster = Poster(gateway, todo, answered)
        poster.thread.start()
        deadline = time.monotonic() + (rng.uniform(0.2, 1.5) if failpoint is None else 6.0)
        while time.monotonic() < deadline and gateway.alive():
            time.sleep(0.01)
        if gateway.alive():
            gateway.kill()
            external_kills += 1
        else:
            self_kills += 1
            print(f"run {number} killed itself at {failpoint}", flush=True)
        poster.stop.set()
        poster.thread.join(10)
    assert external_kills >= RANDOM_KILLS and external_kills + self_kills == len(runs)
    assert self_kills >= 3, "the failpoints should have fired in most of their runs"

    print(f"{len(runs)} runs in {time.monotonic() - started:.1f} s", flush=True)
    # A last run without faults, with a standby beside it: nothing answered before may be missing;
    # everything is posted again through the standby's HTTP; the first one dies on the way and the
    # standby takes over and finishes.
    gateway.start()
    standby = gateway.sibling().start()
    try:
        assert requests.get(standby.url + "/healthz", timeout=5).json()["worker"] == "standby"
        for key in answered:
            assert standby.get(key).status_code == 200, f"{key} was answered but is lost"

        def post_and_wait(item: tuple[str, dict[str, str]]) -> dict[str, Any]:
            key, body = item
            response = standby.post(body, key)
            assert response.status_code in (200, 202), response.text
            return standby.wait_state(key, {"final", "failed"}, timeout=90)

        with ThreadPoolExecutor(max_workers=8) as pool:
            waiting = pool.map(post_and_wait, work)
            time.sleep(rng.uniform(0.3, 0.8))
            gateway.kill()
            finals = dict(zip([k for k, _ in work], waiting, strict=True))
        assert requests.get(standby.url + "/healthz", timeout=5).json()["worker"] == "running"
        deadline = time.monotonic() + 60
        while len({r.event_id for r in receiver.delivered()}) < CHECKOUTS and time.monotonic() < deadline:
            time.sleep(0.1)
        print(f"finished after {time.monotonic() - started:.1f} s", flush=True)
    finally:
        standby.stop()
        gateway.close()

    assert {s["state"] for s in finals.values()} == {"final"}, [s for s in finals.values() if s["state"] != "final"]
    merchant = next(iter(finals.values()))["merchant"]
    events = checkout_events(chain.w3, chain.deployment.pool, merchant)
    by_order = {e.order_id: e for e in events}
    assert len(events) == len(by_order) == CHECKOUTS, "an order was checked out twice, or one is missing"
    for key, body in work:
        event = by_order[order_id(body["order_ref"])]
        assert (event.customer, event.sale_amount) == (body["customer"], int(body["amount"].replace(".", "")) * 10**4)
        assert finals[key]["tx_hash"] == event.tx_hash and finals[key]["block_number"] == event.block_number
    # Every webhook arrived, signed, with one event id per checkout (a redelivery repeats it exactly).
    deliveries = receiver.delivered()
    assert all(d.verified for d in deliveries)
    by_event: dict[str, set[bytes]] = {}
    for d in deliveries:
        by_event.setdefault(d.event_id, set()).add(d.body)
    assert len(by_event) == CHECKOUTS and all(len(bodies) == 1 for bodies in by_event.values())
    with psycopg.connect(libpq_url(database)) as conn:
        undelivered = conn.execute("SELECT count(*) FROM gateway_webhooks WHERE delivered_at IS NULL").fetchone()
        sends = conn.execute("SELECT min(broadcasts), count(*) FROM gateway_checkouts").fetchone()
    assert undelivered == (0,) and sends is not None and sends[1] == CHECKOUTS
    # The merchant's transactions: one per checkout, plus at most a few duplicates that the pool refused.
    nonce = int(rpc(chain.w3, "eth_getTransactionCount", [merchant, "latest"]), 16)
    assert CHECKOUTS <= nonce - 2 <= CHECKOUTS + len(runs) * 16  # the deployment used nonces 0 and 1
