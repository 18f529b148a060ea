"""A lean JSON-RPC client for the model-versus-chain check: one kept-alive HTTP connection and
batched calls, so comparing dozens of views after every transaction stays cheap (web3's own call
path costs ~20 ms a call here; a batched raw `eth_call` a fraction of a millisecond)."""

from __future__ import annotations

import http.client
import json
import socket
from typing import Any
from urllib.parse import urlsplit

from greenpoints.errors import ChainError


class RpcError(Exception):
    """A JSON-RPC error answer; `data` is the revert data of a reverted call, when given."""

    def __init__(self, message: str, data: str | None) -> None:
        super().__init__(message)
        self.data = data


class Rpc:
    def __init__(self, url: str, timeout: float = 60.0) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ChainError(f"the check talks plain HTTP JSON-RPC; {url!r} is not an http:// URL")
        self._host, self._port = parts.hostname, parts.port or 80
        self._path = parts.path or "/"
        self._timeout = timeout
        self._connection = self._connect()
        self._id = 0

    def _connect(self) -> http.client.HTTPConnection:
        connection = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        connection.connect()
        # Small requests, one after another: do not let Nagle's algorithm hold them back.
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection

    def _post(self, body: Any) -> Any:
        payload = json.dumps(body).encode()
        for attempt in (1, 2):
            try:
                if self._connection.sock is None:
                    self._connection = self._connect()
                self._connection.request("POST", self._path, payload, {"Content-Type": "application/json"})
                return json.loads(self._connection.getresponse().read())
            except (http.client.HTTPException, ConnectionError) as exc:
                # A dropped keep-alive connection: reconnect once.
                self._connection.close()
                if attempt == 2:
                    raise ChainError(f"JSON-RPC at {self._host}:{self._port} failed: {exc}") from None
        raise AssertionError("unreachable")

    @staticmethod
    def _result(answer: dict[str, Any]) -> Any:
        error = answer.get("error")
        if error is not None:
            data = error.get("data")
            raise RpcError(str(error.get("message")), data if isinstance(data, str) else None)
        return answer.get("result")

    def call(self, method: str, *params: Any) -> Any:
        self._id += 1
        return self._result(self._post({"jsonrpc": "2.0", "id": self._id, "method": method, "params": list(params)}))

    def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        """Results in order; a failed call's place holds its `RpcError` (not raised)."""
        if not calls:
            return []
        first = self._id + 1
        self._id += len(calls)
        body = [{"jsonrpc": "2.0", "id": first + i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
        answers = {a["id"]: a for a in self._post(body)}
        results: list[Any] = []
        for i in range(len(calls)):
            try:
                results.append(self._result(answers[first + i]))
            except RpcError as exc:
                results.append(exc)
        return results

    def close(self) -> None:
        self._connection.close()
