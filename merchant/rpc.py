"""A small JSON-RPC client for the merchant tools: single and batched calls, with retries.

Transport faults (refused or dropped connections, timeouts, HTTP 429 and 5xx) are retried with
exponential backoff, for every method, `eth_sendRawTransaction` included: sending the same signed
transaction twice is harmless (the node answers "already known" or "nonce too low", which
`merchant.txs.broadcast` understands). After the last retry the fault is `ChainUnavailable`.
A JSON-RPC error answer is not retried: it is returned as an `RpcError`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from typing import Any

import urllib3
from urllib3.exceptions import HTTPError as TransportError

from merchant.errors import ChainUnavailable, MerchantError

_TRANSIENT_HTTP = frozenset({408, 425, 429, 500, 502, 503, 504})


class RpcError(MerchantError):
    """A JSON-RPC error answer: `rpc_code`, `message` and the node's `data` (revert data)."""

    code = "rpc_error"

    def __init__(self, rpc_code: int, message: str, data: Any = None) -> None:
        super().__init__(f"JSON-RPC error {rpc_code}: {message}")
        self.rpc_code = rpc_code
        self.message = message
        self.data = data

    @property
    def revert_data(self) -> str | None:
        """The revert data of a failed call or estimate, when the node gave it."""
        data = self.data
        if isinstance(data, dict):
            data = data.get("data")
        return data if isinstance(data, str) and data.startswith("0x") else None


class Rpc:
    """JSON-RPC over one urllib3 connection pool (thread-safe)."""

    def __init__(
        self, url: str, *, timeout: float = 10.0, retries: int = 6, backoff: float = 0.1, max_backoff: float = 2.0
    ) -> None:
        self.url = url
        self._http = urllib3.PoolManager(maxsize=16, block=False, retries=False, timeout=timeout)
        self._retries = retries
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._next = 1
        self._lock = threading.Lock()

    def _take_ids(self, count: int = 1) -> int:
        """The first of `count` fresh request ids."""
        with self._lock:
            first = self._next
            self._next += count
            return first

    def _post(self, payload: Any) -> Any:
        body = json.dumps(payload).encode()
        delay = self._backoff
        for attempt in range(self._retries + 1):
            reason: str
            try:
                response = self._http.request("POST", self.url, body=body, headers={"Content-Type": "application/json"})
                if response.status == 200:
                    return json.loads(response.data)
                if response.status not in _TRANSIENT_HTTP:
                    raise ChainUnavailable(f"JSON-RPC at {self.url} answered HTTP {response.status}")
                reason = f"HTTP {response.status}"
            except TransportError as exc:
                reason = exc.__class__.__name__
            except ValueError:
                reason = "an answer that is not JSON"
            if attempt == self._retries:
                raise ChainUnavailable(f"JSON-RPC at {self.url} failed after {attempt + 1} attempts ({reason})")
            time.sleep(delay)
            delay = min(delay * 2, self._max_backoff)
        raise AssertionError("unreachable")

    def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        """The result of one call; `RpcError` for an error answer."""
        answer = self._post({"jsonrpc": "2.0", "id": self._take_ids(), "method": method, "params": list(params)})
        if not isinstance(answer, dict):
            raise ChainUnavailable(f"JSON-RPC at {self.url} answered {type(answer).__name__} to a single call")
        return _result(answer)

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """The results of `calls` in order, in one request; an error answer's place holds its
        `RpcError` (the caller decides which ones matter)."""
        if not calls:
            return []
        first = self._take_ids(len(calls))
        payload = [
            {"jsonrpc": "2.0", "id": first + i, "method": method, "params": list(params)}
            for i, (method, params) in enumerate(calls)
        ]
        answers = self._post(payload)
        if not isinstance(answers, list):
            if isinstance(answers, dict) and "error" in answers:
                raise _error(answers["error"])
            raise ChainUnavailable(f"JSON-RPC at {self.url} did not answer the batch with a list")
        by_id = {a.get("id"): a for a in answers if isinstance(a, dict)}
        results: list[Any] = []
        for i in range(len(calls)):
            answer = by_id.get(first + i)
            if answer is None:
                raise ChainUnavailable(f"JSON-RPC at {self.url} left call {i} of a batch unanswered")
            try:
                results.append(_result(answer))
            except RpcError as exc:
                results.append(exc)
        return results


def _error(error: Any) -> RpcError:
    if not isinstance(error, dict):
        return RpcError(-1, str(error))
    return RpcError(int(error.get("code", -1)), str(error.get("message", "")), error.get("data"))


def _result(answer: dict[str, Any]) -> Any:
    if "error" in answer and answer["error"] is not None:
        raise _error(answer["error"])
    return answer.get("result")


def raise_errors(results: list[Any]) -> list[Any]:
    """`results` of a batch, raising the first `RpcError` among them."""
    for result in results:
        if isinstance(result, RpcError):
            raise result
    return results
