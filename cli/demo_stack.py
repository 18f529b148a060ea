"""`greenpoints demo`: the whole system on local defaults, with live traffic, until Ctrl-C.

Chain (a fresh anvil, or `GREENPOINTS_RPC_URL` when it is a local chain) → deploy (or reuse a
matching deployment) → database (the configured server, else the local one, else an embedded
PostgreSQL) → the live indexer → the API with the wallet page → the merchant gateway → traffic.
Ctrl-C or SIGTERM stops them in the reverse order within 10 seconds.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import psycopg
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import make_url
from web3 import Web3

from cli.demo_database import DemoDatabase, choose_database
from cli.supervisor import ChildFailed, Supervisor, http_ok
from cli.traffic import GatewayClient, Traffic
from greenpoints.anvil import LOCAL_CHAIN_IDS, Anvil, dev_account, free_port
from greenpoints.build import build
from greenpoints.chain import connect, contract, send
from greenpoints.config import LOCAL_DIR, Settings, load_part_settings
from greenpoints.databases import LOCAL_SERVER
from greenpoints.deploy import MAX_UINT256, deploy, local_roles
from greenpoints.deployment import Deployment, MerchantInfo, default_path, load_deployment
from greenpoints.errors import ConfigError, GreenPointsError

DEMO_DIR = LOCAL_DIR / "demo"
GATEWAY_DAILY_CAP = 1_000_000 * 10**18
STOP_WITHIN = 10.0  # seconds from Ctrl-C to every process stopped
# Accounts of anvil's development mnemonic kept out of the random traffic: the gateway's merchant
# key (only the gateway sends from it) and the account offered to a browser wallet.
GATEWAY_MERCHANT_INDEX = 18
WALLET_INDEX = 19
GATEWAY_MERCHANT = ("Web Shop", 1_200)


class DemoSettings(BaseModel):
    """`GREENPOINTS_DEMO_*`: ports and pacing of the demo."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    chain_port: int = Field(default=8545, ge=0, le=65535, description="anvil's port (0: any free port)")
    api_port: int = Field(default=8000, ge=0, le=65535, description="the API's port (0: any free port)")
    gateway_port: int = Field(default=8100, ge=0, le=65535, description="the merchant gateway's port (0: any)")
    traffic_interval: float = Field(default=1.0, gt=0, le=3600, description="seconds between traffic actions")
    local_server: str = Field(default=LOCAL_SERVER, description="the local PostgreSQL tried before the embedded one")
    data_dir: Path = Field(default=LOCAL_DIR / "pgdata", description="data folder of the embedded PostgreSQL")


def load_demo_settings() -> DemoSettings:
    return load_part_settings(DemoSettings, "demo")


def _port(wanted: int) -> int:
    """`wanted` if it is free (0: any free port), else a free one."""
    if wanted:
        try:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", wanted))
            return wanted
        except OSError:
            pass
    return free_port()


@dataclass
class Stack:
    """What the demo started, for the ready block and the shutdown."""

    rpc_url: str
    chain_id: int
    deployment: Deployment
    deployment_file: Path
    database: DemoDatabase
    api_url: str
    gateway_url: str
    gateway_token: str
    anvil: Anvil | None = None


def _open_chain(settings: Settings, demo: DemoSettings) -> tuple[Web3, Anvil | None]:
    if settings.rpc_url is None:
        node = Anvil(port=_port(demo.chain_port), accounts=20, end_with_parent=True)
        return connect(node.url), node
    w3 = connect(settings.rpc_url)
    if w3.eth.chain_id not in LOCAL_CHAIN_IDS:
        raise ConfigError(
            f"GREENPOINTS_RPC_URL: chain {w3.eth.chain_id} is not a local chain; the demo drives test accounts, "
            "so on a public chain run the parts on their own (docs/operations.md)"
        )
    return w3, None


def _deployment(w3: Web3, settings: Settings, fresh_chain: bool) -> Deployment:
    """A matching deployment of this chain (pool with code, demo merchants), else a new one."""
    path = settings.deployment or default_path(w3.eth.chain_id)
    if not fresh_chain and path.is_file():
        try:
            found = load_deployment(path, w3.eth.chain_id)
            if found.merchants and w3.eth.get_code(Web3.to_checksum_address(found.pool)):
                print(f"reusing the deployment in {path}")
                return found
        except GreenPointsError:
            pass
    return deploy(w3, log=lambda line: print(f"  {line}"))


def _prepare_accounts(w3: Web3, deployment: Deployment) -> None:
    """Register the gateway's merchant and give the wallet account points and test dollars."""
    pool = contract(w3, "DividendPool", deployment.pool)
    stable = contract(w3, "TestStablecoin", deployment.asset)
    unit = 10**deployment.asset_decimals
    shop = dev_account(GATEWAY_MERCHANT_INDEX).address
    wallet = dev_account(WALLET_INDEX).address
    name, rate = GATEWAY_MERCHANT
    if not any(m.address == shop for m in deployment.merchants):
        send(pool.functions.setMerchant(shop, rate, GATEWAY_DAILY_CAP, True), deployment.admin)
        deployment.merchants.append(MerchantInfo(address=shop, name=name, rate_bps=rate, daily_cap=GATEWAY_DAILY_CAP))
    send(stable.functions.mint(shop, 10_000_000 * unit), deployment.admin)
    send(stable.functions.mint(wallet, 1_000 * unit), deployment.admin)
    tea = deployment.merchants[0].address
    order = Web3.keccak(text=f"demo-welcome-{w3.eth.block_number}")
    send(pool.functions.checkout(wallet, 5_000 * unit, order), tea)
    send(stable.functions.approve(deployment.pool, MAX_UINT256), wallet)


