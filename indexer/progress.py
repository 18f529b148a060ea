"""Progress of a long backfill: a carriage-return line on a terminal, key=value log lines otherwise."""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

log = logging.getLogger("indexer.progress")


class Progress:
    """Reports blocks done of a total and events per second, at most every `every` seconds."""

    def __init__(self, start_block: int, end_block: int, *, stream: TextIO | None = None, every: float = 1.0) -> None:
        self.start_block = start_block
        self.end_block = end_block
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every = every
        self.started = time.monotonic()
        self.last_report = 0.0
        self.events = 0
        self.block = start_block
        self._reported: tuple[int, int] | None = None

    @property
    def total(self) -> int:
        return max(0, self.end_block - self.start_block)

    def extend(self, end_block: int) -> None:
        """The head moved on: more blocks to do."""
        self.end_block = max(self.end_block, end_block)

    def update(self, block: int, events: int) -> None:
        """`block` is now indexed and `events` more events were written."""
        self.block = block
        self.events += events
        now = time.monotonic()
        if now - self.last_report >= self.every:
            self.last_report = now
            self._report(final=False)

    def rate(self) -> float:
        elapsed = max(1e-9, time.monotonic() - self.started)
        return self.events / elapsed

    def _report(self, final: bool) -> None:
        self._reported = (self.block, self.events)
        done = max(0, self.block - self.start_block)
        total = self.total
        pct = 100.0 * done / total if total else 100.0
        if self.tty:
            self.stream.write(
                f"\rindexing: {done:,}/{total:,} blocks ({pct:5.1f}%) | {self.events:,} events | "
                f"{self.rate():,.0f} events/s   "
            )
            if final:
                self.stream.write("\n")
            self.stream.flush()
        else:
            log.info(
                "progress blocks_done=%d blocks_total=%d block=%d events=%d events_per_s=%.0f elapsed_s=%.1f",
                done,
                total,
                self.block,
                self.events,
                self.rate(),
                time.monotonic() - self.started,
            )

    def finish(self) -> None:
        """Print the final figures (and end the terminal line)."""
        if self.tty or self._reported != (self.block, self.events):
            self._report(final=True)
