"""Named points where the gateway can be made to die with SIGKILL, for the crash tests.

`GREENPOINTS_GATEWAY_FAILPOINT=name` (or `name:N`, the N-th pass) kills the process at that
point, exactly where a power cut could hit. Unset in production: `hit` is then one comparison.
"""

from __future__ import annotations

import os
import signal
import threading

# Each is a moment right after a commit or a send, before what follows it.
POINTS = (
    "accepted",  # a checkout row committed, its HTTP answer not yet written
    "signed",  # transactions signed and stored, not yet sent
    "broadcast",  # transactions sent, their sending not yet counted
    "mined",  # a receipt recorded, the checkout not yet final
    "final",  # a checkout final and its webhook queued, not yet delivered
    "delivered",  # a webhook answered 2xx, not yet marked delivered
)


def parse(spec: str) -> tuple[str, int]:
    """("name", N) of a failpoint setting; ValueError for an unknown name."""
    name, _, count = spec.partition(":")
    if name not in POINTS:
        raise ValueError(f"unknown failpoint {name!r} (one of {', '.join(POINTS)})")
    if count and (not count.isdigit() or int(count) < 1):
        raise ValueError(f"failpoint count must be a positive integer (got {count!r})")
    return name, int(count or 1)


class Failpoints:
    """Counts passes of the armed point and kills the process on the N-th."""

    def __init__(self, spec: str | None) -> None:
        self._armed: tuple[str, int] | None = parse(spec) if spec else None
        self._passes = 0
        self._lock = threading.Lock()

    def hit(self, name: str) -> None:
        if self._armed is None or self._armed[0] != name:
            return
        with self._lock:
            self._passes += 1
            if self._passes >= self._armed[1]:
                os.kill(os.getpid(), signal.SIGKILL)