def _indexed_up_to(database_url: str, block: int) -> bool:
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(dsn, connect_timeout=2) as conn:
            row = conn.execute("SELECT cursor_block FROM indexer_state").fetchone()
    except psycopg.Error:
        return False
    return row is not None and row[0] >= block


def _child_env(stack: Stack, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENPOINTS_")}
    env.update(
        GREENPOINTS_RPC_URL=stack.rpc_url,
        GREENPOINTS_DEPLOYMENT=str(stack.deployment_file.resolve()),
        GREENPOINTS_DATABASE_URL=stack.database.url,
    )
    env.update(extra)
    return env


def _greenpoints(*args: str) -> list[str]:
    return [sys.executable, "-m", "cli", *args]


def ready_block(stack: Stack, demo: DemoSettings) -> str:
    wallet = dev_account(WALLET_INDEX)
    return "\n".join(
        [
            "",
            "Green Points is running. Ctrl-C stops everything.",
            f"  wallet page (DApp)   {stack.api_url}/app",
            f"  REST API docs        {stack.api_url}/docs",
            f"  chain (JSON-RPC)     {stack.rpc_url}   chain id {stack.chain_id}",
            f"  test account         {wallet.address}",
            f"  its private key      0x{wallet.key.hex()}",
            f"                       (anvil's public development key #{WALLET_INDEX}: for this local chain only,",
            "                        never on a real network; import it into a browser wallet with the RPC above)",
            f"  merchant gateway     {stack.gateway_url}   demo token {stack.gateway_token}",
            f"  database             {stack.database.describe()}",
            f"  logs                 {DEMO_DIR / 'logs'}/",
            f"  traffic              one action every {demo.traffic_interval:g} s",
            "",
        ]
    )


def run_demo(settings: Settings) -> None:
    demo = load_demo_settings()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    supervisor = Supervisor(DEMO_DIR / "logs")
    anvil: Anvil | None = None
    database: DemoDatabase | None = None
    traffic: Traffic | None = None
    traffic_thread: threading.Thread | None = None
    try:
        print("compiling contracts (skipped when unchanged)")
        build()
        w3, anvil = _open_chain(settings, demo)
        chain_id = w3.eth.chain_id
        rpc_url = anvil.url if anvil is not None else str(settings.rpc_url)
        print(f"chain: {'a fresh anvil' if anvil else 'GREENPOINTS_RPC_URL'} at {rpc_url} (chain id {chain_id})")
        database = choose_database(settings.database_url, demo.local_server, demo.data_dir)
        print(f"database: {database.describe()}")
        deployment = _deployment(w3, settings, fresh_chain=anvil is not None)
        _prepare_accounts(w3, deployment)
        deployment_file = deployment.save(DEMO_DIR / f"{chain_id}.json")
        api_port, gateway_port = _port(demo.api_port), _port(demo.gateway_port)
        stack = Stack(
            rpc_url=rpc_url,
            chain_id=chain_id,
            deployment=deployment,
            deployment_file=deployment_file,
            database=database,
            api_url=f"http://127.0.0.1:{api_port}",
            gateway_url=f"http://127.0.0.1:{gateway_port}",
            gateway_token=secrets.token_urlsafe(24),
            anvil=anvil,
        )
        head = w3.eth.block_number
        print("starting the indexer, the API and the merchant gateway")
        supervisor.start(
            "indexer", _greenpoints("index"), _child_env(stack), lambda: _indexed_up_to(database.url, head)
        )
        supervisor.start(
            "api",
            _greenpoints("api", "--host", "127.0.0.1", "--port", str(api_port)),
            _child_env(stack, GREENPOINTS_API_PUBLIC_RPC_URL=rpc_url),
            http_ok(f"{stack.api_url}/readyz"),
        )
        shop_key = "0x" + dev_account(GATEWAY_MERCHANT_INDEX).key.hex()
        supervisor.start(
            "gateway",
            _greenpoints("merchant", "serve", "--host", "127.0.0.1", "--port", str(gateway_port)),
            _child_env(stack, GREENPOINTS_MERCHANT_KEY=shop_key, GREENPOINTS_GATEWAY_TOKENS=stack.gateway_token),
            http_ok(f"{stack.gateway_url}/healthz"),
        )
        customers = [a for a in local_roles(w3)["customers"] if a not in _reserved_accounts()]
        traffic = Traffic(
            w3,
            deployment,
            customers,
            demo.traffic_interval,
            gateway=GatewayClient(stack.gateway_url, stack.gateway_token),
            stop=stop,
        )
        traffic_thread = traffic.start()
        print(ready_block(stack, demo), flush=True)
        while not stop.wait(0.5):
            dead = supervisor.dead()
            if dead is not None:
                raise ChildFailed(f"{dead.name} stopped (exit {dead.process.returncode}); its log ends:\n{dead.tail()}")
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        stop.set()
        started = time.monotonic()
        print("stopping: traffic, gateway, API, indexer, chain, database", flush=True)
        if traffic_thread is not None:
            traffic_thread.join(timeout=2)
        supervisor.stop_all(within=STOP_WITHIN - 3)
        if anvil is not None:
            anvil.stop()
        if database is not None:
            database.stop()
        print(f"stopped in {time.monotonic() - started:.1f} s")
        if traffic is not None:
            print(f"traffic sent: {', '.join(f'{n} {a}' for a, n in sorted(traffic.counts.items())) or 'nothing'}")


def _reserved_accounts() -> set[str]:
    return {dev_account(i).address for i in (GATEWAY_MERCHANT_INDEX, WALLET_INDEX)}
