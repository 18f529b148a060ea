"""Nonces of one key for several transactions in flight from one process.

`allocate` is a context: the nonce is reserved while the caller signs and sends, and counted as
used only if the block exits normally, so a transaction the node refused leaves no gap. The next
nonce is never below the node's pending count, so transactions sent by another tool with the
same key are stepped over.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from merchant.rpc import Rpc


class NonceAllocator:
    """Hands out consecutive nonces of `address`, one sender at a time."""

    def __init__(self, rpc: Rpc, address: str) -> None:
        self._rpc = rpc
        self._address = address
        self._lock = threading.Lock()
        self._next = 0

    def pending_count(self) -> int:
        """The node's count of this key's transactions, pending ones included."""
        return int(self._rpc.call("eth_getTransactionCount", [self._address, "pending"]), 16)

    @contextmanager
    def allocate(self) -> Iterator[int]:
        """Reserve the next nonce for signing and sending inside the block."""
        with self._lock:
            nonce = max(self._next, self.pending_count())
            yield nonce
            self._next = nonce + 1
