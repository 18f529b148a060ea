"""`GET /v1/merchants` (settings, minted today against the cap, totals; sortable), one merchant,
its checkouts and its per-day figures: the monitoring SPEC §5 asks for."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from api.context import Conn, Ctx
from api.database import fetchall, snapshot
from api.governance import utc_day
from api.mirror import Indexed
from api.models import CheckoutsOut, MerchantDailyOut, MerchantOut, MerchantsOut
from api.problems import NOT_FOUND, ApiProblem, bad_parameter
from api.responses import json_response, unchanged
from api.routes.accounts import AddressParam, address_of
from api.routes.common import DAY_PATTERN, DEFAULT_LIMIT, ITEM_ERRORS, NO_BLOCK, READ_ERRORS, Cursor, Limit
from api.shapes import amount, checksum, moment, points

router = APIRouter(tags=["merchants"])

MERCHANTS_QUERY = (
    "SELECT m.merchant, m.rate_bps, m.daily_cap, m.active, m.updated_block,"
    " COALESCE(t.minted, 0), COALESCE(t.spent, 0), COALESCE(t.pool_in, 0), COALESCE(t.sales, 0),"
    " COALESCE(t.checkouts, 0), COALESCE(d.minted, 0), COALESCE(w.minted, 0)"
    " FROM merchants m"
    " LEFT JOIN (SELECT merchant, sum(minted) AS minted, sum(spent) AS spent, sum(pool_in) AS pool_in,"
    "  sum(sales) AS sales, sum(checkouts) AS checkouts FROM merchant_daily WHERE chain_id = %(c)s"
    "  GROUP BY merchant) t ON t.merchant = m.merchant"
    " LEFT JOIN merchant_daily d ON d.chain_id = m.chain_id AND d.merchant = m.merchant AND d.day = %(day)s"
    " LEFT JOIN (SELECT merchant, sum(minted) AS minted FROM merchant_daily WHERE chain_id = %(c)s"
    "  AND day >= %(week)s AND day < %(day)s GROUP BY merchant) w ON w.merchant = m.merchant"
    " WHERE m.chain_id = %(c)s"
)
Sort = Literal["address", "volume", "minted_today"]


def _merchant(row: Any, state: Indexed, day: date) -> dict[str, Any]:
    merchant, rate, cap, active, updated, minted, spent, pool_in, sales, checkouts, today, week = row
    d = state.asset_decimals
    return {
        "address": checksum(merchant),
        "rate_bps": rate,
        "daily_cap": points(int(cap)),
        "active": active,
        "updated_block": updated,
        "day": day.isoformat(),
        "minted_today": points(int(today)),
        "remaining_today": points(max(0, int(cap) - int(today))),
        "totals": {
            "minted": points(int(minted)),
            "spent": points(int(spent)),
            "pool_in": amount(int(pool_in), d),
            "sales": amount(int(sales), d),
            "checkouts": int(checkouts),
        },
        "_week": int(week),
    }


async def _merchants(conn: Any, state: Indexed, only: str | None = None) -> tuple[date, list[dict[str, Any]]]:
    day = utc_day(state.block_time)
    query = MERCHANTS_QUERY + (" AND m.merchant = %(m)s" if only is not None else "")
    rows = await fetchall(conn, query, {"c": state.chain_id, "day": day, "week": day - timedelta(days=7), "m": only})
    return day, [_merchant(r, state, day) for r in rows]


def _sort_key(item: dict[str, Any], sort: str) -> tuple[int, str]:
    """Descending for figures (negated), ascending by address; the address breaks ties."""
    if sort == "volume":
        return (-int(item["totals"]["sales"]["raw"]), item["address"].lower())
    if sort == "minted_today":
        return (-int(item["minted_today"]["raw"]), item["address"].lower())
    return (0, item["address"].lower())


@router.get(
    "/v1/merchants",
    response_model=MerchantsOut,
    responses=READ_ERRORS,
    summary="Every merchant: settings, points minted today against the daily cap, totals",
    description="`sort=volume`: by reported sales, largest first; `minted_today`: largest first; `address`: A–Z.",
)
async def list_merchants(
    request: Request,
    ctx: Ctx,
    conn: Conn,
    sort: Sort = "address",
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    scope = f"merchants:{sort}"
    after = None if cursor is None else ctx.cursors.decode(scope, cursor, (int, str))
    async with snapshot(conn):
        state = await ctx.state(conn)
        if (cached := unchanged(request, state)) is not None:
            return cached
        _, merchants = await _merchants(conn, state)
    ordered = sorted(merchants, key=lambda m: _sort_key(m, sort))
    if after is not None:
        position = (int(after[0]), str(after[1]))
        ordered = [m for m in ordered if _sort_key(m, sort) > position]
    page = ordered[:limit]
    for item in page:
        item.pop("_week")
    next_cursor = None
    if len(ordered) > limit:
        next_cursor = ctx.cursors.encode(scope, list(_sort_key(page[-1], sort)))
    return json_response(
        request, state, {"indexed_block": state.block_json(), "items": page, "next_cursor": next_cursor}
    )


def _missing(merchant: str) -> ApiProblem:
    return ApiProblem(
        404, f"no merchant {checksum(merchant)} in the mirror", type_=NOT_FOUND, field="address", where="path"
    )


@router.get(
    "/v1/merchants/{address}",
    response_model=MerchantOut,
    responses=ITEM_ERRORS,
    summary="One merchant, with its mean daily mint over the week before today",
)
async def get_merchant(request: Request, ctx: Ctx, conn: Conn, address: AddressParam) -> Response:
    merchant = address_of(address)
    async with snapshot(conn):
        state = await ctx.state(conn)
        if (cached := unchanged(request, state)) is not None:
            return cached
        _, found = await _merchants(conn, state, merchant)
    if not found:
        raise _missing(merchant)
    item = found[0]
    week = item.pop("_week")
    return json_response(
        request, state, {"indexed_block": state.block_json(), **item, "minted_avg_7d": points(week // 7)}
    )


CHECKOUTS_QUERY = (
    "SELECT x.*, extract(epoch FROM b.timestamp)::bigint FROM (SELECT block_number, log_index, tx_hash, customer,"
    " order_id, sale_amount, points, pool_in FROM checkouts WHERE chain_id = %(c)s AND merchant = %(m)s"
    " AND (block_number, log_index) < (%(b)s, %(l)s) ORDER BY block_number DESC, log_index DESC LIMIT %(n)s) x"
    " JOIN blocks b ON b.chain_id = %(c)s AND b.number = x.block_number ORDER BY x.block_number DESC, x.log_index DESC"
)


async def _known(conn: Any, state: Indexed, merchant: str) -> bool:
    rows = await fetchall(
        conn, "SELECT 1 FROM merchants WHERE chain_id = %s AND merchant = %s", (state.chain_id, merchant)
    )
    return bool(rows)


@router.get(
    "/v1/merchants/{address}/checkouts",
    response_model=CheckoutsOut,
    responses=ITEM_ERRORS,
    summary="The merchant's checkouts, newest first",
)
async def get_checkouts(
    request: Request,
    ctx: Ctx,
    conn: Conn,
    address: AddressParam,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    merchant = address_of(address)
    scope = f"checkouts:{merchant}"
    after = [NO_BLOCK, 0] if cursor is None else ctx.cursors.decode(scope, cursor, (int, int))
    async with snapshot(conn):
        state = await ctx.state(conn)
        if (cached := unchanged(request, state)) is not None:
            return cached
        if not await _known(conn, state, merchant):
            raise _missing(merchant)
        rows = await fetchall(
            conn, CHECKOUTS_QUERY, {"c": state.chain_id, "m": merchant, "b": after[0], "l": after[1], "n": limit + 1}
        )
    d = state.asset_decimals
    items = [
        {
            "block_number": bn,
            "log_index": li,
            "tx_hash": tx,
            "time": moment(stamp),
            "customer": checksum(customer),
            "order_id": order,
            "sale_amount": amount(int(sale), d),
            "points": points(int(pts)),
            "pool_in": amount(int(pool_in), d),
        }
        for bn, li, tx, customer, order, sale, pts, pool_in, stamp in rows[:limit]
    ]
    more = len(rows) > limit
    next_cursor = ctx.cursors.encode(scope, [rows[limit - 1][0], rows[limit - 1][1]]) if more else None
    body = {
        "indexed_block": state.block_json(),
        "merchant": checksum(merchant),
        "items": items,
        "next_cursor": next_cursor,
    }
    return json_response(request, state, body)


def _day(field: str, text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise bad_parameter(field, f"{text!r} is not a calendar day (YYYY-MM-DD)") from None


DAILY_QUERY = (
    "SELECT day, minted, spent, pool_in, sales, checkouts FROM merchant_daily"
    " WHERE chain_id = %(c)s AND merchant = %(m)s AND day < %(before)s AND day >= %(from)s AND day <= %(to)s"
    " ORDER BY day DESC LIMIT %(n)s"
)


@router.get(
    "/v1/merchants/{address}/daily",
    response_model=MerchantDailyOut,
    responses=ITEM_ERRORS,
    summary="Per UTC day: points minted and spent, pool-in, reported sales, orders; newest first",
)
async def get_daily(
    request: Request,
    ctx: Ctx,
    conn: Conn,
    address: AddressParam,
    from_: Annotated[str | None, Query(alias="from", pattern=DAY_PATTERN, description="first day (YYYY-MM-DD)")] = None,
    to: Annotated[str | None, Query(pattern=DAY_PATTERN, description="last day (YYYY-MM-DD)")] = None,
    limit: Limit = 90,
    cursor: Cursor = None,
) -> Response:
    merchant = address_of(address)
    first, last = _day("from", from_), _day("to", to)
    if first is not None and last is not None and first > last:
        raise bad_parameter("from", f"{first} is after to={last}")
    scope = f"daily:{merchant}:{first}:{last}"
    before = date.max if cursor is None else date.fromisoformat(str(ctx.cursors.decode(scope, cursor, (str,))[0]))
    async with snapshot(conn):
        state = await ctx.state(conn)
        if (cached := unchanged(request, state)) is not None:
            return cached
        if not await _known(conn, state, merchant):
            raise _missing(merchant)
        rows = await fetchall(
            conn,
            DAILY_QUERY,
            {
                "c": state.chain_id,
                "m": merchant,
                "before": before,
                "from": first or date.min,
                "to": last or date.max,
                "n": limit + 1,
            },
        )
    d = state.asset_decimals
    items = [
        {
            "day": day.isoformat(),
            "minted": points(int(minted)),
            "spent": points(int(spent)),
            "pool_in": amount(int(pool_in), d),
            "sales": amount(int(sales), d),
            "checkouts": int(n),
        }
        for day, minted, spent, pool_in, sales, n in rows[:limit]
    ]
    more = len(rows) > limit
    next_cursor = ctx.cursors.encode(scope, [rows[limit - 1][0].isoformat()]) if more else None
    body = {
        "indexed_block": state.block_json(),
        "merchant": checksum(merchant),
        "items": items,
        "next_cursor": next_cursor,
    }
    return json_response(request, state, body)
