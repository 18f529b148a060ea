"""Named bad inputs: each is a 4xx `application/problem+json` naming the offending field, and
changes nothing. Plus the schema-driven fuzzing of the whole OpenAPI document (schemathesis)."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest

from greenpoints.compiler import ROOT
from tests.api.conftest import Stack

HOLDER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
SCHEMATHESIS = ROOT / ".venv-fuzz" / "bin" / "schemathesis"


def tampered(cursor: str) -> str:
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[-2] ^= 0x01  # one bit of the position
    return base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/accounts/0x1234", {}, "address"),
        ("/v1/accounts/0xZZ997970C51812dc3A010C7d01b50e0d17dc79C8", {}, "address"),
        ("/v1/accounts/0x70997970c51812dc3a010c7d01b50e0d17dc79C8", {}, "address"),  # mixed case, bad checksum
        (f"/v1/accounts/{HOLDER}/activity", {"kind": "gift"}, "kind"),
        ("/v1/price/candles", {"interval": "2m"}, "interval"),
        ("/v1/price/candles", {"from": 2000, "to": 1000}, "from"),
        ("/v1/price/candles", {"limit": 0}, "limit"),
        ("/v1/price/candles", {"limit": 5001}, "limit"),
        ("/v1/price/history", {"limit": 0}, "limit"),
        ("/v1/price/history", {"limit": 1001}, "limit"),
        ("/v1/price/history", {"limit": "ten"}, "limit"),
        ("/v1/price/history", {"cursor": "garbage!"}, "cursor"),
        ("/v1/price/history", {"from_block": 9, "to_block": 3}, "from_block"),
        (f"/v1/accounts/{HOLDER}/activity", {"cursor": "AAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, "cursor"),
        (f"/v1/accounts/{HOLDER}", {"block": -1}, "block"),
        (f"/v1/accounts/{HOLDER}", {"block": 10**9}, "block"),  # a future block
        (f"/v1/accounts/{HOLDER}", {"block": "latest"}, "block"),
        ("/v1/merchants", {"sort": "random"}, "sort"),
        (f"/v1/merchants/{HOLDER}/daily", {"from": "2026-12-05", "to": "2026-12-01"}, "from"),
        (f"/v1/merchants/{HOLDER}/daily", {"from": "yesterday"}, "from"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field(
    stack: Stack, path: str, params: dict[str, object], field: str
) -> None:
    before = stack.api.get("/v1/pool").json()["reserve"]
    response = stack.api.get(path, **params)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 400 and problem["type"] == "urn:greenpoints:problem:invalid-parameter"
    assert problem["field"] == field, problem
    assert problem["errors"][0]["field"] == field and problem["detail"].startswith(field)
    assert problem["instance"] == path
    assert stack.api.get("/v1/pool").json()["reserve"] == before


def test_tampered_and_foreign_cursors_are_refused(stack: Stack) -> None:
    page = stack.api.json("/v1/price/history", limit=2)
    cursor = page["next_cursor"]
    assert stack.api.get("/v1/price/history", limit=2, cursor=cursor).status_code == 200
    for bad in (tampered(cursor), cursor[:-3], cursor + "A"):
        assert stack.api.get("/v1/price/history", limit=2, cursor=bad).json()["field"] == "cursor"
    # A cursor of one listing does not work on another (nor with other filters).
    assert stack.api.get(f"/v1/accounts/{HOLDER}/activity", cursor=cursor).status_code == 400
    assert stack.api.get("/v1/price/history", limit=2, cursor=cursor, from_block=1).status_code == 400


def test_unknown_merchant_and_route_are_404_problems(stack: Stack) -> None:
    response = stack.api.get(f"/v1/merchants/{HOLDER}")
    assert response.status_code == 404 and response.json()["field"] == "address"
    assert response.headers["content-type"] == "application/problem+json"
    missing = stack.api.get("/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["type"] == "urn:greenpoints:problem:not-found"
    wrong = stack.api.session.post(stack.api.url + "/v1/pool", timeout=10)
    assert wrong.status_code == 405 and wrong.headers["content-type"] == "application/problem+json"


def test_schemathesis_fuzzes_the_whole_document(stack: Stack, tmp_path: Path) -> None:
    """Property-based fuzzing of every operation of the OpenAPI document against the running server:
    no 5xx, every status, content type, header and body as documented, invalid input refused."""
    assert SCHEMATHESIS.exists(), "run `make test` (it installs schemathesis in .venv-fuzz)"
    result = subprocess.run(
        [
            str(SCHEMATHESIS),
            "run",
            f"{stack.api.url}/openapi.json",
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,"
            "response_headers_conformance,response_schema_conformance,negative_data_rejection",
            "--max-examples",
            "12",
            "--seed",
            "7",
            "--phases",
            "examples,coverage,fuzzing",
            "--no-color",
            "--suppress-health-check",
            "all",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=170,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
