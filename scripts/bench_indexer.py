"""Benchmark of the Green Points indexer: backfill throughput, peak memory, and live lag.

    .venv/bin/python scripts/bench_indexer.py [--events 100000] [--live-tx 50] [--batch-size N]

1. A chain with at least `--events` pool/token events is generated on anvil (bulk blocks of
   checkouts and point transfers, see tests/resilience/workload.py) and cached with anvil's
   `--dump-state` under .greenpoints/bench/ with its deployment file alongside; reruns reuse it.
2. Baseline, same run: raw `eth_getLogs` over the same block range in the indexer's batch size,
   plus `json.loads` of each answer (no decoding, no database): the ceiling for a log indexer on
   this node and machine.
3. `greenpoints index --once` into an empty database: wall time (process start to exit),
   events per second, peak memory (ru_maxrss of children, measured by a tiny wrapper process
   whose only child is the indexer: the largest single process; VmHWM polled from /proc; and
   the RSS of the indexer and its backfill worker together, polled with psutil: shared pages
   count twice there, so it overstates).
4. Live lag: `greenpoints index` running live (poll interval `--poll-interval`); `--live-tx`
   checkouts are sent spaced out, and for each the time from its block being mined (the
   transaction's receipt exists on the node) to its event row being visible in the database.

Targets (reported, not asserted): >= 40,000 events/s, peak memory < 300 MB, live lag p99 <
poll interval + 100 ms. Needs anvil (npm ci) and PostgreSQL on 127.0.0.1:5432 (user postgres).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import re
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import psycopg
import requests
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from greenpoints import databases  # noqa: E402 - needs the repository on sys.path
from tests.resilience.workload import (  # noqa: E402 - needs the repository on sys.path
    CachedChain,
    Rpc,
    WorkloadSpec,
    cached_chain,
    checkout_data,
)

BENCH_DIR = ROOT / ".greenpoints" / "bench"
CHECKOUTS_PER_BLOCK = 40
TRANSFERS_PER_BLOCK = 20
DEFAULT_BATCH_SIZE = 5000  # the indexer's default GREENPOINTS_BATCH_SIZE
TARGET_RATE = 40_000
TARGET_MEMORY_MB = 300
TARGET_LAG_MARGIN = 0.100


def greenpoints_command() -> list[str]:
    script = ROOT / ".venv" / "bin" / "greenpoints"
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli"]


def spec_for(events: int) -> WorkloadSpec:
    per_block = 2 * CHECKOUTS_PER_BLOCK + TRANSFERS_PER_BLOCK
    blocks = max(2, math.ceil((events + TRANSFERS_PER_BLOCK) / per_block))
    return WorkloadSpec(blocks, CHECKOUTS_PER_BLOCK, TRANSFERS_PER_BLOCK, seed=1)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100), linear interpolation between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = (len(ordered) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


# ---------------------------------------------------------------------- database


def create_database() -> str:
    name = f"gp_bench_{uuid.uuid4().hex[:10]}"
    databases.create_database(name)
    return name


def events_table(conn: psycopg.Connection[Any]) -> str:
    """The indexer's events table (or view): the one with `tx_hash` and `log_index` columns."""
    row = conn.execute(
        "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public'"
        " AND column_name IN ('tx_hash', 'log_index') GROUP BY table_name HAVING count(*) = 2"
        " ORDER BY table_name = 'events' DESC, table_name LIMIT 1"
    ).fetchone()
    if row is None:
        raise SystemExit("no events table (with tx_hash and log_index) in the indexer's database")
    return str(row[0])


def indexer_env(rpc_url: str, database: str, deployment: Path, **settings: str | int | float) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENPOINTS_")}
    env.update(
        GREENPOINTS_RPC_URL=rpc_url,
        GREENPOINTS_DATABASE_URL=databases.database_url(database),
        GREENPOINTS_DEPLOYMENT=str(deployment),
        PYTHONUNBUFFERED="1",
    )
    env.update({f"GREENPOINTS_{k.upper()}": str(v) for k, v in settings.items()})
    return env


# ---------------------------------------------------------------------- measurements


