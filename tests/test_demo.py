"""The main job as a new user runs it: `make demo` in a fresh clone, set up, then up within 60 s,
answering, moving, auditable, and gone without a trace after Ctrl-C — twice in a row; and
`greenpoints demo` on an embedded PostgreSQL when no server answers.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import requests
from playwright.sync_api import Browser, expect

from greenpoints.anvil import free_port
from greenpoints.chain import connect, contract
from greenpoints.compiler import ROOT
from tests.dapp.conftest import DESKTOP
from tests.dapp.wallet import FakeWallet

READY_WITHIN = 60.0  # after set-up
# This checkout's tools (its .venv and node_modules, put first by the test runner) are not a new
# user's.
PATH_OF_A_NEW_USER = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if not p.startswith(str(ROOT)))
SETUP_WITHIN = 900.0  # a fresh clone's `make setup`: about 2 minutes on this machine kind
STOP_WITHIN = 10.0


@dataclass
class RunningDemo:
    process: subprocess.Popen[str]
    output: list[str]  # filled by `reader` as the demo prints
    urls: dict[str, str]
    reader: threading.Thread
    cwd: Path

    def text(self) -> str:
        return "\n".join(self.output)


def start_demo(cwd: Path, argv: list[str] | None = None, setup_within: float = 0.0, **env: str) -> RunningDemo:
    """Start the demo (`greenpoints demo`, or `argv` such as `make demo`, whose set-up may take
    `setup_within` seconds until make echoes the demo's command) in a session of its own, as a
    terminal would, and read its output up to the ready block (or fail with it)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("GREENPOINTS_")}
    # Any free port, so a demo someone runs on this machine is not in the way.
    ports = {f"GREENPOINTS_DEMO_{p}_PORT": "0" for p in ("CHAIN", "API", "GATEWAY")}
    process = subprocess.Popen(
        argv or [sys.executable, "-m", "cli", "demo"],
        cwd=cwd,
        env={**base, **ports, "GREENPOINTS_DEMO_TRAFFIC_INTERVAL": "0.3", **env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
        start_new_session=True,
    )
    output: list[str] = []
    # A daemon: should a process the demo started outlive it holding the pipe, pytest still exits.
    reader = threading.Thread(
        target=lambda: output.extend(line.rstrip("\n") for line in process.stdout or ()), daemon=True
    )
    reader.start()
    started = time.monotonic()
    set_up = setup_within == 0.0
    while not any(line.startswith("  traffic") for line in output):
        if not set_up and any(line.endswith("greenpoints demo") for line in output):
            set_up, started = True, time.monotonic()  # "ready within 60 s after set-up"
        limit = READY_WITHIN if set_up else setup_within
        if process.poll() is not None or time.monotonic() - started > limit:
            kill_tree(process)
            reader.join(5)
            stage = "ready" if set_up else "set up"
            pytest.fail(f"the demo was not {stage} within {limit:.0f} s:\n" + "\n".join(output))
        time.sleep(0.1)
    text = "\n".join(output)
    labels = {
        "app": "wallet page (DApp)",
        "docs": "REST API docs",
        "rpc": "chain (JSON-RPC)",
        "gateway": "merchant gateway",
    }
    urls = {}
    for key, label in labels.items():
        found = re.search(rf"^  {re.escape(label)} +(\S+)", text, re.M)
        assert found is not None, f"no {label!r} in the ready block:\n{text}"
        urls[key] = found.group(1)
    urls["api"] = urls["docs"].removesuffix("/docs")
    return RunningDemo(process, output, urls, reader, cwd)


def stop_demo(demo: RunningDemo) -> float:
    """Ctrl-C; the seconds until the demo exited; every process it started must be gone."""
    children = psutil.Process(demo.process.pid).children(recursive=True)
    assert len(children) >= 4, children  # anvil, indexer, API, gateway (and their helpers)
    started = time.monotonic()
    os.killpg(demo.process.pid, signal.SIGINT)  # Ctrl-C: the terminal signals its foreground group
    demo.process.wait(timeout=STOP_WITHIN + 5)
    seconds = time.monotonic() - started
    demo.reader.join(5)
    # `greenpoints demo` exits 0; make, interrupted too, then ends by the same signal (as in a shell).
    assert demo.process.returncode in (0, -signal.SIGINT), demo.text()
    assert "stopped in" in demo.text()
    _, alive = psutil.wait_procs(children, timeout=1)
    # A zombie has exited; it only waits for this machine's init process to collect its status.
    running = [p for p in alive if _status(p) not in (psutil.STATUS_ZOMBIE, None)]
    assert running == [], f"left behind: {running}"
    return seconds


def kill_tree(process: subprocess.Popen[str]) -> None:
    """After a failure: SIGKILL the demo and everything it started (the demo itself gets no chance
    to stop them)."""
    with contextlib.suppress(psutil.NoSuchProcess):
        tree = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
        for member in tree:
            with contextlib.suppress(psutil.NoSuchProcess):
                member.kill()
    process.wait(timeout=10)


def _status(process: psutil.Process) -> str | None:
    try:
        status: str = process.status()
        return status
    except psutil.NoSuchProcess:
        return None


def indexed_block(api: str) -> int:
    block: int = requests.get(f"{api}/v1/pool", timeout=5).json()["indexed_block"]["number"]
    return block


def audit(cwd: Path, rpc: str, database_url: str, command: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    """`greenpoints audit` of the demo's deployment in `cwd`, while the demo runs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENPOINTS_")}
    env.update(
        GREENPOINTS_RPC_URL=rpc,
        GREENPOINTS_DEPLOYMENT=str(cwd / ".greenpoints" / "demo" / "31337.json"),
        GREENPOINTS_DATABASE_URL=database_url,
    )
    argv = [*(command or [sys.executable, "-m", "cli"]), "audit"]
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def assert_the_wallet_page_shows_the_test_account(demo: RunningDemo, browser: Browser) -> None:
    """The page from the ready block, in Debian's Chromium, with a wallet holding the test
    account: connected, it shows that account's points as the chain has them."""
    wallet_address = re.search(r"test account +(0x[0-9a-fA-F]{40})", demo.text()).group(1)  # type: ignore[union-attr]
    rpc = demo.urls["rpc"]
    deployment = json.loads((Path(demo.cwd) / ".greenpoints" / "demo" / "31337.json").read_text())
    token = contract(connect(rpc), "PointsToken", deployment["points_token"])
    context = browser.new_context(viewport=DESKTOP, locale="en-US", timezone_id="UTC")
    try:
        FakeWallet(rpc, wallet_address, chain_id=31337, known_chains={31337}).install(context)
        page = context.new_page()
        page.goto(demo.urls["app"] + "#customer")
        page.wait_for_selector("body[data-ready=true]", timeout=30_000)
        page.locator("[data-testid^=connect-]").first.click()
        balance = token.functions.balanceOf(wallet_address).call()
        assert balance > 0  # the demo gave it points
        expect(page.get_by_test_id("balance")).to_have_attribute("data-raw", str(balance), timeout=15_000)
    finally:
        context.close()


@pytest.fixture
def demo_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path


@pytest.fixture
def clean_clone(tmp_path: Path) -> Iterator[Path]:
    """A clone of this repository's committed HEAD (in CI: main, as a new user clones it)."""
    clone = tmp_path / "greenpoints"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
    yield clone
    # The clone's set-up pointed brownie's solc link (in HOME) at itself: point it back here.
    subprocess.run(["make", "--silent", "solc-link"], cwd=ROOT, check=True, timeout=60)


@pytest.mark.slow
def test_make_demo_from_a_clean_clone_runs_answers_and_stops_cleanly_twice(clean_clone: Path, browser: Browser) -> None:
    """The README's first command, `make demo`, in a fresh clone: set-up, then ready within 60 s;
    the API, the page in Chromium, traffic moving the mirror, `audit` passing; Ctrl-C leaves
    nothing behind; the second run (set-up already done) works as well."""
    clone = clean_clone
    for run in (1, 2):
        demo = start_demo(clone, ["make", "demo"], setup_within=SETUP_WITHIN, PATH=PATH_OF_A_NEW_USER)
        try:
            api = demo.urls["api"]
            assert "database             the local server" in demo.text()
            assert requests.get(f"{api}/readyz", timeout=5).status_code == 200
            assert requests.get(demo.urls["docs"], timeout=5).status_code == 200
            assert requests.get(f"{demo.urls['gateway']}/healthz", timeout=5).json()["status"] == "ok"
            if run == 1:
                assert_the_wallet_page_shows_the_test_account(demo, browser)
            first = indexed_block(api)
            deadline = time.monotonic() + 30
            while indexed_block(api) <= first + 3:  # the traffic moves the chain and the mirror follows
                assert time.monotonic() < deadline, f"run {run}: the indexed block stayed at {first}"
                time.sleep(0.3)
            url = "postgresql+psycopg://postgres@127.0.0.1:5432/greenpoints_demo"
            checked = audit(clone, demo.urls["rpc"], url, [str(clone / ".venv" / "bin" / "greenpoints")])
            assert checked.returncode == 0, checked.stdout + checked.stderr
            assert "mirror equals the chain" in checked.stdout
        except BaseException:
            kill_tree(demo.process)
            raise
        seconds = stop_demo(demo)
        assert seconds < STOP_WITHIN, f"run {run}: stopping took {seconds:.1f} s"


@pytest.mark.slow
def test_the_demo_falls_back_to_an_embedded_postgresql(demo_dir: Path) -> None:
    closed = free_port()  # nothing listens there: "no server reachable"
    demo = start_demo(
        demo_dir,
        GREENPOINTS_DEMO_LOCAL_SERVER=f"postgresql+psycopg://postgres@127.0.0.1:{closed}/postgres",
        GREENPOINTS_DEMO_DATA_DIR=str(demo_dir / "pgdata"),
    )
    try:
        text = demo.text()
        assert "database: an embedded PostgreSQL (pgserver)" in text, text
        assert requests.get(f"{demo.urls['api']}/readyz", timeout=5).status_code == 200
        socket_dir = demo_dir / "pgdata"
        url = f"postgresql+psycopg://postgres@/greenpoints_demo?host={socket_dir.resolve()}"
        checked = audit(demo_dir, demo.urls["rpc"], url)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    except BaseException:
        kill_tree(demo.process)
        raise
    stop_demo(demo)
    # The embedded server stopped with the demo.
    servers = [
        p.info
        for p in psutil.process_iter(["name", "cmdline", "status"])
        if p.info["status"] != psutil.STATUS_ZOMBIE and str(socket_dir) in " ".join(p.info["cmdline"] or ())
    ]
    assert servers == []
