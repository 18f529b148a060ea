"""A small threaded JSON-RPC proxy on loopback that injects faults in front of a node (anvil).

Faults, drawn per HTTP request from a seeded random generator (and optionally forced on given
request numbers, so a short run still sees every kind):

- `http_500`, `http_429`: an HTTP error answer instead of forwarding;
- `drop`: the connection is closed without any answer;
- `delay`: the request is held for a random time, then forwarded normally;
- `range_refused`: every `eth_getLogs` call (single or inside a batch) whose block range spans more
  than `max_log_range` blocks is answered with the JSON-RPC error -32005 "query returned more than
  10000 results / block range too large", as public providers do; other calls of the same batch
  are forwarded.

`forced_methods` injects faults by JSON-RPC method instead: each request carrying that method
takes the next kind from its list (then none). It may also name `lose_answer`: the request is
forwarded, then the connection is closed without the answer (the node acted, the client never
hears it: a sent transaction whose answer was lost).

Bounded: at most `max_connections` client connections are served at once (the accept loop waits
for a free slot), request bodies are limited to `max_body` bytes, and idle keep-alive connections
are closed after `idle_timeout` seconds. `stop()` shuts the listener and every open connection.
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import requests

FAULT_KINDS = ("http_500", "http_429", "drop", "delay", "range_refused")
METHOD_FAULT_KINDS = (*FAULT_KINDS, "lose_answer")
RANGE_ERROR = {"code": -32005, "message": "query returned more than 10000 results / block range too large"}
_TAGS_AT_HEAD = frozenset({"latest", "pending", "safe", "finalized"})


@dataclass
class FaultConfig:
    """What to inject. Probabilities are per HTTP request; `forced` maps 1-based request numbers
    to a fault kind that replaces the random draw for that request."""

    seed: int = 0
    p_http_500: float = 0.0
    p_http_429: float = 0.0
    p_drop: float = 0.0
    p_delay: float = 0.0
    delay_range: tuple[float, float] = (0.05, 0.3)
    max_log_range: int | None = None
    forced: dict[int, str] = field(default_factory=dict)
    forced_methods: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        total = self.p_http_500 + self.p_http_429 + self.p_drop
        if not 0 <= total <= 1 or not 0 <= self.p_delay <= 1:
            raise ValueError("fault probabilities must lie in [0, 1] (500 + 429 + drop at most 1)")
        unknown = set(self.forced.values()) - set(FAULT_KINDS) - {"none"}
        if unknown:
            raise ValueError(f"unknown forced fault kinds: {sorted(unknown)}")
        by_method = {kind for kinds in self.forced_methods.values() for kind in kinds}
        if by_method - set(METHOD_FAULT_KINDS) - {"none"}:
            raise ValueError(f"unknown forced_methods fault kinds: {sorted(by_method - set(METHOD_FAULT_KINDS))}")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, proxy: FaultProxy, address: tuple[str, int]) -> None:
        self.proxy = proxy
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        # Bounded: wait for a free slot before a thread is started for the connection.
        while not self.proxy._slots.acquire(timeout=0.2):
            if self.proxy._stopping.is_set():
                self.shutdown_request(request)
                return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.proxy._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        self.proxy._track(request, add=True)
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.proxy._track(request, add=False)
            self.proxy._slots.release()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        self.timeout = self.server.proxy.idle_timeout
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        proxy = self.server.proxy
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if length < 0 or length > proxy.max_body:
            self._reply(413, b'{"error": "request body too large"}')
            self.close_connection = True
            return
        body = self.rfile.read(length)
        fault, delay = proxy._draw(_methods(body))
        if delay:
            time.sleep(delay)
        if fault == "lose_answer":
            with contextlib.suppress(requests.RequestException):
                proxy._forward(body)
            fault = "drop"
        if fault == "drop":
            self.close_connection = True
            # Abort: RST instead of a clean FIN, like a crashed load balancer.
            with contextlib.suppress(OSError):
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            return
        if fault == "http_500":
            self._reply(500, b'{"error": "internal server error (injected)"}')
            return
        if fault == "http_429":
            self._reply(429, b'{"error": "too many requests (injected)"}', {"Retry-After": "1"})
            return
        try:
            status, answer = proxy._forward(body)
        except requests.RequestException as exc:
            self._reply(502, json.dumps({"error": f"upstream failed: {exc.__class__.__name__}"}).encode())
            return
        self._reply(status, answer)

    def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)


def _methods(body: bytes) -> list[str]:
    """The JSON-RPC methods a request body carries (none when it is not JSON-RPC)."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return []
    calls = parsed if isinstance(parsed, list) else [parsed]
    return [c["method"] for c in calls if isinstance(c, dict) and isinstance(c.get("method"), str)]


