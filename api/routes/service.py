"""`/healthz` (the process answers), `/readyz` (it can serve the mirror), `/metrics` (Prometheus),
`/v1/deployment` (the contracts, for wallets)."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from starlette.responses import Response

from api import metrics
from api.context import Ctx
from api.database import fetchone
from api.models import DeploymentOut, Health, Ready
from api.problems import NOT_READY, ApiProblem, problem_response
from api.responses import encode, json_response
from api.routes.common import problems
from api.shapes import checksum
from greenpoints.units import POINT_DECIMALS
from indexer.migrate import HEAD

router = APIRouter(tags=["service"])

HEALTHY = encode({"status": "ok"})


@router.get("/healthz", response_model=Health, summary="The process is up (answers without the database)")
async def healthz() -> Response:
    return Response(HEALTHY, media_type="application/json")


@router.get(
    "/readyz",
    response_model=Ready,
    responses={503: problems(503)[503]},
    summary="Ready to serve: database reachable, schema at head, indexer running, not halted, lag within bounds",
)
async def readyz(request: Request, ctx: Ctx) -> Response:
    reasons: list[str] = []
    try:
        async with ctx.pool.connection(timeout=2.0) as conn:
            row = await fetchone(conn, "SELECT to_regclass('alembic_version') IS NOT NULL")
            version = None
            if row and row[0]:
                found = await fetchone(conn, "SELECT version_num FROM alembic_version")
                version = found[0] if found else None
            if version != HEAD:
                reasons.append(
                    f"the schema is at {version or 'no revision'}, not {HEAD} (run `greenpoints db upgrade`)"
                )
                state = None
            else:
                state = await ctx.state(conn)
    except ApiProblem as exc:
        reasons.append(exc.detail)
        state = None
    except Exception as exc:
        reasons.append(f"the database cannot be reached ({exc.__class__.__name__})")
        state = None
    if state is not None:
        settings = ctx.settings
        if state.halted_reason is not None:
            reasons.append(f"the indexer is halted: {state.halted_reason}")
        if state.seen_at is None:
            reasons.append("the indexer has not recorded the chain head yet")
        else:
            silent = time.time() - state.seen_at
            if silent > settings.max_silence:
                reasons.append(f"the indexer last saw the head {silent:.0f} s ago (limit {settings.max_silence:g} s)")
        if state.lag is not None and state.lag > settings.max_lag:
            reasons.append(f"the mirror is {state.lag} blocks behind the head (limit {settings.max_lag})")
    if reasons:
        problem = ApiProblem(
            503, "; ".join(reasons), type_=NOT_READY, title="Service Unavailable", extra={"reasons": reasons}
        )
        return problem_response(problem, request.url.path, {"Retry-After": "1", "Cache-Control": "no-store"})
    assert state is not None
    body = {"indexed_block": state.block_json(), "ready": True, **state.head_json()}
    return json_response(request, state, body, version=state.head_version)


@router.get(
    "/metrics",
    summary="Prometheus text: requests and latency per route, and the mirror's figures",
    response_class=Response,
    responses={200: {"content": {metrics.CONTENT_TYPE: {"schema": {"type": "string"}}}, "description": "metrics"}},
)
async def get_metrics(ctx: Ctx) -> Response:
    return Response(await metrics.render(ctx), media_type=metrics.CONTENT_TYPE)


@router.get(
    "/v1/deployment",
    response_model=DeploymentOut,
    responses=problems(503),
    summary="The deployment for wallets: chain, contract addresses, decimals, an RPC URL and the explorer",
)
async def get_deployment(request: Request, ctx: Ctx) -> Response:
    async with ctx.pool.connection() as conn:
        state = await ctx.state(conn)
    found = ctx.load_deployment_file(state.chain_id) or {}
    same_pool = str(found.get("pool", "")).lower() == state.pool
    timelock = found.get("timelock") if same_pool else None
    delay = found.get("admin_delay") if same_pool else None
    body = {
        "chain_id": state.chain_id,
        **state.pool_addresses(),
        "asset_decimals": state.asset_decimals,
        "points_decimals": POINT_DECIMALS,
        "deployment_block": state.deployment_block,
        "timelock": checksum(str(timelock).lower()) if isinstance(timelock, str) else None,
        "admin_delay": int(delay) if isinstance(delay, int) else None,
        "rpc_url": ctx.settings.public_rpc_url,
        "explorer_url": ctx.settings.explorer_url,
    }
    return json_response(request, state, body, version=f"deployment-{state.chain_id}-{state.pool}")
