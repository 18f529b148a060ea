"""`greenpoints merchant ...` in this process: what each command prints, and the settings it refuses."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cli.main import main
from greenpoints.anvil import Anvil
from greenpoints.config import load_settings
from greenpoints.errors import ConfigError
from merchant.settings import load_gateway_settings, load_merchant_settings
from tests.conftest import PoolEnv
from tests.merchant.conftest import SOFA_STORE, anvil_key


@pytest.fixture
def cli_env(anvil: Anvil, env: PoolEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PoolEnv:
    for name in [k for k in os.environ if k.startswith("GREENPOINTS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("GREENPOINTS_RPC_URL", anvil.url)
    monkeypatch.setenv("GREENPOINTS_DEPLOYMENT", str(env.deployment.save(tmp_path / "deployment.json")))
    monkeypatch.setenv("GREENPOINTS_MERCHANT_KEY", anvil_key(SOFA_STORE))
    return env


def test_checkout_quote_and_status_print_what_happened(cli_env: PoolEnv, capsys: pytest.CaptureFixture[str]) -> None:
    env = cli_env
    customer, sofa = env.customers[0], env.merchants[1]
    assert main(["merchant", "quote", "--amount", "12000.00"]) == 0
    assert capsys.readouterr().out == "a sale of 12000 mints 1260 points; 540 tUSD into the pool\n"
    assert main(["merchant", "status", "--order", "C-1"]) == 0
    assert capsys.readouterr().out.startswith(f"order C-1 is not checked out by {sofa} (order id 0x")
    assert main(["merchant", "checkout", "--customer", customer, "--amount", "12000.00", "--order", "C-1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"order C-1 checked out: 1260 points to {customer}, 540 tUSD into the pool"
    assert lines[1].startswith("  order id 0x") and lines[2].startswith("  tx 0x") and "(0 confirmations)" in lines[2]
    assert main(["merchant", "status", "--order", "C-1", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["checked_out"] and status["checkout"]["points"] == "1260" and status["checkout"]["amount"] == "12000"
    assert env.token.functions.balanceOf(customer).call() == 1260 * 10**18
    # Read-only commands for another merchant need no key.
    os.environ.pop("GREENPOINTS_MERCHANT_KEY")
    assert main(["merchant", "quote", "--amount", "5000", "--merchant", env.merchants[0], "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"amount": "5000", "points": "350", "pool_in": "150"}
    assert main(["merchant", "checkout", "--customer", customer, "--amount", "1", "--order", "C-2"]) == 1
    assert "no merchant key" in capsys.readouterr().err


def test_serve_refuses_an_incomplete_configuration(
    cli_env: PoolEnv, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GREENPOINTS_GATEWAY_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/unused")
    assert main(["merchant", "serve"]) == 1
    assert "GREENPOINTS_GATEWAY_TOKENS: set at least one bearer token" in capsys.readouterr().err
    monkeypatch.setenv("GREENPOINTS_GATEWAY_TOKENS", "short")
    assert main(["merchant", "serve"]) == 1
    err = capsys.readouterr().err
    assert "GREENPOINTS_GATEWAY_TOKENS: Value error, each token must have at least 16 characters (got <hidden>)" in err
    monkeypatch.setenv("GREENPOINTS_GATEWAY_TOKENS", "a-long-enough-token")
    monkeypatch.setenv("GREENPOINTS_GATEWAY_WEBHOOK_URL", "http://127.0.0.1:9/hooks")
    assert main(["merchant", "serve"]) == 1
    assert "go together" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        main(["merchant", "serve", "--port", "70000"])
    assert usage.value.code == 2 and "a port is at most 65535" in capsys.readouterr().err


def test_part_settings_are_their_own(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [k for k in os.environ if k.startswith("GREENPOINTS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("GREENPOINTS_GATEWAY_CONFIRMATIONS", "3")
    monkeypatch.setenv("GREENPOINTS_MERCHANT_CONFIRMATIONS", "2")
    assert load_settings(env_file=None).confirmations == 0  # the indexer's own setting is untouched
    assert load_gateway_settings(env_file=None).confirmations == 3
    assert load_merchant_settings(env_file=None).confirmations == 2
    monkeypatch.setenv("GREENPOINTS_GATEWAY_TOKENS", "a-long-enough-token")
    fallback = "postgresql://postgres@127.0.0.1:5432/shared"
    assert load_gateway_settings(env_file=None).require_complete(fallback) == fallback  # GREENPOINTS_DATABASE_URL
    monkeypatch.setenv("GREENPOINTS_GATEWAY_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/own")
    assert load_gateway_settings(env_file=None).require_complete(fallback).endswith("/own")
    monkeypatch.setenv("GREENPOINTS_GATEWAY_CONFIRMATONS", "3")
    with pytest.raises(ConfigError, match="GREENPOINTS_GATEWAY_CONFIRMATONS: unknown setting"):
        load_gateway_settings(env_file=None)
    monkeypatch.setenv("GREENPOINTS_GATEWAY_FAILPOINT", "nowhere")
    monkeypatch.delenv("GREENPOINTS_GATEWAY_CONFIRMATONS")
    with pytest.raises(ConfigError, match="unknown failpoint"):
        load_gateway_settings(env_file=None)