@dataclass
class RawResult:
    logs: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.logs / self.seconds


def raw_fetch(url: str, addresses: list[str], first: int, last: int, batch: int) -> RawResult:
    """eth_getLogs over [first, last] in `batch`-block requests, each answer parsed with json.loads."""
    session = requests.Session()
    logs = 0
    started = time.perf_counter()
    for start in range(first, last + 1, batch):
        end = min(last, start + batch - 1)
        body = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "eth_getLogs",
            "params": [{"fromBlock": hex(start), "toBlock": hex(end), "address": addresses}],
        }
        response = session.post(url, json=body, timeout=300)
        answer = json.loads(response.content)
        if "error" in answer:
            raise SystemExit(f"raw eth_getLogs [{start}, {end}] refused: {answer['error']}")
        logs += len(answer["result"])
    seconds = time.perf_counter() - started
    session.close()
    return RawResult(logs, seconds)


@dataclass
class BackfillResult:
    code: int
    wall: float
    events: int
    peak_rss_mb: float
    vm_hwm_mb: float  # the kernel's RSS high-water mark of the process (VmHWM), last read before exit
    ru_maxrss_mb: float  # RUSAGE_CHILDREN of a wrapper whose only child is the indexer
    reported: str
    output_tail: str

    @property
    def rate(self) -> float:
        return self.events / self.wall


def vm_hwm_kb(pid: int) -> int:
    """The kernel's peak resident set size of `pid` so far (VmHWM in /proc/PID/status), in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


# Runs the indexer as its only child, so its RUSAGE_CHILDREN ru_maxrss is the indexer's alone (this
# script's own children accounting also holds whatever anvil's launcher left behind).
_WRAPPER = """
import resource, subprocess, sys, time
started = time.perf_counter()
code = subprocess.run(sys.argv[2:]).returncode
wall = time.perf_counter() - started
with open(sys.argv[1], "w") as out:
    out.write(f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss} {wall}")
