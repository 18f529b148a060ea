"""`greenpoints chain`: a local anvil in the foreground, for running the other parts against it."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType

from greenpoints.anvil import Anvil, dev_account


def run_chain(port: int, chain_id: int, state: Path | None) -> None:
    """Run anvil on `port` until Ctrl-C or SIGTERM; with `state`, its chain is saved there on exit
    and loaded from there at the next start."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with Anvil(port=port or None, chain_id=chain_id, state=state) as node:
            first = dev_account(0)
            print(f"anvil on {node.url}, chain id {chain_id}" + (f", state in {state}" if state else ", no state kept"))
            print(f"  funded development account #0: {first.address}")
            print(f"  its key (anvil's public development key, local chains only): 0x{first.key.hex()}")
            print("Ctrl-C stops it.", flush=True)
            while not stop.wait(0.5):
                if node.process.poll() is not None:
                    raise SystemExit(f"anvil exited with code {node.process.returncode}")
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
