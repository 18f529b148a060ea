"""`GET /v1/pool`: the reserve, supply, price and accrued tax, the parameters and the SPEC §5 threshold."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from api import governance
from api.context import Conn, Ctx
from api.database import fetchone, snapshot
from api.models import PoolOut
from api.responses import encode, etag_of, json_response, not_modified
from api.routes.common import READ_ERRORS
from api.shapes import amount, checksum, moment, points, price
from greenpoints.rules import POINT, fraud_threshold

router = APIRouter(tags=["pool"])

_LAST = "WHERE chain_id = %(c)s ORDER BY block_number DESC, log_index DESC LIMIT 1"
POOL_QUERY = (
    "SELECT ps.reserve, ps.supply, ps.tax_accrued, ps.price, extract(epoch FROM ps.block_time)::bigint,"
    " f.fee_bps, f.tax_bps, sh.pool_share_bps, tc.collector,"
    f" COALESCE((SELECT ARRAY[block_number, log_index] FROM pauses {_LAST}), ARRAY[-1, -1]::bigint[])"
    f"  > COALESCE((SELECT ARRAY[block_number, log_index] FROM unpauses {_LAST}), ARRAY[-1, -1]::bigint[]),"
    " (SELECT count(*) FROM balances WHERE chain_id = %(c)s AND balance > 0),"
    " (SELECT COALESCE(sum(minted), 0) FROM merchant_daily WHERE chain_id = %(c)s AND day = %(day)s)"
    " FROM (SELECT 1) AS one"
    f" LEFT JOIN LATERAL (SELECT * FROM pool_states {_LAST}) ps ON true"
    f" LEFT JOIN LATERAL (SELECT fee_bps, tax_bps FROM fee_updates {_LAST}) f ON true"
    f" LEFT JOIN LATERAL (SELECT pool_share_bps FROM pool_share_updates {_LAST}) sh ON true"
    f" LEFT JOIN LATERAL (SELECT collector FROM tax_collector_updates {_LAST}) tc ON true"
)


@router.get(
    "/v1/pool",
    response_model=PoolOut,
    responses=READ_ERRORS,
    summary="The pool now: reserve, supply, price, tax accrued, parameters, fraud threshold",
)
async def get_pool(request: Request, ctx: Ctx, conn: Conn) -> Response:
    # A cached answer needs only the state (one statement); a new one is read in one snapshot.
    state = await ctx.state(conn)
    version = state.head_version
    unchanged = not_modified(request, etag_of(version))
    if unchanged is not None:
        return unchanged
    cached = ctx.cache.get(version, "pool")
    if cached is not None:
        return json_response(request, state, cached, version=version)
    async with snapshot(conn):
        state = await ctx.state(conn)
        version = state.head_version
        day = governance.utc_day(state.block_time)
        row = await fetchone(conn, POOL_QUERY, {"c": state.chain_id, "day": day})
        assert row is not None
        cap = await governance.global_daily_cap(conn, state.chain_id)
    reserve, supply, tax, last_price, changed, fee, tax_bps, share, collector, paused, holders, minted = row
    d = state.asset_decimals
    threshold: dict[str, Any] | None = None
    if share is not None and fee is not None:
        num, den = fraud_threshold(int(share), int(fee))
        current = int(last_price or 0)
        threshold = {
            "price": price(num * POINT // den),
            "numerator": str(num),
            "denominator": str(den),
            "price_above": current * den > num * POINT,
        }
    body = {
        "indexed_block": state.block_json(),
        "chain_id": state.chain_id,
        **state.pool_addresses(),
        "asset_decimals": d,
        "reserve": amount(int(reserve or 0), d),
        "supply": points(int(supply or 0)),
        "price": price(int(last_price or 0)),
        "tax_accrued": amount(int(tax or 0), d),
        "holders": int(holders),
        "last_change": None if changed is None else moment(int(changed)),
        "parameters": {
            "fee_bps": fee,
            "tax_bps": tax_bps,
            "pool_share_bps": share,
            "tax_collector": None if collector is None else checksum(collector),
            "paused": bool(paused),
            "global_daily_cap": None if cap is None else points(cap),
            "global_minted_today": None if cap is None else points(int(minted)),
        },
        "fraud_threshold": threshold,
        **state.head_json(),
        "halted_reason": state.halted_reason,
    }
    return json_response(request, state, ctx.cache.put(version, "pool", encode(body)), version=version)
