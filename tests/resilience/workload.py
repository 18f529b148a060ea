"""Fast bulk workloads on anvil for the resilience tests and the indexer benchmark.

`greenpoints.simulate` sends one transaction at a time (about 40 per second). Here automine is
switched off and each block is filled with one JSON-RPC batch of `eth_sendTransaction` calls
(checkouts by the demo merchants and small point transfers between customers, explicit nonces
and gas), then mined with `evm_mine`. A generated chain can be cached with anvil's
`--dump-state` and reloaded with `--load-state` (the deployment file is kept alongside).

Per block: each checkout emits two indexed events (the points `Transfer` mint and `CheckedOut`),
each transfer one; the reserve asset's own `Transfer` is not indexed.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from eth_abi import encode
from web3 import Web3

from greenpoints.anvil import Anvil
from greenpoints.chain import connect
from greenpoints.compiler import ROOT
from greenpoints.deploy import deploy, local_roles
from greenpoints.deployment import Deployment, load_deployment
from greenpoints.simulate import simulate

CHECKOUT_SELECTOR = Web3.keccak(text="checkout(address,uint256,bytes32)")[:4]
TRANSFER_SELECTOR = Web3.keccak(text="transfer(address,uint256)")[:4]
CHECKOUT_GAS = 400_000
TRANSFER_GAS = 120_000
# Anvil flags for bulk blocks: no block gas limit and no base fee, so any batch fits one block.
BULK_ANVIL_ARGS = ["--disable-block-gas-limit", "--base-fee", "0", "--gas-price", "0"]
CACHE_DIR = ROOT / ".greenpoints"


class Rpc:
    """Minimal raw JSON-RPC on one keep-alive session (single calls and batches)."""

    def __init__(self, url: str, timeout: float = 120.0) -> None:
        self.url = url
        self.timeout = timeout
        self.session = requests.Session()
        self._id = 0

    def call(self, method: str, params: list[Any] | None = None) -> Any:
        self._id += 1
        body = {"jsonrpc": "2.0", "id": self._id, "method": method, "params": params or []}
        answer = self.session.post(self.url, json=body, timeout=self.timeout).json()
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        body = []
        for method, params in calls:
            self._id += 1
            body.append({"jsonrpc": "2.0", "id": self._id, "method": method, "params": params})
        answer = self.session.post(self.url, json=body, timeout=self.timeout).json()
        by_id = {item["id"]: item for item in answer}
        out = []
        for item in body:
            got = by_id[item["id"]]
            if "error" in got:
                raise RuntimeError(f"{item['method']}: {got['error']}")
            out.append(got["result"])
        return out

    def close(self) -> None:
        self.session.close()


def artifacts_digest() -> str:
    """A digest of the compiled contracts and of the code that deploys and drives them: a cached
    chain is only reused for the same bytecode, deployment and simulation."""
    digest = hashlib.sha256()
    for name in ("DividendPool", "PointsToken", "TestStablecoin"):
        digest.update((ROOT / "artifacts" / f"{name}.json").read_bytes())
    for source in ("deploy.py", "simulate.py"):
        digest.update((ROOT / "greenpoints" / source).read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class WorkloadSpec:
    """How many blocks and how many checkouts / transfers per block; `seed` picks the parties."""

    blocks: int
    checkouts_per_block: int
    transfers_per_block: int
    seed: int = 1

    @property
    def events(self) -> int:
        """Indexed pool/token events the workload produces (excluding the deployment's own)."""
        return self.blocks * 2 * self.checkouts_per_block + (self.blocks - 1) * self.transfers_per_block

    def key(self) -> str:
        """A cache key: the workload and the compiled contracts it runs against."""
        text = json.dumps(self.__dict__, sort_keys=True) + artifacts_digest()
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class WorkloadResult:
    """What a bulk workload did: its blocks and how many transactions it sent."""

    first_block: int
    last_block: int
    transactions: int
    seconds: float


def checkout_data(customer: str, sale: int, order_id: bytes) -> str:
    return "0x" + (CHECKOUT_SELECTOR + encode(["address", "uint256", "bytes32"], [customer, sale, order_id])).hex()


def transfer_data(to: str, amount: int) -> str:
    return "0x" + (TRANSFER_SELECTOR + encode(["address", "uint256"], [to, amount])).hex()


def generate(
    url: str,
    deployment: Deployment,
    spec: WorkloadSpec,
    *,
    log: Callable[[str], None] | None = None,
) -> WorkloadResult:
    """Mine `spec.blocks` bulk blocks on the anvil at `url` (automine is restored afterwards)."""
    w3 = connect(url)
    rpc = Rpc(url)
    roles = local_roles(w3)
    merchants = [m.address for m in deployment.merchants]
    customers: list[str] = roles["customers"]
    rng = random.Random(spec.seed)
    nonces = dict(
        zip(
            merchants + customers,
            [
                int(n, 16)
                for n in rpc.batch([("eth_getTransactionCount", [a, "pending"]) for a in merchants + customers])
            ],
            strict=True,
        )
    )
    unit = 10**deployment.asset_decimals
    first = int(rpc.call("eth_blockNumber"), 16) + 1
    started = time.monotonic()
    sent = 0
    rpc.call("evm_setAutomine", [False])
    try:
        for b in range(spec.blocks):
            calls: list[tuple[str, list[Any]]] = []
            for i in range(spec.checkouts_per_block):
                merchant = merchants[(b + i) % len(merchants)]
                customer = customers[rng.randrange(len(customers))]
                sale = rng.randint(1, 50) * unit
                order = hashlib.sha256(f"{deployment.pool}:{spec.seed}:{first}:{b}:{i}".encode()).digest()
                tx = {
                    "from": merchant,
                    "to": deployment.pool,
                    "data": checkout_data(customer, sale, order),
                    "gas": hex(CHECKOUT_GAS),
                    "gasPrice": "0x0",
                    "nonce": hex(nonces[merchant]),
                }
                nonces[merchant] += 1
                calls.append(("eth_sendTransaction", [tx]))
            # Transfers only after the first block, so every customer that sends has points (1 wei each).
            for _ in range(spec.transfers_per_block if b > 0 else 0):
                sender, receiver = rng.sample(customers, 2)
                tx = {
                    "from": sender,
                    "to": deployment.points_token,
                    "data": transfer_data(receiver, 1),
                    "gas": hex(TRANSFER_GAS),
                    "gasPrice": "0x0",
                    "nonce": hex(nonces[sender]),
                }
                nonces[sender] += 1
                calls.append(("eth_sendTransaction", [tx]))
            if calls:
                rpc.batch(calls)
                sent += len(calls)
            rpc.call("evm_mine")
            if log is not None and (b + 1) % max(1, spec.blocks // 10) == 0:
                log(f"workload: {b + 1}/{spec.blocks} blocks, {sent} transactions")
        status = rpc.call("txpool_status")
        if int(status["pending"], 16) or int(status["queued"], 16):
            raise RuntimeError(f"transactions left in anvil's pool after the workload: {status}")
    finally:
        rpc.call("evm_setAutomine", [True])
    last = int(rpc.call("eth_blockNumber"), 16)
    _check_receipts(rpc, first, last)
    rpc.close()
    return WorkloadResult(first, last, sent, time.monotonic() - started)


def _check_receipts(rpc: Rpc, first: int, last: int) -> None:
    """Every transaction of the workload succeeded (a revert would silently lose events)."""
    numbers = list(range(first, last + 1))
    for start in range(0, len(numbers), 200):
        chunk = numbers[start : start + 200]
        for receipts in rpc.batch([("eth_getBlockReceipts", [hex(n)]) for n in chunk]):
            failed = [r["transactionHash"] for r in receipts or [] if int(r["status"], 16) != 1]
            if failed:
                raise RuntimeError(f"workload transaction reverted: {failed[0]}")


def wait_group_exit(pgid: int, timeout: float = 60.0) -> None:
    """Wait until no process of group `pgid` is left (the npm `anvil` launcher exits before the
    native binary has finished writing `--dump-state`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise RuntimeError(f"anvil (process group {pgid}) did not exit within {timeout:.0f} s")


def strip_traces(path: Path) -> None:
    """Drop the call traces from an anvil state dump (about 70% of its size). Logs and receipts
    stay, so eth_getLogs and receipts answer as before; only trace/debug APIs lose history."""
    state = json.loads(path.read_text())
    for tx in state.get("transactions") or []:
        info = tx.get("info")
        if isinstance(info, dict) and "traces" in info:
            info["traces"] = []
    path.write_text(json.dumps(state, separators=(",", ":")))


class PatientAnvil(Anvil):
    """An `Anvil` that waits longer for the node to answer (loading a big state takes a while)."""

    ready_timeout = 120.0

    def _wait_ready(self, timeout: float = 15.0) -> None:
        super()._wait_ready(max(timeout, self.ready_timeout))


@dataclass
class CachedChain:
    """A generated chain on disk: anvil state, deployment file, and what the workload did."""

    state: Path
    deployment_path: Path
    info: dict[str, Any]

    @property
    def deployment(self) -> Deployment:
        return load_deployment(self.deployment_path)

    @contextmanager
    def start(self, extra_args: list[str] | None = None) -> Iterator[Anvil]:
        """An anvil loaded from the cached state (nothing is written back)."""
        with PatientAnvil(accounts=20, extra_args=["--load-state", str(self.state), *(extra_args or [])]) as node:
            yield node


def cached_chain(
    spec: WorkloadSpec,
    directory: Path | None = None,
    *,
    log: Callable[[str], None] | None = None,
) -> CachedChain:
    """The chain of `spec` (deployment + bulk workload), generated once and cached on disk."""

    def make(url: str, deployment: Deployment) -> dict[str, Any]:
        result = generate(url, deployment, spec, log=log)
        return {
            "spec": spec.__dict__,
            "events": spec.events,
            "first_block": result.first_block,
            "last_block": result.last_block,
            "transactions": result.transactions,
            "generate_seconds": round(result.seconds, 2),
        }

    return cached_state(f"bulk-{spec.key()}", make, directory, extra_args=BULK_ANVIL_ARGS)


def cached_simulation(actions: int, seed: int, directory: Path | None = None) -> CachedChain:
    """A deployment plus `greenpoints.simulate.simulate(actions, seed)`, generated once and cached."""

    def make(url: str, deployment: Deployment) -> dict[str, Any]:
        started = time.monotonic()
        simulate(connect(url), deployment, actions, seed, log=None)
        return {"actions": actions, "seed": seed, "generate_seconds": round(time.monotonic() - started, 2)}

    key = hashlib.sha256(f"simulate:{actions}:{seed}:{artifacts_digest()}".encode()).hexdigest()[:16]
    return cached_state(f"simulate-{key}", make, directory)


def cached_state(
    name: str,
    make: Callable[[str, Deployment], dict[str, Any]],
    directory: Path | None = None,
    *,
    extra_args: list[str] | None = None,
) -> CachedChain:
    """A chain made by deploying and then `make(url, deployment)`, cached under `directory/name`
    (anvil `--dump-state` plus the deployment file and `make`'s info); reused when present."""
    folder = (directory or CACHE_DIR / "workloads") / name
    state, deployment_path, info_path = folder / "state.json", folder / "deployment.json", folder / "info.json"
    if state.is_file() and deployment_path.is_file() and info_path.is_file():
        return CachedChain(state, deployment_path, json.loads(info_path.read_text()))
    folder.mkdir(parents=True, exist_ok=True)
    # Private names until the end, so two concurrent test runs never read a half-written cache.
    tag = f"{os.getpid()}.{uuid.uuid4().hex[:6]}"
    partial = folder / f"state.partial.{tag}.json"
    node = Anvil(accounts=20, extra_args=["--dump-state", str(partial), *(extra_args or [])])
    try:
        w3 = connect(node.url)
        deployment = deploy(w3, log=lambda _: None)
        info = make(node.url, deployment)
        info["deployment_block"] = deployment.deployment_block
        info["head"] = w3.eth.block_number
    except BaseException:
        node.stop()
        wait_group_exit(node.process.pid)
        partial.unlink(missing_ok=True)
        raise
    finally:
        node.stop()  # SIGTERM: anvil writes --dump-state on exit
        wait_group_exit(node.process.pid)
    if not partial.is_file():
        raise RuntimeError(f"anvil did not write its state to {partial}")
    strip_traces(partial)
    staged_deployment = deployment.save(folder / f"deployment.partial.{tag}.json")
    staged_info = folder / f"info.partial.{tag}.json"
    staged_info.write_text(json.dumps(info, indent=2) + "\n")
    staged_deployment.replace(deployment_path)
    staged_info.replace(info_path)
    partial.replace(state)  # last: the cache counts as present once state.json exists
    return CachedChain(state, deployment_path, info)
