"""Benchmark of the merchant gateway: checkouts per second through it with one merchant key, and the
latency from the HTTP request to "sent" and to "final", against bare web3.py in the same run.

    .venv/bin/python scripts/bench_gateway.py [--checkouts 500] [--clients 16] [--confirmations 0] [--rate 0]

1. A fresh anvil (automine) and deployment, and a fresh PostgreSQL database for the outbox.
2. Gateway: `greenpoints merchant serve` (the console script, webhooks off, its log in
   .greenpoints/bench/gateway.log) with the Sofa Store's key; `--clients` threads POST
   `--checkouts` checkouts (each its own idempotency key). Latency per checkout: from its
   hand-over (all at the start, or one every 1/`--rate` s) to its row's `sent_at` (the
   transaction signed and stored, sent right after) and to `finished_at` (final: mined with
   `--confirmations` blocks on top; with confirmations > 0 a thread mines a block every 0.1 s).
3. Baseline: the same checkouts (same customers and amounts, other order references) by the Tea
   House's key with bare web3.py: one thread signs each with the next nonce and sends it
   (`send_raw_transaction`) at its hand-over time, a second polls the receipts. Latency: from
   the hand-over to the send returning ("sent") and to its receipt seen with the confirmations
   ("final"). Saturating (`--rate 0`) measures throughput, and latency is mostly queueing;
   below capacity (`--rate 10`) latency is the cost of one checkout.

Figures are printed, nothing is asserted. The baseline has no durability, no idempotency and no
retry of any kind: the gap is what those cost. anvil's automine mines one block per transaction,
which bounds both throughputs on this node. Needs anvil (npm ci) and PostgreSQL on
127.0.0.1:5432 (user postgres). Run it on a quiet machine for figures worth writing down.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import requests

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from eth_account import Account  # noqa: E402
from web3 import Web3  # noqa: E402
from web3.exceptions import TransactionNotFound  # noqa: E402

from greenpoints import databases  # noqa: E402 - needs the repository on sys.path
from greenpoints.anvil import ANVIL_MNEMONIC, Anvil, free_port  # noqa: E402
from greenpoints.chain import connect, contract  # noqa: E402
from greenpoints.deploy import deploy  # noqa: E402
from greenpoints.orders import order_id  # noqa: E402

TOKEN = "bench-token-0123456789"
TEA_HOUSE, SOFA_STORE = 2, 3  # anvil accounts of the demo merchants


def key_of(index: int) -> str:
    Account.enable_unaudited_hdwallet_features()
    return "0x" + bytes(Account.from_mnemonic(ANVIL_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}").key).hex()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Result:
    name: str
    count: int
    seconds: float
    to_sent: list[float]
    to_final: list[float]

    def line(self) -> str:
        ms = lambda v: f"{v * 1000:.0f} ms"  # noqa: E731
        return (
            f"{self.name:<8} {self.count} checkouts in {self.seconds:.2f} s = {self.count / self.seconds:6.1f}/s;"
            f" to sent p50 {ms(percentile(self.to_sent, 0.5))} p99 {ms(percentile(self.to_sent, 0.99))};"
            f" to final p50 {ms(percentile(self.to_final, 0.5))} p99 {ms(percentile(self.to_final, 0.99))}"
        )


class Miner:
    """A block every `interval` seconds (so that confirmations come without new checkouts)."""

    def __init__(self, url: str, interval: float = 0.1) -> None:
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(url, interval), daemon=True)

    def _run(self, url: str, interval: float) -> None:
        session = requests.Session()
        while not self.stop.wait(interval):
            session.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "evm_mine", "params": []}, timeout=10)


def handed_over(started: float, number: int, rate: float) -> float:
    """When checkout `number` is handed to the system under test: all at the start (rate 0,
    saturating), or one every 1/rate seconds. Latencies count from here, queueing included."""
    return started if rate == 0 else started + number / rate


def wait_until(moment: float) -> None:
    delay = moment - time.time()
    if delay > 0:
        time.sleep(delay)


def sales(w3: Web3, count: int) -> list[tuple[str, int]]:
    customers = w3.eth.accounts[5:15]
    return [(customers[i % len(customers)], 100 + i % 900) for i in range(count)]


def run_gateway(
    anvil: Anvil, deployment_file: Path, database_url: str, work: list[tuple[str, int]], args: Any
) -> Result:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENPOINTS_")}
    env.update(
        GREENPOINTS_RPC_URL=anvil.url,
        GREENPOINTS_DEPLOYMENT=str(deployment_file),
        GREENPOINTS_GATEWAY_DATABASE_URL=database_url,
        GREENPOINTS_GATEWAY_TOKENS=TOKEN,
        GREENPOINTS_GATEWAY_CONFIRMATIONS=str(args.confirmations),
        GREENPOINTS_GATEWAY_POLL_INTERVAL="0.05",
        GREENPOINTS_MERCHANT_KEY=key_of(SOFA_STORE),
    )
    log_path = ROOT / ".greenpoints" / "bench" / "gateway.log"
    log = log_path.open("wb")
    script = ROOT / ".venv" / "bin" / "greenpoints"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "cli"]
    process = subprocess.Popen(
        [*command, "merchant", "serve", "--port", str(port)], env=env, stdout=log, stderr=log, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(url + "/healthz", timeout=1).json().get("worker") == "running":
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit("the gateway did not start")
            time.sleep(0.05)
        requested: dict[str, float] = {}
        local = threading.local()
        started = time.time()

        def post(item: tuple[int, tuple[str, int]]) -> None:
            number, (customer, amount) = item
            session = getattr(local, "session", None) or requests.Session()
            local.session = session
            key = f"bench-{number}"
            requested[key] = handed_over(started, number, args.rate)
            wait_until(requested[key])
            body = {"customer": customer, "amount": str(amount), "order_ref": f"G-{number}"}
            response = session.post(
                url + "/v1/checkouts",
                json=body,
                headers={"Idempotency-Key": key, "Authorization": f"Bearer {TOKEN}"},
                timeout=30,
            )
            response.raise_for_status()

        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            list(pool.map(post, enumerate(work)))
        conninfo = "postgresql://" + database_url.split("://", 1)[1]
        with psycopg.connect(conninfo) as conn:
            while True:
                rows = conn.execute(
                    "SELECT idempotency_key, state, extract(epoch FROM sent_at), extract(epoch FROM finished_at)"
                    " FROM gateway_checkouts"
                ).fetchall()
                conn.commit()
                if len(rows) == len(work) and all(r[1] in ("final", "failed") for r in rows):
                    break
                time.sleep(0.05)
        failed = [r[0] for r in rows if r[1] != "final"]
        if failed:
            raise SystemExit(f"{len(failed)} gateway checkouts failed")
        finished = max(float(r[3]) for r in rows)
        return Result(
            "gateway",
            len(rows),
            finished - started,
            [float(r[2]) - requested[r[0]] for r in rows],
            [float(r[3]) - requested[r[0]] for r in rows],
        )
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


def run_web3(anvil: Anvil, w3: Web3, pool_address: str, work: list[tuple[str, int]], args: Any) -> Result:
    """Bare web3.py: sign with consecutive nonces and send, one thread; another watches receipts."""
    account = Account.from_key(key_of(TEA_HOUSE))
    pool = contract(w3, "DividendPool", pool_address)
    chain_id = w3.eth.chain_id
    nonce = w3.eth.get_transaction_count(account.address, "pending")
    tip = w3.eth.max_priority_fee
    base = w3.eth.get_block("latest")["baseFeePerGas"]
    gas = 150_000
    requested: dict[str, float] = {}
    sent: dict[str, float] = {}
    final: dict[str, float] = {}
    done = threading.Event()

    def watch() -> None:
        watcher = Web3(Web3.HTTPProvider(anvil.url))
        while not done.is_set() or len(final) < len(sent):
            head = watcher.eth.block_number
            for tx_hash in [h for h in list(sent) if h not in final]:
                try:
                    receipt = watcher.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
                except TransactionNotFound:
                    continue
                if head - receipt["blockNumber"] >= confirmations:
                    assert receipt["status"] == 1, f"baseline checkout {tx_hash} reverted"
                    final[tx_hash] = time.time()
            time.sleep(0.01)

    watch_thread = threading.Thread(target=watch, daemon=True)
    confirmations = args.confirmations
    started = time.time()
    for number, (customer, amount) in enumerate(work):
        begin = handed_over(started, number, args.rate)
        wait_until(begin)
        tx = pool.functions.checkout(customer, amount * 10**6, order_id(f"W-{number}")).build_transaction(
            {  # type: ignore[arg-type]
                "from": account.address,
                "nonce": nonce + number,
                "gas": gas,
                "maxFeePerGas": 2 * base + tip,
                "maxPriorityFeePerGas": tip,
                "chainId": chain_id,
            }
        )
        signed = account.sign_transaction(tx)
        tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction).to_0x_hex()
        requested[tx_hash], sent[tx_hash] = begin, time.time()
        if number == 0:
            watch_thread.start()
    done.set()
    watch_thread.join()
    return Result(
        "web3.py",
        len(work),
        max(final.values()) - started,
        [sent[h] - requested[h] for h in sent],
        [final[h] - requested[h] for h in sent],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkouts", type=int, default=500)
    parser.add_argument("--clients", type=int, default=16, help="concurrent HTTP clients of the gateway")
    parser.add_argument("--confirmations", type=int, default=0)
    parser.add_argument(
        "--rate", type=float, default=0.0, help="checkouts handed over per second (default 0: all at once, saturating)"
    )
    args = parser.parse_args()

    name = f"gp_bench_gateway_{uuid.uuid4().hex[:8]}"
    database_url = databases.create_database(name)
    try:
        with Anvil(accounts=20) as anvil:
            w3 = connect(anvil.url)
            deployment = deploy(w3, asset_decimals=6, log=lambda _: None)
            deployment_file = deployment.save(ROOT / ".greenpoints" / "bench" / "gateway-deployment.json")
            work = sales(w3, args.checkouts)
            miner = Miner(anvil.url)
            if args.confirmations:
                miner.thread.start()
            try:
                gateway = run_gateway(anvil, deployment_file, database_url, work, args)
                baseline = run_web3(anvil, w3, deployment.pool, work, args)
            finally:
                miner.stop.set()
        pace = "all handed over at once" if args.rate == 0 else f"handed over at {args.rate:g}/s"
        print(
            f"{args.checkouts} checkouts ({pace}), {args.clients} HTTP clients, {args.confirmations} confirmations,"
            " one key each; latency from hand-over, queueing included"
        )
        print(gateway.line())
        print(baseline.line())
        rate = (gateway.count / gateway.seconds) / (baseline.count / baseline.seconds)
        slower = statistics.median(gateway.to_final) / statistics.median(baseline.to_final)
        print(f"gateway / web3.py: throughput {rate:.2f}, p50 latency to final {slower:.1f} times as long")
    finally:
        databases.drop_database(name)


if __name__ == "__main__":
    main()
