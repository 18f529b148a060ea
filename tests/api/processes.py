"""The real processes the API tests run: `greenpoints index` (live) and `greenpoints api`, each a
subprocess configured through GREENPOINTS_* variables only, stopped with SIGTERM at the end."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from greenpoints.anvil import free_port
from greenpoints.compiler import ROOT

GREENPOINTS = str(ROOT / ".venv" / "bin" / "greenpoints")


def base_env(**settings: str | int | float | Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GREENPOINTS_", "PROMETHEUS_"))}
    env.update({f"GREENPOINTS_{k.upper()}": str(v) for k, v in settings.items()})
    return env


@dataclass
class Process:
    """A running `greenpoints` command (its own process group, so it and its children stop together)."""

    args: list[str]
    env: dict[str, str]
    cwd: Path
    log: Path
    popen: subprocess.Popen[bytes] = field(init=False)

    def __post_init__(self) -> None:
        self.handle = self.log.open("ab")
        self.popen = subprocess.Popen(
            [GREENPOINTS, *self.args],
            env=self.env,
            cwd=self.cwd,
            stdout=self.handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self, timeout: float = 15) -> int | None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
        self.handle.close()
        return self.popen.returncode

    def output(self) -> str:
        return self.log.read_text(errors="replace")


class ApiServer(Process):
    """`greenpoints api` on a free port, ready once /healthz answers."""

    def __init__(self, env: dict[str, str], cwd: Path, log: Path, workers: int = 1) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__(["api", "--port", str(self.port), "--workers", str(workers)], env, cwd, log)
        self.session = requests.Session()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"greenpoints api exited: {self.output()[-2000:]}")
            try:
                if self.session.get(self.url + "/healthz", timeout=1).ok:
                    return
            except requests.RequestException:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"greenpoints api did not answer: {self.output()[-2000:]}")

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(self.url + path, params=params, timeout=30)

    def json(self, path: str, **params: Any) -> Any:
        response = self.get(path, **params)
        assert response.status_code == 200, (path, response.status_code, response.text[:500])
        return response.json()

    def stop(self, timeout: float = 15) -> int | None:
        if hasattr(self, "session"):
            self.session.close()
        return super().stop(timeout)


def wait_for(predicate: Any, timeout: float = 60, poll: float = 0.05, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
