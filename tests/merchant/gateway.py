"""The gateway under test as a real process (`greenpoints merchant serve`), on a private anvil and
its own PostgreSQL database, with a webhook receiver in the test process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from web3 import Web3

from greenpoints import databases
from greenpoints.anvil import Anvil, free_port
from greenpoints.chain import connect
from greenpoints.compiler import ROOT
from greenpoints.deploy import deploy
from greenpoints.deployment import Deployment
from merchant.webhooks import EVENT_ID_HEADER, SIGNATURE_HEADER, WebhookSignatureError, verify
from tests.merchant.conftest import SOFA_STORE, anvil_key
from tests.resilience.conftest import greenpoints_command

TOKEN = "test-token-0123456789"
WEBHOOK_SECRET = "whsec-0123456789abcdef"


@dataclass
class Received:
    """One webhook delivery as the receiver saw it."""

    event_id: str
    body: bytes
    signature: str
    verified: bool
    answered: int
    at: float = field(default_factory=time.monotonic)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """An HTTP server recording deliveries; `fail_first[event_type] = n` answers 500 to the first n."""

    secret: bytes = WEBHOOK_SECRET.encode()
    received: list[Received] = field(default_factory=list)
    fail_first: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                header = self.headers.get(SIGNATURE_HEADER) or ""
                try:
                    verify(receiver.secret, header, body)
                    verified = True
                except WebhookSignatureError:
                    verified = False
                kind = json.loads(body).get("type", "") if verified else ""
                with receiver.lock:
                    left = receiver.fail_first.get(kind, 0)
                    if left:
                        receiver.fail_first[kind] = left - 1
                    status = 500 if left or not verified else 200
                    receiver.received.append(
                        Received(self.headers.get(EVENT_ID_HEADER, ""), body, header, verified, status)
                    )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def delivered(self) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.answered == 200]


@dataclass
class Chain:
    anvil: Anvil
    w3: Web3
    deployment: Deployment
    deployment_file: Path


@pytest.fixture(scope="module")
def chain(artifacts: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    """A private anvil with a fresh deployment for one test module."""
    with Anvil(accounts=20) as node:
        w3 = connect(node.url)
        deployment = deploy(w3, asset_decimals=6, log=lambda _: None)
        path = deployment.save(tmp_path_factory.mktemp("deployment") / "deployment.json")
        yield Chain(node, w3, deployment, path)


@pytest.fixture(scope="module")
def database(chain: Chain) -> Iterator[str]:
    """A fresh PostgreSQL database for one test module (the outbox migrates itself)."""
    name = f"gp_gateway_{uuid.uuid4().hex[:10]}"
    url = databases.create_database(name)
    try:
        yield url
    finally:
        databases.drop_database(name)


class Gateway:
    """`greenpoints merchant serve` as a subprocess; `start()` again after `kill()` to restart.

    With `forked`, each start forks from a fork server that imported the gateway once
    (tests/merchant/forkserver.py), so that restarts cost milliseconds instead of seconds."""

    def __init__(
        self, chain: Chain, database_url: str, log_dir: Path, *, forked: bool = False, **settings: str
    ) -> None:
        self.chain = chain
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.key = anvil_key(SOFA_STORE)
        env = {k: v for k, v in os.environ.items() if not k.startswith("GREENPOINTS_")}
        env.update(
            GREENPOINTS_RPC_URL=chain.anvil.url,
            GREENPOINTS_DEPLOYMENT=str(chain.deployment_file),
            GREENPOINTS_GATEWAY_DATABASE_URL=database_url,
            GREENPOINTS_GATEWAY_TOKENS=f"other-token-0123456789,{TOKEN}",
            GREENPOINTS_MERCHANT_KEY=self.key,
            GREENPOINTS_GATEWAY_POLL_INTERVAL="0.05",
        )
        env.update({f"GREENPOINTS_{k.upper()}": v for k, v in settings.items()})
        self.env = env
        self.log_dir = log_dir
        self.starts = 0
        self.name = "gateway"
        self.process: subprocess.Popen[bytes] | None = None
        self.session = requests.Session()
        self.forkserver: subprocess.Popen[str] | None = None
        self.pid: int | None = None
        if forked:
            self.forkserver = subprocess.Popen(
                [sys.executable, "-m", "tests.merchant.forkserver"],
                env=self.env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                cwd=ROOT,
            )
            assert self._ask(None) == "ready"

    def _ask(self, line: str | None) -> str:
        assert self.forkserver is not None and self.forkserver.stdin is not None and self.forkserver.stdout is not None
        if line is not None:
            self.forkserver.stdin.write(line + "\n")
            self.forkserver.stdin.flush()
        return self.forkserver.stdout.readline().strip()

    def sibling(self) -> Gateway:
        """A second gateway on the same chain, database and settings, on its own port (forked
        from the same fork server): a standby while this one holds the worker lock."""
        assert self.forkserver is not None, "siblings share a fork server"
        other = object.__new__(Gateway)
        other.__dict__.update(self.__dict__)
        other.port = free_port()
        other.url = f"http://127.0.0.1:{other.port}"
        other.session = requests.Session()
        other.pid = None
        other.name = f"{self.name}-sibling"
        return other

    def close(self) -> None:
        """Stop the gateway and the fork server."""
        self.stop()
        if self.forkserver is not None:
            assert self.forkserver.stdin is not None
            self.forkserver.stdin.close()
            self.forkserver.wait(timeout=10)
            self.forkserver = None

    def start(self, failpoint: str | None = None, wait: bool = True) -> Gateway:
        env = dict(self.env)
        if failpoint is not None:
            env["GREENPOINTS_GATEWAY_FAILPOINT"] = failpoint
        self.starts += 1
        log_path = self.log_dir / f"{self.name}-{self.starts}.log"
        if self.forkserver is not None:
            self.pid = int(self._ask(f"start {self.port} {log_path} {failpoint or '-'}"))
            if wait:
                self.wait_ready(may_die=failpoint is not None)
            return self
        log = log_path.open("wb")
        self.process = subprocess.Popen(
            [*greenpoints_command(), "merchant", "serve", "--port", str(self.port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        if wait:
            self.wait_ready(may_die=failpoint is not None)
        return self

    def wait_ready(self, timeout: float = 60.0, *, may_die: bool = False) -> bool:
        """Wait until the gateway answers /healthz (True); False when it died first and `may_die`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                if may_die:
                    return False
                raise AssertionError(f"the gateway exited:\n{self.logs()[-3000:]}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return True
            except requests.RequestException:
                time.sleep(0.05)
        raise AssertionError(f"the gateway did not answer within {timeout} s:\n{self.logs()[-3000:]}")

    def alive(self) -> bool:
        if self.forkserver is not None:
            return self.pid is not None and self._ask(f"poll {self.pid}") == "alive"
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind."""
        if self.forkserver is not None:
            if self.pid is not None:
                self._ask(f"kill {self.pid}")
            return
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.forkserver is not None:
            if self.pid is not None and self.alive():
                os.killpg(self.pid, signal.SIGTERM)
                deadline = time.monotonic() + 15
                while self.alive() and time.monotonic() < deadline:
                    time.sleep(0.05)
                self.kill()
            return
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def logs(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob(f"{self.name}-*.log")))

    def post(self, body: Any, key: str | None, *, token: str | None = TOKEN, **kwargs: Any) -> requests.Response:
        headers = {}
        if key is not None:
            headers["Idempotency-Key"] = key
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if isinstance(body, str | bytes):
            headers["Content-Type"] = "application/json"
            return self.session.post(self.url + "/v1/checkouts", data=body, headers=headers, timeout=10, **kwargs)
        return self.session.post(self.url + "/v1/checkouts", json=body, headers=headers, timeout=10, **kwargs)

    def get(self, key: str, token: str | None = TOKEN) -> requests.Response:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        return self.session.get(f"{self.url}/v1/checkouts/{key}", headers=headers, timeout=10)

    def wait_state(self, key: str, states: set[str], timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            body: dict[str, Any] = self.get(key).json()
            if body.get("state") in states:
                return body
            if time.monotonic() > deadline:
                raise AssertionError(f"checkout {key} is {body.get('state')}, not {states}, after {timeout} s")
            time.sleep(0.05)
