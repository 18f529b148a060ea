"""`greenpoints api` refuses bad settings at start with one line and exit code 1."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.api.processes import GREENPOINTS, base_env


@pytest.mark.parametrize(
    ("settings", "args", "message"),
    [
        ({"api_port": "0"}, [], "GREENPOINTS_API_PORT: Input should be greater than or equal to 1"),
        ({"api_workers": "many"}, [], "GREENPOINTS_API_WORKERS: Input should be a valid integer"),
        ({"api_colour": "green"}, [], "GREENPOINTS_API_COLOUR: unknown setting"),
        ({"api_database_url": "mysql://x"}, [], "GREENPOINTS_API_DATABASE_URL: Value error, must be a PostgreSQL URL"),
        ({"api_public_rpc_url": "ftp://x"}, [], "GREENPOINTS_API_PUBLIC_RPC_URL: Value error, must start with http"),
        ({}, [], "GREENPOINTS_API_DATABASE_URL: not set (nor GREENPOINTS_DATABASE_URL)"),
        ({"database_url": "postgresql://postgres@127.0.0.1/x"}, ["--workers", "0"], "must be at least 1"),
    ],
)
def test_bad_settings_are_refused_in_one_line(
    tmp_path: Path, settings: dict[str, str], args: list[str], message: str
) -> None:
    result = subprocess.run(
        [GREENPOINTS, "api", *args], env=base_env(**settings), cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode in (1, 2), result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
