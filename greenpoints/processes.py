"""Child processes that do not outlive the process that started them.

A demo (or any supervisor) killed hard — SIGKILL, an OOM kill — gets no chance to stop its
children; on Linux the kernel can signal them instead (`PR_SET_PDEATHSIG`).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def ended_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` for `subprocess.Popen`: the child gets SIGTERM when the thread that started
    it exits, so start it from the main thread. None (nothing to run) off Linux."""
    if not sys.platform.startswith("linux"):
        return None
    parent = os.getpid()

    def arrange() -> None:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the request took hold
            os.kill(os.getpid(), signal.SIGTERM)

    return arrange
