"""The `greenpoints` command as a user runs it: a real process against a real anvil."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from greenpoints.anvil import Anvil
from greenpoints.chain import connect
from greenpoints.deploy import deploy
from greenpoints.simulate import simulate

CLI = [sys.executable, "-m", "cli"]


def run_cli(*args: str, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENPOINTS_")}
    return subprocess.run([*CLI, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_deploy_then_simulate_on_an_rpc(anvil: Anvil, tmp_path: Path) -> None:
    deployment = tmp_path / "deployment.json"
    result = run_cli("--rpc", anvil.url, "--deployment", str(deployment), "deploy", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    record = json.loads(deployment.read_text())
    assert record["chain_id"] == 31337
    assert {"TestStablecoin", "DividendPool"} <= set(record["tx_hashes"])
    assert record["compiler"]["settings"]["evmVersion"] == "cancun"
    assert [m["rate_bps"] for m in record["merchants"]] == [1000, 1500, 500]

    result = run_cli("--rpc", anvil.url, "--deployment", str(deployment), "simulate", "--orders", "12", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "simulated 12 actions" in result.stdout
    assert "reserve" in result.stdout and "price" in result.stdout


def test_deploy_without_rpc_starts_and_persists_a_local_chain(tmp_path: Path) -> None:
    deployment = str(tmp_path / "31337.json")
    result = run_cli("--deployment", deployment, "deploy", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "local chain: anvil" in result.stdout
    assert (tmp_path / ".greenpoints" / "chain-state.json").is_file()
    # A second command finds the same chain (state reloaded) and the contracts still there.
    result = run_cli("--deployment", deployment, "simulate", "--orders", "3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "simulated 3 actions" in result.stdout


def test_simulation_is_reproducible() -> None:
    with Anvil() as node_a, Anvil() as node_b:
        runs = []
        for node in (node_a, node_b):
            chain = connect(node.url)
            deployment = deploy(chain, log=lambda _: None)
            runs.append(simulate(chain, deployment, 25, seed=11, log=None))
        assert runs[0].counts == runs[1].counts
        assert runs[0].tx_hashes == runs[1].tx_hashes
        chain = connect(node_a.url)
        other = simulate(chain, deploy(chain, log=lambda _: None), 25, seed=12, log=None)
        assert other.tx_hashes != runs[0].tx_hashes


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["simulate", "--orders", "0"], 2, "must be at least 1"),
        (["simulate", "--seed", "x"], 2, "not an integer"),
        (
            ["--rpc", "http://127.0.0.1:9", "deploy"],
            1,
            "greenpoints: error: cannot reach JSON-RPC at http://127.0.0.1:9",
        ),
        (
            ["--deployment", "missing.json", "verify-bundle"],
            1,
            "greenpoints: error: no deployment file at missing.json",
        ),
    ],
)
def test_bad_input_is_one_line_and_non_zero(tmp_path: Path, args: list[str], code: int, message: str) -> None:
    result = run_cli(*args, cwd=tmp_path, timeout=60)
    assert result.returncode == code
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_simulate_refuses_a_deployment_for_another_chain(anvil: Anvil, tmp_path: Path) -> None:
    deployment = tmp_path / "other.json"
    deployment.write_text(json.dumps({"chain_id": 5}))
    result = run_cli("--rpc", anvil.url, "--deployment", str(deployment), "simulate", cwd=tmp_path)
    assert result.returncode == 1
    assert "malformed" in result.stderr or "chain 5" in result.stderr


def test_walkthrough_runs_end_to_end(tmp_path: Path) -> None:
    result = run_cli("walkthrough", "--orders", "5", cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # The SPEC §2 figures, as printed after each step.
    assert "reserve 150 | points 350 | price 0.428571428571428571" in out
    assert "payout 38.571427, tax 2.571428, kept in the pool 1.714287" in out
    assert "reserve 108.857145 | points 250 | price 0.43542858 |" in out
    assert "540 into the pool, 1260 points" in out
    assert "reserve backs every point (asset balance >= reserve + tax accrued): yes" in out
    # Then the indexer mirrors the run into PostgreSQL and the audit finds it equal to the chain.
    assert "result: mirror equals the chain" in out
    assert "alembic.runtime.plugins" not in result.stderr


# Arguments a command needs besides the global options, to parse at all.
REQUIRED_ARGS: dict[str, list[str]] = {
    "db": ["upgrade"],
    "resync": ["--from-deployment"],
    "model": ["fraud"],
    "merchant": ["status", "--order", "A-1"],
}


def _commands() -> list[str]:
    from cli.main import build_parser

    parser = build_parser()
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return sorted(actions[0].choices)


@pytest.mark.parametrize("command", _commands())
def test_global_options_before_or_after_every_command(command: str) -> None:
    from cli.main import build_parser

    extra = REQUIRED_ARGS.get(command, [])
    options = ["--rpc", "http://127.0.0.1:1", "--deployment", "d.json"]
    for argv in ([*options, command, *extra], [command, *options, *extra], [command, *extra, *options]):
        args = build_parser().parse_args(argv)
        assert (args.command, args.rpc_url, args.deployment) == (command, "http://127.0.0.1:1", Path("d.json")), argv
    # Not given anywhere: unset, so the environment and the defaults apply.
    args = build_parser().parse_args([command, *extra])
    assert (args.rpc_url, args.deployment) == (None, None)


def test_deploy_with_the_rpc_after_the_command_as_the_readme_shows(anvil: Anvil, tmp_path: Path) -> None:
    deployment = tmp_path / "after.json"
    result = run_cli("deploy", "--rpc", anvil.url, "--deployment", str(deployment), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(deployment.read_text())["chain_id"] == 31337
