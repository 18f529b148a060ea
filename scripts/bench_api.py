"""Benchmark of the Green Points REST API: latency under fixed request rates, open loop.

    .venv/bin/python scripts/bench_api.py [--events 1000000] [--holders 100000] [--days 365]
                                          [--workers 2] [--seconds 20] [--scale 1.0]

1. A chain of at least `--events` pool/token events over `--days` days of block time, minting to
   `--holders` distinct holders (checkouts by the demo merchants, 100 per block, and point
   transfers between holders through anvil's impersonation), generated once and kept with anvil's
   `--dump-state` under .greenpoints/bench/ with its deployment file; reruns reuse it.
2. `greenpoints index --once` into an empty database (events/s printed), then VACUUM (ANALYZE).
3. `greenpoints api --workers N` serves it; a load generator in a separate process sends requests
   on loopback at fixed rates, open loop: request i is due at t0 + i/rate and its latency counts
   from that moment, so a slow server cannot slow the schedule down. Each rate runs `--seconds`
   after a short warm-up. In the same run, `/healthz` (constant JSON) gives the floor.
4. Printed per scenario: requests, errors, p50/p99/max latency, the rate achieved, the API
   processes' CPU (cores) and the workers; the targets of issue 9 beside them (reported, not
   asserted); then the account lookup at 3,000/s and 4,000/s, beyond the targets. `--scale 0.1`
   runs every rate at a tenth (to check the script on a small chain).

Needs anvil (npm ci) and PostgreSQL on 127.0.0.1:5432 (user postgres).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import json
import math
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import psycopg
import requests

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from greenpoints import databases  # noqa: E402 - needs the repository on sys.path
from tests.resilience.workload import (  # noqa: E402 - needs the repository on sys.path
    BULK_ANVIL_ARGS,
    CachedChain,
    Rpc,
    artifacts_digest,
    cached_state,
    checkout_data,
    transfer_data,
)

BENCH_DIR = ROOT / ".greenpoints" / "bench"
CHECKOUTS_PER_BLOCK = 100
TRANSFERS_PER_BLOCK = 20
CHECKOUT_GAS = 400_000
TRANSFER_GAS = 120_000


def greenpoints_command() -> list[str]:
    script = ROOT / ".venv" / "bin" / "greenpoints"
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli"]


def holder_address(i: int) -> str:
    return "0x" + hashlib.sha256(f"bench-holder-{i}".encode()).hexdigest()[-40:]


# ---------------------------------------------------------------------- the chain


@dataclass(frozen=True)
class ChainSpec:
    events: int
    holders: int
    days: int
    seed: int = 1

    @property
    def blocks(self) -> int:
        per_block = 2 * CHECKOUTS_PER_BLOCK + TRANSFERS_PER_BLOCK
        return max(2, math.ceil(self.events / per_block))

    def name(self) -> str:
        key = json.dumps(self.__dict__, sort_keys=True) + artifacts_digest()
        return "api-" + hashlib.sha256(key.encode()).hexdigest()[:16]


def generate(url: str, deployment: Any, spec: ChainSpec) -> dict[str, Any]:
    """Mine the bench chain: blocks spread evenly over `days`, the first checkouts minting to every
    holder once, then random holders; from the second block, transfers between funded holders."""
    rpc = Rpc(url, timeout=600)
    rng = random.Random(spec.seed)
    merchants = [m.address for m in deployment.merchants]
    nonces = {m: int(rpc.call("eth_getTransactionCount", [m, "pending"]), 16) for m in merchants}
    sender_nonces: dict[str, int] = {}
    unit = 10**deployment.asset_decimals
    head = int(rpc.call("eth_blockNumber"), 16)
    start_time = int(rpc.call("eth_getBlockByNumber", [hex(head), False])["timestamp"], 16)
    step = max(1, spec.days * 86400 // spec.blocks)
    started = time.monotonic()
    minted = 0  # holders 0 .. minted-1 have points
    sent = 0
    rpc.call("evm_setAutomine", [False])
    try:
        for b in range(spec.blocks):
            calls: list[tuple[str, list[Any]]] = []
            for i in range(CHECKOUTS_PER_BLOCK):
                merchant = merchants[(b + i) % len(merchants)]
                if minted < spec.holders:
                    holder, minted = minted, minted + 1
                else:
                    holder = rng.randrange(spec.holders)
                order = hashlib.sha256(f"{deployment.pool}:{spec.seed}:{b}:{i}".encode()).digest()
                tx = {
                    "from": merchant,
                    "to": deployment.pool,
                    "data": checkout_data(holder_address(holder), rng.randint(1, 50) * unit, order),
                    "gas": hex(CHECKOUT_GAS),
                    "gasPrice": "0x0",
                    "nonce": hex(nonces[merchant]),
                }
                nonces[merchant] += 1
                calls.append(("eth_sendTransaction", [tx]))
            for _ in range(TRANSFERS_PER_BLOCK if b > 0 else 0):
                sender = holder_address(rng.randrange(min(minted, spec.holders)))
                receiver = holder_address(rng.randrange(spec.holders))
                nonce = sender_nonces.get(sender, 0)
                sender_nonces[sender] = nonce + 1
                tx = {
                    "from": sender,
                    "to": deployment.points_token,
                    "data": transfer_data(receiver, 1),
                    "gas": hex(TRANSFER_GAS),
                    "gasPrice": "0x0",
                    "nonce": hex(nonce),
                }
                calls.append(("eth_sendTransaction", [tx]))
            rpc.batch(calls)
            sent += len(calls)
            rpc.call("evm_setNextBlockTimestamp", [start_time + (b + 1) * step])
            rpc.call("evm_mine")
            if (b + 1) % max(1, spec.blocks // 20) == 0:
                print(f"chain: {b + 1}/{spec.blocks} blocks, {sent} transactions", flush=True)
    finally:
        rpc.call("evm_setAutomine", [True])
    rpc.close()
    return {"blocks": spec.blocks, "transactions": sent, "generate_seconds": round(time.monotonic() - started, 1)}


def bench_chain(spec: ChainSpec) -> CachedChain:
    return cached_state(
        spec.name(),
        lambda url, deployment: generate(url, deployment, spec),
        BENCH_DIR,
        # --prune-history: anvil keeps no state per past block (a million events' worth of
        # snapshots outgrew this machine's 24 GiB); the API is measured at the head.
        extra_args=[*BULK_ANVIL_ARGS, "--auto-impersonate", "--prune-history"],
    )


# ---------------------------------------------------------------------- the load generator


@dataclass
class Scenario:
    name: str
    rate: float
    paths: list[str]
    target_p99_ms: float | None = None


async def _load(url: str, paths: list[str], rate: float, seconds: float, connections: int) -> dict[str, Any]:
    """Open loop: request i is due at t0 + i/rate; latency from that moment to the whole answer
    (time.perf_counter: uvloop's loop clock only has millisecond steps)."""
    host, port = url.removeprefix("http://").split(":")
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await asyncio.open_connection(host, int(port)))
    latencies: list[float] = []
    errors: dict[str, int] = {}
    total = int(rate * seconds)
    clock = time.perf_counter
    t0 = clock() + 0.05

    async def one(i: int, due: float) -> None:
        reader, writer = await pool.get()
        try:
            path = paths[i % len(paths)]
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            latencies.append(clock() - due)
            if status != 200:
                errors[str(status)] = errors.get(str(status), 0) + 1
        except (OSError, asyncio.IncompleteReadError) as exc:
            errors[exc.__class__.__name__] = errors.get(exc.__class__.__name__, 0) + 1
            writer.close()
            reader, writer = await asyncio.open_connection(host, int(port))
        finally:
            pool.put_nowait((reader, writer))

    running: set[asyncio.Task[None]] = set()
    cpu_start = time.process_time()
    # The generator's own pauses would count as the server's latency (open loop): no garbage
    # collection while it runs (it allocates little that lives), and only the requests in flight kept.
    gc.disable()
    try:
        for i in range(total):
            due = t0 + i / rate
            delay = due - clock()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.ensure_future(one(i, due))
            running.add(task)
            task.add_done_callback(running.discard)
        while running:
            await asyncio.gather(*running)
    finally:
        gc.enable()
    elapsed = clock() - t0
    while not pool.empty():
        pool.get_nowait()[1].close()
    cpu = (time.process_time() - cpu_start) / max(elapsed, 1e-9)
    return {"latencies": latencies, "errors": errors, "sent": total, "elapsed": elapsed, "cpu": cpu}


