"""Start and stop a local anvil node (the npm package's native binary) for the local default chain."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount

from greenpoints.compiler import ROOT
from greenpoints.errors import ChainError
from greenpoints.processes import ended_with_parent

ANVIL_MNEMONIC = "test test test test test test test test test test test junk"
LOCAL_CHAIN_IDS = frozenset({31337, 1337})


def dev_account(index: int) -> LocalAccount:
    """Account `index` of anvil's public development mnemonic (local chains only: its keys are public)."""
    Account.enable_unaudited_hdwallet_features()
    account: LocalAccount = Account.from_mnemonic(ANVIL_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
    return account


def anvil_binary() -> str:
    """Path of anvil: the repository's npm install first, then PATH."""
    local = ROOT / "node_modules" / ".bin" / "anvil"
    if local.exists():
        return str(local)
    found = shutil.which("anvil")
    if found is None:
        raise ChainError("anvil not found; run `npm ci` to install it")
    return found


def free_port() -> int:
    """A TCP port on loopback that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Anvil:
    """A running anvil process on loopback; use as a context manager or call `stop()`.

    With `state`, the chain is loaded from that file if it exists and written back on stop, so
    the local default chain survives between commands. With `end_with_parent`, anvil is stopped
    by the kernel when this process dies without stopping it (Linux).
    """

    def __init__(
        self,
        port: int | None = None,
        *,
        accounts: int = 20,
        state: Path | None = None,
        chain_id: int = 31337,
        extra_args: list[str] | None = None,
        end_with_parent: bool = False,
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.chain_id = chain_id
        args = [anvil_binary(), "--host", "127.0.0.1", "--port", str(self.port), "--accounts", str(accounts)]
        args += ["--mnemonic", ANVIL_MNEMONIC, "--chain-id", str(chain_id), "--silent"]
        if state is not None:
            state.parent.mkdir(parents=True, exist_ok=True)
            args += ["--state", str(state)]
        args += extra_args or []
        # Its own session, so a terminal's Ctrl-C reaches only whoever started it; no inherited
        # stdout, so it never holds a reader's pipe open.
        self.process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=ended_with_parent() if end_with_parent else None,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ChainError(f"anvil exited at start with code {self.process.returncode}")
            try:
                body = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
                if requests.post(self.url, json=body, timeout=1).ok:
                    return
            except requests.RequestException:
                time.sleep(0.05)
        self.stop()
        raise ChainError(f"anvil did not answer on {self.url} within {timeout:.0f} s")

    def stop(self) -> None:
        """Stop anvil gracefully (so `--state` is written), then forcibly if it hangs."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def __enter__(self) -> Anvil:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
