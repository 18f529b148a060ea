"""Settings: read from the environment and .env, flags override, bad values refused in one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from greenpoints.config import load_settings
from greenpoints.errors import ConfigError


def test_environment_then_dotenv_then_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("GREENPOINTS_CONFIRMATIONS=4\nGREENPOINTS_RPC_URL=http://127.0.0.1:1\n")
    monkeypatch.setenv("GREENPOINTS_RPC_URL", "http://127.0.0.1:2")
    settings = load_settings(env_file=env_file)
    assert settings.rpc_url == "http://127.0.0.1:2"  # the environment wins over .env
    assert settings.confirmations == 4  # .env wins over the default
    assert settings.poll_interval == 0.5  # default


def test_flags_override_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GREENPOINTS_RPC_URL", "http://127.0.0.1:2")
    settings = load_settings({"rpc_url": "http://127.0.0.1:3", "deployment": None}, env_file=None)
    assert settings.rpc_url == "http://127.0.0.1:3"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("GREENPOINTS_CONFIRMATIONS", "-1", "GREENPOINTS_CONFIRMATIONS: Input should be greater than or equal to 0"),
        ("GREENPOINTS_CONFIRMATIONS", "many", "GREENPOINTS_CONFIRMATIONS: Input should be a valid integer"),
        ("GREENPOINTS_RPC_URL", "localhost:8545", "GREENPOINTS_RPC_URL: Value error, must start with http://"),
        ("GREENPOINTS_DATABASE_URL", "mysql://x", "GREENPOINTS_DATABASE_URL: Value error, must be a PostgreSQL URL"),
        ("GREENPOINTS_POLL_INTERVAL", "0", "GREENPOINTS_POLL_INTERVAL: Input should be greater than 0"),
        ("GREENPOINTS_BACKFILL_WORKER", "maybe", "GREENPOINTS_BACKFILL_WORKER: Input should be a valid boolean"),
        ("GREENPOINTS_COLOUR", "green", "GREENPOINTS_COLOUR: unknown setting"),
    ],
)
def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as excinfo:
        load_settings(env_file=None)
    assert str(excinfo.value).startswith(expected)
    assert "\n" not in str(excinfo.value)


def test_private_key_is_never_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GREENPOINTS_PRIVATE_KEY", "0x" + "ab" * 31 + "zz")
    with pytest.raises(ConfigError) as excinfo:
        load_settings(env_file=None)
    assert "ab" * 31 not in str(excinfo.value)
    assert "<hidden>" in str(excinfo.value)


def test_cli_refuses_bad_setting_with_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cli", "simulate"],
        env={"GREENPOINTS_CONFIRMATIONS": "-3", "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines == [lines[0]] and lines[0].startswith("greenpoints: error: GREENPOINTS_CONFIRMATIONS:")
