"""`GET /v1/audit` (the latest reconciliation of the mirror with the chain, and whether it is
failed or stale) and `GET /v1/audit/history`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.context import Conn, Ctx
from api.database import fetchall, snapshot
from api.models import AuditHistoryOut, AuditOut
from api.responses import json_response, unchanged
from api.routes.common import DEFAULT_LIMIT, READ_ERRORS, Cursor, Limit
from api.shapes import moment

router = APIRouter(tags=["audit"])

_COLUMNS = (
    "id, block_number, block_hash, extract(epoch FROM ran_at)::bigint, ok, holders, source, every, checks, differences"
)
LATEST_QUERY = f"SELECT {_COLUMNS} FROM audit_runs WHERE chain_id = %s ORDER BY id DESC LIMIT 1"
HISTORY_QUERY = f"SELECT {_COLUMNS} FROM audit_runs WHERE chain_id = %s AND id < %s ORDER BY id DESC LIMIT %s"


def _run(row: Any) -> dict[str, Any]:
    run_id, block, block_hash, ran_at, ok, holders, source, every, checks, differences = row
    return {
        "id": run_id,
        "block_number": block,
        "block_hash": block_hash,
        "ran_at": moment(ran_at),
        "ok": ok,
        "holders": holders,
        "source": source,
        "every": every,
        "checks": checks,
        "differences": differences,
    }


@router.get(
    "/v1/audit",
    response_model=AuditOut,
    responses=READ_ERRORS,
    summary="The latest audit of the mirror against the chain (SPEC §3.1 included), failed or stale shown plainly",
    description=(
        "`status`: `ok`; `failed` (a check differed); `stale` (the latest audit is more than twice its schedule, "
        "or GREENPOINTS_API_AUDIT_MAX_AGE blocks without one, behind the indexed block); `missing` (none yet)."
    ),
)
async def get_audit(request: Request, ctx: Ctx, conn: Conn) -> Response:
    async with snapshot(conn):
        state = await ctx.state(conn)
        if (cached := unchanged(request, state)) is not None:
            return cached
        rows = await fetchall(conn, LATEST_QUERY, (state.chain_id,))
    latest = _run(rows[0]) if rows else None
    if latest is None:
        status, detail, behind = "missing", "no audit has run on this mirror yet", None
    else:
        behind = max(0, state.block - latest["block_number"])
        every = latest["every"]
        limit = 2 * every if every else ctx.settings.audit_max_age
        if not latest["ok"]:
            status, detail = "failed", f"{len(latest['differences'])} difference(s) at block {latest['block_number']}"
        elif behind > limit:
            status, detail = "stale", f"the latest audit is {behind} blocks behind the indexed block (limit {limit})"
        else:
            status, detail = "ok", f"the mirror equalled the chain at block {latest['block_number']}"
    body = {
        "indexed_block": state.block_json(),
        "status": status,
        "detail": detail,
        "blocks_behind": behind,
        "latest": latest,
    }
    return json_response(request, state, body)


@router.get(
    "/v1/audit/history",
    response_model=AuditHistoryOut,
    responses=READ_ERRORS,
    summary="Every stored audit, newest first",
)
async def get_audit_history(
    request: Request,
    ctx: Ctx,
    conn: Conn,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    before = 2**62 if cursor is None else int(ctx.cursors.decode("audits", cursor, (int,))[0])
    async with snapshot(conn):
        state = await ctx.state(conn)
        if (cached := unchanged(request, state)) is not None:
            return cached
        rows = await fetchall(conn, HISTORY_QUERY, (state.chain_id, before, limit + 1))
    items = [_run(r) for r in rows[:limit]]
    next_cursor = ctx.cursors.encode("audits", [rows[limit - 1][0]]) if len(rows) > limit else None
    return json_response(
        request, state, {"indexed_block": state.block_json(), "items": items, "next_cursor": next_cursor}
    )
