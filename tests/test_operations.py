"""The non-local path (docs/operations.md) on an anvil with another chain id: deploying needs an
asset and a key (here from an encrypted keystore), registers no demo merchants and delays
parameter changes by two days; the indexer and the audit work on it; the demo refuses it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account

from greenpoints import databases
from greenpoints.anvil import Anvil, dev_account
from greenpoints.chain import connect, contract, deploy_contract

CHAIN_ID = 8453  # not one of anvil's local chain ids
PASSWORD = "correct horse battery staple"


def run_cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("GREENPOINTS_")}
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=cwd,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def public_chain(artifacts: None) -> Iterator[Anvil]:
    with Anvil(chain_id=CHAIN_ID) as node:
        yield node


def test_deploy_on_a_non_local_chain_with_a_keystore(public_chain: Anvil, tmp_path: Path) -> None:
    rpc = public_chain.url
    operator = dev_account(3)
    # A stablecoin that already exists on "the public chain", deployed by someone else.
    w3 = connect(rpc, "0x" + dev_account(4).key.hex())
    stable, _ = deploy_contract(w3, "TestStablecoin", dev_account(4).address, "USD Coin", "USDC", 6)
    out = tmp_path / "deployment.json"

    refused = run_cli("deploy", "--rpc", rpc, "--deployment", str(out), cwd=tmp_path)
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        f"greenpoints: error: chain {CHAIN_ID} is not a local chain: set GREENPOINTS_PRIVATE_KEY to deploy"
    ]
    key = "0x" + operator.key.hex()
    no_asset = run_cli("deploy", "--rpc", rpc, "--deployment", str(out), cwd=tmp_path, GREENPOINTS_PRIVATE_KEY=key)
    assert no_asset.returncode == 1 and "pass --asset" in no_asset.stderr

    keystore = tmp_path / "operator.json"
    keystore.write_text(json.dumps(Account.encrypt(operator.key, PASSWORD, kdf="pbkdf2", iterations=1_000)))
    wrong = run_cli(
        "deploy", "--rpc", rpc, "--asset", stable.address, "--keystore", str(keystore), cwd=tmp_path,
        GREENPOINTS_KEYSTORE_PASSWORD="wrong",
    )  # fmt: skip
    assert wrong.returncode == 1 and f"wrong password for keystore {keystore}" in wrong.stderr
    assert PASSWORD not in wrong.stderr + wrong.stdout

    done = run_cli(
        "deploy", "--rpc", rpc, "--deployment", str(out), "--asset", stable.address, "--keystore", str(keystore),
        cwd=tmp_path, GREENPOINTS_KEYSTORE_PASSWORD=PASSWORD,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = json.loads(out.read_text())
    assert (record["chain_id"], record["admin"], record["merchants"]) == (CHAIN_ID, operator.address, [])
    assert (record["asset"], record["test_asset"], record["admin_delay"]) == (stable.address, False, 2 * 86_400)
    assert "TestStablecoin" not in record["tx_hashes"]
    timelock = contract(w3, "TimelockController", record["timelock"])
    assert timelock.functions.getMinDelay().call() == 2 * 86_400
    pool = contract(w3, "DividendPool", record["pool"])
    assert pool.functions.defaultAdmin().call() == record["timelock"]

    # The indexer and the audit need nothing local.
    name = "gp_ops_test"
    url = databases.create_database(name, replace=True)
    try:
        env = {"GREENPOINTS_RPC_URL": rpc, "GREENPOINTS_DEPLOYMENT": str(out), "GREENPOINTS_DATABASE_URL": url}
        indexed = run_cli("index", "--once", cwd=tmp_path, **env)
        assert indexed.returncode == 0, indexed.stderr
        audited = run_cli("audit", cwd=tmp_path, **env)
        assert audited.returncode == 0, audited.stdout + audited.stderr
        assert "mirror equals the chain" in audited.stdout
    finally:
        databases.drop_database(name)


def test_the_demo_refuses_a_public_chain(public_chain: Anvil, tmp_path: Path) -> None:
    done = run_cli("demo", cwd=tmp_path, GREENPOINTS_RPC_URL=public_chain.url)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"greenpoints: error: GREENPOINTS_RPC_URL: chain {CHAIN_ID} is not a local chain")