class FaultProxy:
    """The proxy; `url` is where clients connect. Use as a context manager or `start()`/`stop()`.

    `counts` says how often each fault kind was injected, `requests` how many HTTP requests and
    `calls` how many JSON-RPC calls (batch items counted one by one) arrived.
    """

    def __init__(
        self,
        upstream: str,
        config: FaultConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_connections: int = 32,
        max_body: int = 8 * 1024 * 1024,
        idle_timeout: float = 30.0,
        upstream_timeout: float = 60.0,
    ) -> None:
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError("the fault proxy listens on loopback only")
        self.upstream = upstream
        self.config = config or FaultConfig()
        self.max_body = max_body
        self.idle_timeout = idle_timeout
        self.upstream_timeout = upstream_timeout
        self.enabled = True
        self.counts: Counter[str] = Counter()
        self.requests = 0
        self.calls = 0
        self._lock = threading.Lock()
        self._rng = random.Random(self.config.seed)
        self._slots = threading.BoundedSemaphore(max_connections)
        self._stopping = threading.Event()
        self._open: set[socket.socket] = set()
        self._local = threading.local()
        self._server = _Server(self, (host, port))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, close every open connection, and wait for the listener thread."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
        with self._lock:
            open_sockets = list(self._open)
        for sock in open_sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._server.server_close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _track(self, sock: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._open.add(sock)
            else:
                self._open.discard(sock)

    # ------------------------------------------------------------------ faults

    def _draw(self, methods: list[str] | None = None) -> tuple[str | None, float]:
        """The fault of the next request (None: forward) and a delay in seconds (0: none)."""
        cfg = self.config
        with self._lock:
            self.requests += 1
            number = self.requests
            if not self.enabled:
                return None, 0.0
            for method in methods or []:
                queue = cfg.forced_methods.get(method)
                if queue:
                    kind = queue.pop(0)
                    if kind == "none":
                        return None, 0.0
                    self.counts[kind] += 1
                    if kind == "delay":
                        return None, cfg.delay_range[1]
                    return kind, 0.0
            u, v, w = self._rng.random(), self._rng.random(), self._rng.random()
            forced = cfg.forced.get(number)
            delay = 0.0
            fault: str | None
            if forced is not None:
                fault = None if forced == "none" else forced
            elif u < cfg.p_http_500:
                fault = "http_500"
            elif u < cfg.p_http_500 + cfg.p_http_429:
                fault = "http_429"
            elif u < cfg.p_http_500 + cfg.p_http_429 + cfg.p_drop:
                fault = "drop"
            else:
                fault = None
            if fault == "delay" or (forced is None and v < cfg.p_delay):
                delay = cfg.delay_range[0] + w * (cfg.delay_range[1] - cfg.delay_range[0])
                self.counts["delay"] += 1
                fault = None if fault == "delay" else fault
            if fault is not None:
                self.counts[fault] += 1
            return fault, delay

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _post_upstream(self, payload: bytes) -> tuple[int, bytes]:
        response = self._session().post(
            self.upstream,
            data=payload,
            headers={"Content-Type": "application/json"},
            timeout=self.upstream_timeout,
        )
        return response.status_code, response.content

    def _head(self) -> int:
        _, body = self._post_upstream(b'{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}')
        return int(json.loads(body)["result"], 16)

    def _block_arg(self, value: Any, head: list[int]) -> int | None:
        if value is None:
            value = "latest"
        if isinstance(value, int):
            return value
        if not isinstance(value, str):
            return None
        if value == "earliest":
            return 0
        if value in _TAGS_AT_HEAD:
            if not head:
                head.append(self._head())
            return head[0]
        try:
            return int(value, 16)
        except ValueError:
            return None

    def _refuses(self, call: Any, head: list[int]) -> bool:
        """Whether `call` is an eth_getLogs whose range is wider than `max_log_range` blocks."""
        limit = self.config.max_log_range
        if limit is None or not self.enabled or not isinstance(call, dict) or call.get("method") != "eth_getLogs":
            return False
        params = call.get("params") or [{}]
        flt = params[0] if isinstance(params, list) and params and isinstance(params[0], dict) else {}
        if "blockHash" in flt:
            return False
        low, high = self._block_arg(flt.get("fromBlock"), head), self._block_arg(flt.get("toBlock"), head)
        return low is not None and high is not None and high - low + 1 > limit

    def _forward(self, body: bytes) -> tuple[int, bytes]:
        """Forward `body`, answering refused `eth_getLogs` calls locally."""
        try:
            parsed = json.loads(body)
        except ValueError:
            return self._post_upstream(body)
        batch = isinstance(parsed, list)
        calls = parsed if batch else [parsed]
        with self._lock:
            self.calls += len(calls)
        head: list[int] = []
        refused = [self._refuses(call, head) for call in calls]
        if not any(refused):
            return self._post_upstream(body)
        with self._lock:
            self.counts["range_refused"] += sum(refused)
        errors = {
            i: {"jsonrpc": "2.0", "id": call.get("id"), "error": dict(RANGE_ERROR)}
            for i, (call, bad) in enumerate(zip(calls, refused, strict=True))
            if bad
        }
        rest = [call for call, bad in zip(calls, refused, strict=True) if not bad]
        if not batch:
            return 200, json.dumps(errors[0]).encode()
        answers: list[Any] = []
        if rest:
            status, raw = self._post_upstream(json.dumps(rest).encode())
            if status != 200:
                return status, raw
            upstream = json.loads(raw)
            answers = upstream if isinstance(upstream, list) else [upstream]
        by_id = {json.dumps(a.get("id")): a for a in answers if isinstance(a, dict)}
        merged = [errors[i] if i in errors else by_id.get(json.dumps(call.get("id"))) for i, call in enumerate(calls)]
        return 200, json.dumps([m for m in merged if m is not None]).encode()
