"""The demo's children end with it even when it is killed hard (SIGKILL gives it no chance to stop
them): the supervisor's children and its anvil are signalled by the kernel."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil

# A stand-in for the demo: a supervisor with one child, and an anvil, then wait to be killed.
SUPERVISING = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from cli.supervisor import Supervisor
    from greenpoints.anvil import Anvil

    supervisor = Supervisor(Path(sys.argv[1]))
    child = supervisor.start("sleeper", [sys.executable, "-c", "import time; time.sleep(600)"], {}, lambda: True)
    anvil = Anvil(end_with_parent=True)
    print(child.process.pid, anvil.process.pid, flush=True)
    time.sleep(600)
    """
)


def test_children_end_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    parent = subprocess.Popen([sys.executable, "-c", SUPERVISING, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    pids: list[int] = []
    try:
        line = parent.stdout.readline() if parent.stdout else ""
        pids = [int(pid) for pid in line.split()]
        assert len(pids) == 2, line
        assert all(psutil.pid_exists(pid) for pid in pids)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=5)
        deadline = time.monotonic() + 10
        while (alive := [pid for pid in pids if _running(pid)]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert alive == [], f"still running after the supervisor was killed: {alive}"
    finally:
        parent.kill()
        for pid in pids:
            if _running(pid):
                os.kill(pid, signal.SIGKILL)


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
