"""The demo's traffic: customers checking out, transferring, spending and redeeming, top-ups and
tax withdrawals (the seeded workload of `greenpoints.simulate`), and every few steps a checkout
through the merchant gateway, as a merchant's backend would send it.
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from dataclasses import dataclass, field

import requests
from web3 import Web3

from greenpoints.deployment import Deployment
from greenpoints.errors import GreenPointsError
from greenpoints.simulate import Workload

log = logging.getLogger("greenpoints.demo.traffic")


@dataclass
class GatewayClient:
    """Where the gateway listens and the bearer token it accepts."""

    url: str
    token: str

    def checkout(self, customer: str, amount: str, order_ref: str) -> int:
        """POST one checkout with a fresh idempotency key; the HTTP status."""
        response = requests.post(
            f"{self.url}/v1/checkouts",
            json={"customer": customer, "amount": amount, "order_ref": order_ref},
            headers={"Authorization": f"Bearer {self.token}", "Idempotency-Key": str(uuid.uuid4())},
            timeout=10,
        )
        return response.status_code


@dataclass
class Traffic:
    """Runs the workload at `interval` seconds per action until `stop` is set."""

    w3: Web3
    deployment: Deployment
    customers: list[str]
    interval: float
    gateway: GatewayClient | None = None
    gateway_every: int = 5
    seed: int = 1
    stop: threading.Event = field(default_factory=threading.Event)
    counts: dict[str, int] = field(default_factory=dict)
    errors: int = 0

    def run(self) -> None:
        workload = Workload(self.w3, self.deployment, self.seed, customers=self.customers)
        rng = random.Random(self.seed)
        step = 0
        while not self.stop.wait(self.interval):
            step += 1
            try:
                if self.gateway is not None and step % self.gateway_every == 0:
                    sale = f"{rng.randint(10, 2_000)}.{rng.randint(0, 99):02d}"
                    status = self.gateway.checkout(rng.choice(self.customers), sale, f"WEB-{step:06d}")
                    action = "gateway checkout" if status in (200, 201, 202) else f"gateway checkout {status}"
                else:
                    action = workload.step()[0]
            except (GreenPointsError, requests.RequestException) as exc:
                self.errors += 1
                log.warning("traffic step %d failed: %s", step, str(exc).splitlines()[0])
                continue
            self.counts[action] = self.counts.get(action, 0) + 1

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="traffic", daemon=True)
        thread.start()
        return thread