sys.exit(code)
"""


def backfill(env: dict[str, str], database: str, workdir: Path) -> BackfillResult:
    """Run `greenpoints index --once`, polling its memory; count the events it stored."""
    log_path = workdir / "index-once.log"
    usage_path = workdir / "index-once.rusage"
    usage_path.unlink(missing_ok=True)
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", _WRAPPER, str(usage_path), *greenpoints_command(), "index", "--once"],
            env=env,
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        peak = 0
        high_water_kb = 0
        wrapper = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                tree = wrapper.children(recursive=True)  # the indexer (and anything it starts)
                peak = max(peak, sum(p.memory_info().rss for p in tree))
                for p in tree:
                    high_water_kb = max(high_water_kb, vm_hwm_kb(p.pid))
            except (psutil.Error, OSError, ValueError):
                pass
            time.sleep(0.02)
    maxrss_kb, wall = usage_path.read_text().split()
    output = log_path.read_text(errors="replace")
    match = re.search(r"indexed up to block \d+: .*", output)
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{database}") as conn:
        table = events_table(conn)
        count = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
    return BackfillResult(
        code=proc.returncode,
        wall=float(wall),
        events=int(count[0]) if count else 0,
        peak_rss_mb=peak / 2**20,
        vm_hwm_mb=high_water_kb / 1024,
        ru_maxrss_mb=int(maxrss_kb) / 1024,
        reported=match.group(0) if match else "(no summary line)",
        output_tail=output[-2000:],
    )


def live_lag(
    env: dict[str, str],
    database: str,
    chain: CachedChain,
    url: str,
    count: int,
    workdir: Path,
    seed: int,
    verbose: bool = False,
) -> list[float]:
    """Seconds from each checkout's block being mined to its event row being visible."""
    rpc = Rpc(url)
    deployment = chain.deployment
    merchants = [m.address for m in deployment.merchants]
    customers: list[str] = rpc.call("eth_accounts")[5:]
    rng = random.Random(seed)
    unit = 10**deployment.asset_decimals
    log_path = workdir / "index-live.log"
    lags: list[float] = []
    with log_path.open("wb") as log, psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{database}") as conn:
        conn.autocommit = True
        table = events_table(conn)
        # An indexed lookup (the events' key starts with chain_id, block_number where the schema has
        # them): a scan of a 100k-row table per poll would itself add tens of milliseconds of lag.
        columns = {
            str(r[0])
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s",
                (table,),
            )
        }
        keyed = [c for c in ("chain_id", "block_number") if c in columns]
        where = sql.SQL(" AND ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in [*keyed, "tx_hash"])
        query = sql.SQL("SELECT 1 FROM {} WHERE {} LIMIT 1").format(sql.Identifier(table), where)
        proc = subprocess.Popen(
            [*greenpoints_command(), "index"],
            env=env,
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            time.sleep(1.0)
            # Warm-up: the live loop is running once a first transaction shows up.
            for i in range(count + 1):
                order = hashlib.sha256(f"bench-live:{deployment.pool}:{seed}:{i}".encode()).digest()
                tx = {
                    "from": merchants[i % len(merchants)],
                    "to": deployment.pool,
                    "data": checkout_data(customers[i % len(customers)], (1 + i % 9) * unit, order),
                    "gas": hex(400_000),
                }
                tx_hash = str(rpc.call("eth_sendTransaction", [tx])).lower()
                # anvil automines right after answering: the block is mined when the receipt exists.
                receipt = None
                while receipt is None:
                    receipt = rpc.call("eth_getTransactionReceipt", [tx_hash])
                    if receipt is None:
                        time.sleep(0.001)
                mined = time.perf_counter()
                if int(receipt["status"], 16) != 1:
                    raise SystemExit(f"live transaction {tx_hash} was not mined or reverted: {receipt}")
                key = {"chain_id": int(rpc.call("eth_chainId"), 16), "block_number": int(receipt["blockNumber"], 16)}
                params = (*[key[c] for c in keyed], tx_hash)
                deadline = mined + (120 if i == 0 else 30)
                while conn.execute(query, params).fetchone() is None:
                    if proc.poll() is not None:
                        raise SystemExit(f"live indexer exited {proc.returncode}; see {log_path}")
                    if time.perf_counter() > deadline:
                        raise SystemExit(f"transaction {tx_hash} never showed up in the database; see {log_path}")
                    time.sleep(0.005)
                if i > 0:
                    lags.append(time.perf_counter() - mined)
                    if verbose:
                        stamp = time.strftime("%H:%M:%S", time.gmtime(time.time() - lags[-1]))
                        print(f"  tx {i}: mined ~{stamp} UTC, visible after {lags[-1] * 1000:.0f} ms")
                time.sleep(rng.uniform(0.1, 0.9))  # spaced out, uncorrelated with the poll phase
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
    rpc.close()
    return lags


# ---------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=100_000, help="events to generate (default 100000)")
    parser.add_argument("--batch-size", type=int, default=None, help="GREENPOINTS_BATCH_SIZE (default: indexer's)")
    parser.add_argument("--poll-interval", type=float, default=0.5, help="live poll interval, s (default 0.5)")
    parser.add_argument("--live-tx", type=int, default=50, help="transactions for the live-lag measure (default 50)")
    parser.add_argument("--seed", type=int, default=1, help="seed for the live spacing (default 1)")
    parser.add_argument("--verbose", action="store_true", help="print each live transaction's lag")
    parser.add_argument("--keep-db", action="store_true", help="keep the benchmark database (printed)")
    args = parser.parse_args(argv)

    spec = spec_for(args.events)
    batch = args.batch_size or DEFAULT_BATCH_SIZE
    per_block = f"{spec.checkouts_per_block} checkouts + {spec.transfers_per_block} transfers"
    print(f"chain: {spec.blocks} blocks x ({per_block}), ~{spec.events:,} events")
    started = time.perf_counter()
    chain = cached_chain(spec, BENCH_DIR, log=print)
    size_mb = chain.state.stat().st_size / 2**20
    print(f"chain ready in {time.perf_counter() - started:.1f} s: {chain.state} ({size_mb:.0f} MB)")
    deployment = chain.deployment
    first, head = deployment.deployment_block, int(chain.info["head"])
    workdir = BENCH_DIR / "run"
    workdir.mkdir(parents=True, exist_ok=True)

    database = create_database()
    try:
        loading = time.perf_counter()
        with chain.start() as node:
            print(f"anvil loaded the state in {time.perf_counter() - loading:.1f} s; head {head}")
            addresses = [deployment.pool, deployment.points_token]
            raw_a = raw_fetch(node.url, addresses, first, head, batch)
            print(f"raw eth_getLogs + json.loads: {raw_a.logs:,} logs in {raw_a.seconds:.2f} s")
            settings: dict[str, str | int | float] = {"confirmations": 0, "poll_interval": args.poll_interval}
            if args.batch_size:
                settings["batch_size"] = args.batch_size
            env = indexer_env(node.url, database, chain.deployment_path, **settings)
            print("running `greenpoints index --once` ...")
            result = backfill(env, database, workdir)
            if result.code != 0:
                print(result.output_tail, file=sys.stderr)
                raise SystemExit(f"`greenpoints index --once` exited {result.code}")
            print(result.reported)
            raw_b = raw_fetch(node.url, addresses, first, head, batch)
            raw = raw_a if raw_a.rate >= raw_b.rate else raw_b
            lags: list[float] = []
            if args.live_tx > 0:
                print(f"measuring live lag over {args.live_tx} transactions (poll interval {args.poll_interval} s) ...")
                lags = live_lag(env, database, chain, node.url, args.live_tx, workdir, args.seed, args.verbose)
    finally:
        if args.keep_db:
            print(f"kept database {database}")
        else:
            databases.drop_database(database)

    p50, p99 = percentile(lags, 50), percentile(lags, 99)  # nan without a live measure
    lag_max = max(lags, default=float("nan"))
    lag_target = args.poll_interval + TARGET_LAG_MARGIN
    # The largest of the three views of the indexer's peak memory is held to the target.
    peak_mb = max(result.vm_hwm_mb, result.peak_rss_mb, result.ru_maxrss_mb)
    rows = [
        ("events indexed", f"{result.events:,}", ""),
        ("blocks", f"{head - first + 1:,} (batch size {batch})", ""),
        ("indexer wall time (start to exit)", f"{result.wall:.2f} s", ""),
        ("indexer events/s (wall)", f"{result.rate:,.0f}", f">= {TARGET_RATE:,}"),
        ("indexer's own summary", result.reported.split(": ", 1)[-1], ""),
        ("raw getLogs+json ceiling", f"{raw.rate:,.0f} ev/s ({raw.seconds:.2f} s)", ""),
        ("ratio indexer / raw ceiling", f"{result.rate / raw.rate:.3f}", ""),
        ("peak memory (max of the 3 below)", f"{peak_mb:.0f} MB", f"< {TARGET_MEMORY_MB} MB"),
        ("  ru_maxrss (RUSAGE_CHILDREN)", f"{result.ru_maxrss_mb:.0f} MB", ""),
        ("  VmHWM (/proc, polled)", f"{result.vm_hwm_mb:.0f} MB", ""),
        ("  RSS (psutil, polled)", f"{result.peak_rss_mb:.0f} MB", ""),
        ("live lag p50", f"{p50 * 1000:.0f} ms (n={len(lags)})", ""),
        ("live lag p99", f"{p99 * 1000:.0f} ms (max {lag_max * 1000:.0f} ms)", f"< {lag_target * 1000:.0f} ms"),
    ]
    verdicts = {
        "indexer events/s (wall)": result.rate >= TARGET_RATE,
        "peak memory (max of the 3 below)": peak_mb < TARGET_MEMORY_MB,
    }
    if lags:
        verdicts["live lag p99"] = p99 < lag_target
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    print()
    print(f"{'metric':<{width[0]}}  {'measured':<{width[1]}}  {'target':<{width[2]}}  verdict")
    print("-" * (sum(width) + 15))
    for name, value, target in rows:
        verdict = "" if name not in verdicts else ("met" if verdicts[name] else "MISSED")
        print(f"{name:<{width[0]}}  {value:<{width[1]}}  {target:<{width[2]}}  {verdict}")
    print(f"\nmachine: {os.cpu_count()} CPUs, load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
