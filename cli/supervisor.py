"""Child processes of the demo: started in order, each waited for until it is ready, watched while
they run, and stopped in the reverse order within a shared deadline.

Every child runs in a session of its own, so the terminal's Ctrl-C reaches only the demo, which
then stops them in order (SIGTERM, then SIGKILL past the deadline); should the demo be killed
without that chance, the kernel sends them SIGTERM. Their output goes to one log file each.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import requests

from greenpoints.errors import GreenPointsError
from greenpoints.processes import ended_with_parent


class ChildFailed(GreenPointsError):
    """A child process did not become ready, or exited while the demo ran."""


def http_ok(url: str) -> Callable[[], bool]:
    """A readiness probe: `url` answers 200."""

    def probe() -> bool:
        try:
            return requests.get(url, timeout=1).status_code == 200
        except requests.RequestException:
            return False

    return probe


@dataclass
class Child:
    """A started child process: its name, its process, its log file."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes] = field(repr=False)

    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self, lines: int = 12) -> str:
        self.log_file.flush()
        text = self.log_path.read_text(errors="replace").strip().splitlines()
        return "\n".join(text[-lines:])

    def stop(self, deadline: float) -> None:
        """SIGTERM the child's process group; SIGKILL it if it is still there at `deadline`."""
        if self.alive():
            _signal_group(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log_file.close()


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # it has already exited
        os.killpg(pid, sig)


class Supervisor:
    """Starts children one after another and stops them all in the reverse order."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: list[Child] = []
        log_dir.mkdir(parents=True, exist_ok=True)

    def start(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        ready: Callable[[], bool],
        *,
        timeout: float = 60.0,
    ) -> Child:
        """Start `argv` and wait until `ready()` is true; a child that exits first, or is not ready
        within `timeout`, fails with the end of its log."""
        log_path = self.log_dir / f"{name}.log"
        log_file = log_path.open("wb")
        process = subprocess.Popen(
            list(argv),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=ended_with_parent(),  # gone with the demo even when it is killed hard
        )
        child = Child(name, process, log_path, log_file)
        self.children.append(child)
        deadline = time.monotonic() + timeout
        while not ready():
            if not child.alive():
                raise ChildFailed(f"{name} exited with code {process.returncode}; its log ends:\n{child.tail()}")
            if time.monotonic() > deadline:
                raise ChildFailed(f"{name} was not ready within {timeout:.0f} s; its log ends:\n{child.tail()}")
            time.sleep(0.1)
        return child

    def dead(self) -> Child | None:
        """A child that exited on its own, if any."""
        return next((c for c in self.children if not c.alive()), None)

    def stop_all(self, within: float) -> None:
        """Stop every child, the last started first, all within `within` seconds."""
        deadline = time.monotonic() + within
        for child in reversed(self.children):
            # Each child may use the time left, less a share kept for those still to stop.
            still = sum(1 for c in self.children if c.alive()) or 1
            child.stop(time.monotonic() + max(0.5, (deadline - time.monotonic()) / still))
        self.children.clear()