def loadgen_main() -> None:
    """The load generator process: one JSON job on stdin, one JSON result on stdout."""
    job = json.loads(sys.stdin.read())
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    result = asyncio.run(_load(job["url"], job["paths"], job["rate"], job["seconds"], job["connections"]))
    Path(job["out"]).write_text(json.dumps(result))


def run_load(url: str, scenario: Scenario, seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "result.json"  # a file, not stdout: nothing else can write into it
        job = {"url": url, "paths": scenario.paths, "rate": scenario.rate, "seconds": seconds, "connections": 64}
        job["out"] = str(out)
        subprocess.run([sys.executable, __file__, "--loadgen"], input=json.dumps(job), text=True, check=True)
        result: dict[str, Any] = json.loads(out.read_text())
    return result


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = (len(ordered) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def postgres_processes() -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["name"]) if p.info["name"] == "postgres"]


def cpu_seconds(process: psutil.Process | list[psutil.Process]) -> float:
    """CPU seconds used so far by `process` and its children, or by every process of a list."""
    total = 0.0
    members = process if isinstance(process, list) else [process, *process.children(recursive=True)]
    for p in members:
        try:
            times = p.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


# ---------------------------------------------------------------------- the run


def main() -> int:
    if "--loadgen" in sys.argv:
        loadgen_main()
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--holders", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20.0, help="per rate")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every rate (0.1: a quick check)")
    args = parser.parse_args()

    spec = ChainSpec(args.events, args.holders, args.days)
    chain = bench_chain(spec)
    print(f"chain: {chain.info} ({chain.state})")
    database = f"gp_bench_api_{uuid.uuid4().hex[:10]}"
    db_url = databases.create_database(database)
    with chain.start() as node:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GREENPOINTS_", "PROMETHEUS_"))}
        env.update(
            GREENPOINTS_RPC_URL=node.url,
            GREENPOINTS_DATABASE_URL=db_url,
            GREENPOINTS_DEPLOYMENT=str(chain.deployment_path),
            GREENPOINTS_API_MAX_SILENCE="86400",
        )
        api = None
        try:
            started = time.monotonic()
            indexed = subprocess.run(
                [*greenpoints_command(), "index", "--once"], env=env, capture_output=True, text=True, check=False
            )
            if indexed.returncode != 0:
                raise SystemExit(f"index failed: {indexed.stderr[-2000:]}")
            print(f"index --once: {time.monotonic() - started:.1f} s; {indexed.stdout.strip().splitlines()[-1]}")
            # The state autovacuum leaves a database that has been running in: planner statistics
            # and visibility maps (else autovacuum wakes on the fresh million rows mid-measurement).
            with psycopg.connect(db_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
                conn.execute("VACUUM (ANALYZE)")
            port = 18000 + random.randrange(1000)
            url = f"http://127.0.0.1:{port}"
            api = subprocess.Popen(
                [*greenpoints_command(), "api", "--port", str(port), "--workers", str(args.workers)],
                env=env,
                start_new_session=True,
            )
            deadline = time.monotonic() + 60
            while True:
                try:
                    if requests.get(url + "/readyz", timeout=1).ok:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("the API did not become ready")
                time.sleep(0.2)
            report(url, api, spec, args)
        finally:
            if api is not None and api.poll() is None:
                os.killpg(api.pid, signal.SIGTERM)
                api.wait(timeout=30)
            databases.drop_database(database)
    return 0


def report(url: str, api: subprocess.Popen[bytes], spec: ChainSpec, args: argparse.Namespace) -> None:
    rng = random.Random(7)
    accounts = [f"/v1/accounts/{holder_address(rng.randrange(spec.holders))}" for _ in range(50_000)]
    activity = [f"{a}/activity" for a in accounts[:20_000]]
    candles = ["/v1/price/candles?interval=1h&limit=1000"]
    healthz = ["/healthz"]
    s = args.scale
    scenarios = [
        Scenario("GET /healthz (floor)", 1000 * s, healthz),
        Scenario("GET /v1/accounts/{random holder}", 1000 * s, accounts, 5.0),
        Scenario("GET /healthz (floor)", 2000 * s, healthz),
        Scenario("GET /v1/accounts/{random holder}", 2000 * s, accounts, 25.0),
        Scenario("GET /v1/price/candles 1h x1000", 200 * s, candles, 20.0),
        Scenario("GET /v1/accounts/{a}/activity", 500 * s, activity, 10.0),
        # Beyond the targets: how much room is left.
        Scenario("GET /v1/accounts/{random holder}", 3000 * s, accounts),
        Scenario("GET /v1/accounts/{random holder}", 4000 * s, accounts),
    ]
    first = requests.get(url + candles[0], timeout=30).json()["candles"]
    print(f"candles 1h: {len(first)} buckets, from {first[0]['bucket']['time']} to {first[-1]['bucket']['time']}")
    process = psutil.Process(api.pid)
    print(
        f"\nworkers: {args.workers}; {args.seconds:g} s per rate, open loop, 64 connections;"
        " CPU in cores: the API's processes, PostgreSQL's, the load generator's"
    )
    columns = ("rate/s", "sent", "errors", "p50 ms", "p99 ms", "max ms")
    print(f"{'scenario':36} " + " ".join(f"{c:>7}" for c in columns) + "   API    PG   gen  per child  target")
    for scenario in scenarios:
        run_load(url, Scenario(scenario.name, scenario.rate, scenario.paths), min(2.0, args.seconds))  # warm-up
        database = postgres_processes()
        children = process.children(recursive=True)  # the workers and uvicorn's helper processes
        before, database_before = cpu_seconds(process), cpu_seconds(database)
        children_before = [cpu_seconds([c]) for c in children]
        result = run_load(url, scenario, args.seconds)
        elapsed = max(result["elapsed"], 1e-9)
        cpu = (cpu_seconds(process) - before) / elapsed
        database_cpu = (cpu_seconds(database) - database_before) / elapsed
        # How evenly the kernel spread the connections over the workers (they share one socket).
        shares = [(cpu_seconds([c]) - b) / elapsed for c, b in zip(children, children_before, strict=True)]
        per_child = "/".join(f"{share:.2f}" for share in shares)
        lat = [v * 1000 for v in result["latencies"]]
        p99 = percentile(lat, 99)
        errors = sum(result["errors"].values())
        target = ""
        if scenario.target_p99_ms is not None:
            verdict = "met" if p99 <= scenario.target_p99_ms and errors == 0 else "NOT met"
            target = f"p99 <= {scenario.target_p99_ms:g} ms: {verdict}"
        print(
            f"{scenario.name:36} {scenario.rate:7.0f} {result['sent']:7d} {errors:7d} {percentile(lat, 50):7.2f}"
            f" {p99:7.2f} {max(lat, default=float('nan')):7.2f} {cpu:5.2f} {database_cpu:5.2f} {result['cpu']:5.2f}"
            f" {per_child:>9}  {target}" + (f" {result['errors']}" if errors else "")
        )


if __name__ == "__main__":
    raise SystemExit(main())
