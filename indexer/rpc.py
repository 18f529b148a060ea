"""Raw JSON-RPC over one urllib3 connection pool: batched calls, retries, `eth_getLogs` range splitting.

No web3 formatting on the hot path: results are the node's JSON (hex strings), parsed with
msgspec; `eth_getLogs` answers go straight into `Log` structs (no dict per log). Transient faults
(timeouts, dropped connections, HTTP 429 and 5xx) are retried with exponential backoff; a node
that refuses an `eth_getLogs` range as too large gets the range in halves, and the size that
worked is remembered for the next requests.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import msgspec
import urllib3
from urllib3.exceptions import HTTPError as TransportError
from urllib3.exceptions import ReadTimeoutError

from indexer.errors import RangeTooLarge, RpcError

T = TypeVar("T")

log = logging.getLogger("indexer.rpc")

# Words in JSON-RPC error messages by which providers refuse an eth_getLogs range.
_RANGE_WORDS = ("range", "too many", "limit", "exceed", "too large", "response size", "max results", "10000")
# Words by which nodes call an error temporary (checked before the range words: "too many requests").
_TRANSIENT_WORDS = ("rate limit", "too many requests", "try again", "temporarily", "header not found", "busy")
_TRANSIENT_HTTP = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class BlockHeader:
    """The part of a block header the indexer keeps."""

    number: int
    hash: str
    parent_hash: str
    timestamp: int


class Log(msgspec.Struct, rename="lower"):
    """One `eth_getLogs` entry (hex strings, all lowercase); unknown fields are skipped.

    The answer is lowercased as a whole before it is parsed (one pass in C over the bytes,
    instead of a `.lower()` per address and hash), hence the lowercase JSON keys.
    """

    address: str
    topics: list[str]
    data: str
    blockHash: str  # camelCase: the JSON-RPC field names
    blockNumber: str
    transactionHash: str
    logIndex: str
    removed: bool = False
    blockTimestamp: str | None = None  # recent nodes only


class _LogsAnswer(msgspec.Struct):
    """A JSON-RPC answer to `eth_getLogs`, lowercased (error messages included)."""

    result: list[Log] | None = None
    error: Any = None


_encode = msgspec.json.Encoder().encode
_decode_any = msgspec.json.Decoder().decode
_parse_logs_answer = msgspec.json.Decoder(_LogsAnswer).decode


def _decode_logs_answer(data: bytes) -> _LogsAnswer:
    # Lowercasing cannot break JSON (keys, hex, true/false/null, escapes stay valid).
    answer: _LogsAnswer = _parse_logs_answer(data.lower())
    return answer


class TransientRpcError(RpcError):
    """A JSON-RPC error the node says is temporary (rate limit, busy): retried."""


def _is_transient(message: str) -> bool:
    text = message.lower()
    return any(word in text for word in _TRANSIENT_WORDS)


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _is_range_refusal(message: str) -> bool:
    text = message.lower()
    return any(word in text for word in _RANGE_WORDS)


class RpcClient:
    """A JSON-RPC client for one node URL.

    `log_range_limit` caps the blocks per `eth_getLogs` request (None: no cap until the node
    refuses a range); it shrinks by halving when the node refuses and is kept for later calls.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 30.0,
        retries: int = 6,
        backoff: float = 0.2,
        max_backoff: float = 5.0,
        log_range_limit: int | None = None,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.log_range_limit = log_range_limit
        # One connection, no urllib3 retries (ours below know JSON-RPC), no redirects.
        self._http = urllib3.PoolManager(
            maxsize=1,
            retries=False,
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
            headers={"Content-Type": "application/json"},
        )
        self._id = 0

    def close(self) -> None:
        self._http.clear()

    # ------------------------------------------------------------------ transport

    def _post(
        self, body: Any, *, timeouts_refuse_range: bool = False, decode: Callable[[bytes], Any] = _decode_any
    ) -> Any:
        """POST `body` with retries on transient faults; the JSON answer, parsed by `decode` (an
        error answer sent with a 4xx status comes back as a plain dict, whatever `decode`).

        With `timeouts_refuse_range` (eth_getLogs), a second timeout in a row counts as the node
        refusing the range (`RangeTooLarge`), so the caller splits it instead of waiting on.
        """
        attempt = 0
        timeouts = 0
        while True:
            retry_after: float | None = None
            try:
                response = self._http.request("POST", self.url, body=_encode(body))
                status = response.status
                if status == 413:
                    raise RangeTooLarge("HTTP 413: request or response too large", http_status=413)
                if status in _TRANSIENT_HTTP:
                    retry_after = _retry_after(response.headers.get("Retry-After"))
                    raise RpcError(f"HTTP {status}", http_status=status)
                if status >= 400:
                    # Some nodes send JSON-RPC errors with a 4xx status: let the caller read them.
                    try:
                        answer = _decode_any(response.data)
                    except ValueError:
                        answer = None
                    if isinstance(answer, dict) and answer.get("error") is not None:
                        return answer
                    raise RpcError(f"HTTP {status} from {self.url}", http_status=status)
                return decode(response.data)
            except RangeTooLarge:
                raise
            except (TransportError, ValueError, RpcError) as exc:
                # TransportError: refused or dropped connections, timeouts, truncated answers;
                # ValueError: an answer that is not (complete) JSON.
                if isinstance(exc, RpcError) and exc.http_status not in _TRANSIENT_HTTP:
                    raise
                if isinstance(exc, ReadTimeoutError):
                    timeouts += 1
                    if timeouts_refuse_range and timeouts >= 2:
                        raise RangeTooLarge("eth_getLogs timed out twice") from None
                else:
                    timeouts = 0
                attempt += 1
                if attempt > self.retries:
                    raise RpcError(
                        f"JSON-RPC at {self.url} failed after {self.retries} retries: "
                        f"{exc.__class__.__name__}: {str(exc)[:200]}"
                    ) from None
                delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
                if retry_after is not None:
                    delay = min(max(delay, retry_after), 30.0)
                log.warning("rpc retry attempt=%d delay=%.2f error=%s", attempt, delay, exc.__class__.__name__)
                time.sleep(delay)

    def _next_id(self) -> int:
        self._id += 1
        return self._id

    @staticmethod
    def _result(answer: Any, method: str) -> Any:
        if not isinstance(answer, dict):
            raise RpcError(f"{method}: malformed answer")
        error = answer.get("error")
        if error is not None:
            message = str(error.get("message", error)) if isinstance(error, dict) else str(error)
            code = error.get("code") if isinstance(error, dict) else None
            if _is_transient(message):
                raise TransientRpcError(f"{method}: {message}", code=code)
            if method == "eth_getLogs" and _is_range_refusal(message):
                raise RangeTooLarge(f"{method}: {message}", code=code)
            raise RpcError(f"{method}: {message}", code=code)
        if "result" not in answer:
            raise RpcError(f"{method}: answer without result")
        return answer["result"]

    def _retrying(self, attempt_once: Callable[[], T], label: str) -> T:
        """Run `attempt_once`, retrying with capped exponential backoff while the node answers
        with a temporary error (rate limits); give up after `retries` retries."""
        attempt = 0
        while True:
            try:
                return attempt_once()
            except TransientRpcError as exc:
                attempt += 1
                if attempt > self.retries:
                    raise RpcError(f"{exc} (after {self.retries} retries)") from None
                delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
                log.warning("%s attempt=%d delay=%.2f error=%r", label, attempt, delay, str(exc)[:120])
                time.sleep(delay)

    def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        """One JSON-RPC call; its result. Errors the node calls temporary (rate limits) are retried."""

        def once() -> Any:
            body = {"jsonrpc": "2.0", "id": self._next_id(), "method": method, "params": list(params)}
            answer = self._post(body, timeouts_refuse_range=method == "eth_getLogs")
            return self._result(answer, method)

        return self._retrying(once, "rpc retry")

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]], chunk: int = 500) -> list[Any]:
        """Many calls in batched requests (`chunk` per HTTP request); results in call order.

        A chunk with a temporary error (rate limit) in any answer is sent again after a pause.
        """
        results: list[Any] = []
        for start in range(0, len(calls), chunk):
            part = calls[start : start + chunk]
            results.extend(self._retrying(partial(self._batch_once, part), "rpc batch retry"))
        return results

    def _batch_once(self, part: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        first = self._id + 1
        body = [{"jsonrpc": "2.0", "id": first + i, "method": m, "params": list(p)} for i, (m, p) in enumerate(part)]
        self._id += len(part)
        answer = self._post(body)
        if isinstance(answer, dict):  # some nodes answer a whole batch with one error
            self._result(answer, part[0][0])
            raise RpcError("batch request answered with a single object")
        if not isinstance(answer, list):
            raise RpcError("batch request answered with something else than a list")
        by_id = {item.get("id"): item for item in answer if isinstance(item, dict)}
        out = []
        for i, (method, _) in enumerate(part):
            item = by_id.get(first + i)
            if item is None:
                raise RpcError(f"{method}: missing from the batch answer")
            out.append(self._result(item, method))
        return out

    # ------------------------------------------------------------------ chain reads

    def chain_id(self) -> int:
        return int(self.call("eth_chainId"), 16)

    def block_number(self) -> int:
        return int(self.call("eth_blockNumber"), 16)

    @staticmethod
    def _header(raw: Any) -> BlockHeader | None:
        if raw is None:
            return None
        return BlockHeader(
            number=int(raw["number"], 16),
            hash=raw["hash"].lower(),
            parent_hash=raw["parentHash"].lower(),
            timestamp=int(raw["timestamp"], 16),
        )

    def get_block(self, number: int) -> BlockHeader | None:
        """The header of block `number` (without transactions), or None past the head."""
        return self._header(self.call("eth_getBlockByNumber", [hex(number), False]))

    def get_blocks(self, numbers: Sequence[int]) -> list[BlockHeader | None]:
        """Headers of `numbers` in batched requests (None for blocks past the head)."""
        raws = self.batch([("eth_getBlockByNumber", [hex(n), False]) for n in numbers])
        return [self._header(raw) for raw in raws]

    def eth_call(self, to: str, data: str, block: int) -> str:
        result: str = self.call("eth_call", [{"to": to, "data": data}, hex(block)])
        return result

    def eth_calls(self, calls: Sequence[tuple[str, str]], block: int) -> list[str]:
        """Many `eth_call`s `(to, data)` at `block`, batched."""
        return [
            str(r) for r in self.batch([("eth_call", [{"to": to, "data": data}, hex(block)]) for to, data in calls])
        ]

    def _get_logs_once(self, addresses: Sequence[str], start: int, end: int) -> list[Log]:
        body = {
            "jsonrpc": "2.0",
            "id": self._next_id(),
            "method": "eth_getLogs",
            "params": [{"fromBlock": hex(start), "toBlock": hex(end), "address": list(addresses)}],
        }
        answer = self._post(body, timeouts_refuse_range=True, decode=_decode_logs_answer)
        if isinstance(answer, dict):  # an error sent with a 4xx status
            self._result(answer, "eth_getLogs")  # raises the matching error
        if answer.error is not None:
            self._result({"error": answer.error}, "eth_getLogs")
        if answer.result is None:
            raise RpcError("eth_getLogs: answer without result")
        logs: list[Log] = answer.result
        return logs

    def get_logs(self, addresses: Sequence[str], from_block: int, to_block: int) -> list[Log]:
        """All logs of `addresses` in `[from_block, to_block]`, in chain order.

        Ranges the node refuses are split in half (down to single blocks); the largest size
        that worked becomes `log_range_limit` for the following calls.
        """
        out: list[Log] = []
        start = from_block
        while start <= to_block:
            size = to_block - start + 1
            if self.log_range_limit is not None:
                size = min(size, self.log_range_limit)
            while True:
                end = start + size - 1
                try:
                    logs = self._retrying(partial(self._get_logs_once, addresses, start, end), "rpc retry")
                    break
                except RangeTooLarge as exc:
                    if size == 1:
                        raise RpcError(f"the node refuses eth_getLogs even for one block ({exc})") from None
                    size = max(1, size // 2)
                    self.log_range_limit = size
                    log.info("getlogs range refused, splitting new_limit=%d reason=%r", size, str(exc)[:120])
            out.extend(logs)
            start = end + 1
        return out
