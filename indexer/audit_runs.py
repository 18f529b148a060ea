"""Stored audits: each run's result in `audit_runs`, and the live indexer's schedule for them.

While `greenpoints index` follows the chain it audits the mirror every `GREENPOINTS_AUDIT_EVERY`
blocks (`LiveAuditor`), in a thread of its own with its own node connection, so a long audit (one
`balanceOf` per holder) never holds up indexing; the audit reads the mirror in one snapshot.
`greenpoints audit` stores its result too. The REST API serves the latest and the history.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text

from indexer.rpc import RpcClient
from indexer.target import Target

if TYPE_CHECKING:
    from indexer.audit import AuditReport

log = logging.getLogger("indexer.audit")


def store_report(engine: Engine, report: AuditReport, *, source: str, every: int | None = None) -> None:
    """Insert one audit's result (`source`: "live" or "command")."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_runs (chain_id, block_number, block_hash, ok, holders, checks, differences,"
                " source, every) VALUES (:c, :b, :h, :ok, :n, CAST(:checks AS jsonb), CAST(:diff AS jsonb), :s, :e)"
            ),
            {
                "c": report.chain_id,
                "b": report.block,
                "h": report.block_hash,
                "ok": report.ok,
                "n": report.holders,
                "checks": json.dumps(report.checks),
                "diff": json.dumps(report.differences),
                "s": source,
                "e": every,
            },
        )


def last_audited_block(engine: Engine, chain_id: int) -> int | None:
    with engine.connect() as conn:
        value = conn.execute(
            text("SELECT max(block_number) FROM audit_runs WHERE chain_id = :c AND source = 'live'"), {"c": chain_id}
        ).scalar()
    return None if value is None else int(value)


class LiveAuditor:
    """Runs an audit in the background once the cursor is `every` blocks past the last live one."""

    def __init__(self, engine: Engine, rpc_url: str, target: Target, every: int) -> None:
        self.engine = engine
        self.rpc_url = rpc_url
        self.target = target
        self.every = every
        self._last: int | None = None
        self._thread: threading.Thread | None = None

    def maybe_start(self, cursor: int) -> bool:
        """Start an audit if one is due at `cursor` and none is running; whether one started."""
        if self.every <= 0 or cursor < self.target.deployment_block:
            return False
        if self._thread is not None and self._thread.is_alive():
            return False
        if self._last is None:
            self._last = last_audited_block(self.engine, self.target.chain_id)
        if self._last is not None and cursor - self._last < self.every and cursor >= self._last:
            return False
        self._last = cursor
        self._thread = threading.Thread(target=self._run, name="indexer-audit", daemon=True)
        self._thread.start()
        return True

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        from indexer.audit import audit  # imported when first due: not at start-up

        rpc = RpcClient(self.rpc_url)
        try:
            report = audit(self.engine, rpc, self.target)
            store_report(self.engine, report, source="live", every=self.every)
            level = logging.INFO if report.ok else logging.ERROR
            log.log(level, "audit block=%d ok=%s differences=%d", report.block, report.ok, len(report.differences))
        except Exception as exc:  # an audit that cannot run is logged; the next one is due later
            log.warning("audit could not run error=%r", str(exc).splitlines()[0][:200] if str(exc) else repr(exc))
        finally:
            rpc.close()
