"""Errors the indexer raises; all are `GreenPointsError`s so the CLI reports them as one line."""

from __future__ import annotations

from greenpoints.errors import GreenPointsError


class IndexerError(GreenPointsError):
    """The indexer cannot go on (bad database, bad chain, inconsistent state)."""

    exit_code = 1


class RpcError(IndexerError):
    """The JSON-RPC node failed or refused a request after all retries."""

    def __init__(self, message: str, *, code: int | None = None, http_status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status


class RangeTooLarge(RpcError):
    """The node refused an `eth_getLogs` range as too large (the caller splits it)."""


class ChainMoved(IndexerError):
    """The chain changed while a batch was read (hashes did not link); the batch is retried."""


class IndexerHalted(IndexerError):
    """A reorg went deeper than the kept block window, or the indexer was halted before.

    The mirror may hold rows of a dropped fork, so nothing is written until an operator runs
    `greenpoints resync`. The CLI exits with code 3.
    """

    exit_code = 3


class LockLost(IndexerError):
    """The connection holding the advisory lock was lost: another indexer may take over."""


class AuditFailed(IndexerError):
    """The audit found a difference between the mirror and the chain (or a halted indexer)."""
