"""Serving while the chain moves: pagination walks every row exactly once while new blocks arrive;
two API processes on one database answer the same; the API runs on a read-only role."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from web3 import Web3

from api.roles import readonly_role_sql
from greenpoints.chain import contract, send
from greenpoints.deploy import local_roles
from tests.api.conftest import Stack
from tests.api.processes import wait_for


def checkout(stack: Stack, customer: str, tag: str) -> None:
    pool = contract(stack.w3, "DividendPool", stack.deployment.pool)
    merchant = stack.deployment.merchants[0].address
    send(pool.functions.checkout(customer, 123 * 10**6, Web3.keccak(text=f"page-{tag}")), merchant)


def busiest(stack: Stack) -> str:
    counts = {
        c: len(stack.api.json(f"/v1/accounts/{c}/activity", limit=1000)["items"])
        for c in local_roles(stack.w3)["customers"][:8]
    }
    return max(counts, key=lambda c: counts[c])


@pytest.mark.parametrize("listing", ["activity", "history"])
def test_pagination_walks_every_row_once_while_new_blocks_arrive(stack: Stack, listing: str) -> None:
    holder = busiest(stack)
    path = f"/v1/accounts/{holder}/activity" if listing == "activity" else "/v1/price/history"
    reference = stack.api.json(path, limit=1000)
    expected = [(i["block_number"], i["log_index"]) for i in reference["items"]]
    assert len(expected) >= 5
    page = stack.api.json(path, limit=2)
    seen = [(i["block_number"], i["log_index"]) for i in page["items"]]
    blocks = [page["indexed_block"]["number"]]
    step = 0
    while page["next_cursor"] is not None:
        checkout(stack, holder, f"{listing}-{uuid.uuid4().hex[:8]}-{step}")  # a new row at the top
        stack.wait_indexed()
        step += 1
        page = stack.api.json(path, limit=2, cursor=page["next_cursor"])
        blocks.append(page["indexed_block"]["number"])
        seen += [(i["block_number"], i["log_index"]) for i in page["items"]]
    new_rows = [k for k in seen if k[0] > reference["indexed_block"]["number"]]
    # The first page may already hold rows of blocks mined after the reference was read.
    assert [k for k in seen if k not in new_rows] == expected
    assert len(set(seen)) == len(seen)
    assert blocks == sorted(blocks) and blocks[-1] > blocks[0]  # blocks did arrive between pages


ROUTES = (
    "/v1/pool",
    "/v1/price/candles?interval=1h&limit=100",
    "/v1/price/history?limit=20",
    "/v1/merchants?sort=volume",
    "/v1/audit",
    "/v1/deployment",
)


def answers(stack: Stack, get: Any) -> dict[str, Any]:
    out = {}
    customers = local_roles(stack.w3)["customers"][:4]
    for route in (
        *ROUTES,
        *(f"/v1/accounts/{c}" for c in customers),
        *(f"/v1/accounts/{c}/activity" for c in customers),
    ):
        body = get(route)
        body.pop("head_seen_at", None)  # the heartbeat's time moves between two requests
        body.pop("head_block", None)
        body.pop("lag_blocks", None)
        out[route] = body
    return out


def test_two_api_processes_on_one_database_answer_the_same(stack: Stack) -> None:
    second = stack.start_api("api-second", workers=2)
    try:
        for i in range(3):
            checkout(stack, local_roles(stack.w3)["customers"][i], f"two-{uuid.uuid4().hex[:8]}")
        head = stack.wait_indexed()

        def at_head(server: Any) -> Any:
            return lambda route: wait_for(
                lambda: (b := server.json(route)).get("indexed_block", {"number": head})["number"] >= head and b,
                what=f"{route} at block {head}",
            )

        first_answers = answers(stack, at_head(stack.api))
        second_answers = answers(stack, at_head(second))
        assert first_answers == second_answers
        assert all(b.get("indexed_block", {"number": head})["number"] == head for b in first_answers.values())
    finally:
        second.stop()


def test_the_api_runs_on_a_read_only_role(stack: Stack) -> None:
    role = f"gp_api_ro_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(stack.dsn(), autocommit=True)
    try:
        for statement in readonly_role_sql(role, stack.database):
            admin.execute(statement)
        url = stack.db_url.replace("postgres@", f"{role}@")
        reader = stack.start_api("api-readonly", api_database_url=url)
        try:
            customer = local_roles(stack.w3)["customers"][0]
            for route in (*ROUTES, f"/v1/accounts/{customer}", f"/v1/accounts/{customer}/activity", "/readyz"):
                assert reader.get(route).status_code == 200, route
            assert reader.json("/v1/merchants") == wait_for(
                lambda: (
                    (b := stack.api.json("/v1/merchants"))["indexed_block"]
                    == reader.json("/v1/merchants")["indexed_block"]
                    and b
                )
            )
        finally:
            reader.stop()
        # The role reads, and cannot write even when it asks to.
        with psycopg.connect(stack.dsn().replace("postgres@", f"{role}@"), autocommit=True) as conn:
            assert conn.execute("SELECT count(*) FROM balances").fetchone()
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                conn.execute("DELETE FROM balances")
            conn.execute("SET default_transaction_read_only = off")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("DELETE FROM balances")
    finally:
        admin.execute(psycopg.sql.SQL("DROP OWNED BY {}").format(psycopg.sql.Identifier(role)))
        admin.execute(psycopg.sql.SQL("DROP ROLE {}").format(psycopg.sql.Identifier(role)))
        admin.close()


def test_the_dapp_is_served_at_app_with_a_strict_policy(stack: Stack) -> None:
    folder = stack.workdir / "dapp"
    folder.mkdir(exist_ok=True)
    (folder / "index.html").write_text("<!doctype html><title>Green Points</title><script src='app.js'></script>\n")
    (folder / "app.js").write_text("console.log('ok');\n")
    server = stack.start_api(
        "api-app",
        api_static_dir=folder,
        api_public_rpc_url="http://127.0.0.1:8545",
        api_explorer_url="https://explorer.example",
    )
    try:
        page = server.get("/app/")
        assert page.status_code == 200 and "Green Points" in page.text
        policy = page.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "connect-src 'self' http://127.0.0.1:8545" in policy and "unsafe-inline" not in policy
        assert page.headers["x-content-type-options"] == "nosniff"
        assert server.get("/app/app.js").headers["content-security-policy"] == policy
        assert "content-security-policy" not in server.get("/v1/pool").headers  # the API's JSON is not a page
        deployment = server.json("/v1/deployment")
        assert (
            deployment["rpc_url"] == "http://127.0.0.1:8545"
            and deployment["explorer_url"] == "https://explorer.example"
        )
        assert server.get("/app/missing.js").status_code == 404
    finally:
        server.stop()
