"""`GET /v1/accounts/{address}` (balance, face and cash-out value, first/last activity, `?block=`),
its `/activity` (newest first, `?kind=`) and its `/balance/history`, keyset-paginated."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from api.context import ApiContext, Conn, Ctx
from api.database import Connection
from api.mirror import STATE_WIDTH, Indexed, state_and_rows, with_state
from api.models import AccountOut, ActivityKind, ActivityOut, BalanceHistoryOut
from api.problems import bad_parameter
from api.responses import json_response
from api.routes.common import DEFAULT_LIMIT, MAX_BLOCK, NO_BLOCK, READ_ERRORS, ZERO, Cursor, Limit
from api.shapes import AddressError, amount, checksum, moment, parse_address, points
from greenpoints.rules import quote_redeem, scale_of

router = APIRouter(tags=["accounts"])

AddressParam = Annotated[
    str,
    Path(
        description="any case; mixed case must be the EIP-55 checksum",
        examples=["0x70997970C51812dc3A010C7d01b50e0d17dc79C8"],
        min_length=42,
        max_length=42,
    ),
]


def address_of(text: str) -> str:
    try:
        return parse_address(text)
    except AddressError as exc:
        raise bad_parameter("address", str(exc), where="path") from None


async def account_answer(ctx: ApiContext, holder: str, block: int | None) -> tuple[Indexed, dict[str, Any], str]:
    """The account answer for `holder` (lowercase) now or at `block`: the state it reflects, the body
    and its version. Shared by the route and the fast path (`api.fastpath`)."""
    row = await ctx.accounts.lookup(holder, block)
    state = Indexed.from_row(row)
    if block is not None and block > state.block:
        raise bad_parameter("block", f"{block} is above the indexed block {state.block}")
    sb, sl, sv, rb, rl, rv, reserve, supply, fee, tax_bps, first, first_time, last_time = row[STATE_WIDTH:]
    if sb is None and rb is None:
        balance, last = 0, None
    elif rb is None or (sb is not None and (sb, sl) > (rb, rl)):
        balance, last = int(sv), int(sb)
    else:
        balance, last = int(rv), int(rb)
    d = state.asset_decimals
    quote = quote_redeem(balance, int(reserve or 0), int(supply or 0), int(fee or 0), int(tax_bps or 0))
    body = {
        "indexed_block": state.block_json(),
        "address": checksum(holder),
        "block": state.block if block is None else block,
        "balance": points(balance),
        "face_value": amount(balance // scale_of(d), d),
        "cash_out_value": amount(quote.payout, d),
        "cash_out": {
            "gross": amount(quote.gross, d),
            "payout": amount(quote.payout, d),
            "tax": amount(quote.tax, d),
            "kept": amount(quote.kept, d),
        },
        "first_activity": None
        if first is None or last is None or first_time is None
        else {"block_number": int(first), "time": moment(int(first_time))},
        "last_activity": None
        if last is None or last_time is None
        else {"block_number": last, "time": moment(int(last_time))},
    }
    return state, body, state.version if block is None else f"{state.version}-at{block}"


@router.get(
    "/v1/accounts/{address}",
    response_model=AccountOut,
    responses=READ_ERRORS,
    summary="A holder's points, their face value and cash-out value now (or at `?block=`), first and last activity",
)
async def get_account(
    request: Request,
    ctx: Ctx,
    address: AddressParam,
    block: Annotated[
        int | None, Query(ge=0, le=MAX_BLOCK, description="the balance as of this block (at most the indexed one)")
    ] = None,
) -> Response:
    state, body, version = await account_answer(ctx, address_of(address), block)
    return json_response(request, state, body, version=version)


# ---------------------------------------------------------------------- activity

_BEFORE = "(block_number, log_index) < (%(b)s, %(l)s)"
_DESC = "ORDER BY block_number DESC, log_index DESC LIMIT %(n)s"
# Per kind: one index-ordered branch (columns: kind, block, log, tx, points, counterparty, merchant,
# order id, sale amount, pool-in, payout, tax, kept). Only fixed text is ever put into the SQL.
_BRANCHES: dict[str, str] = {
    "checkout": "SELECT 'checkout', block_number, log_index, tx_hash, points, NULL, merchant, order_id, sale_amount,"
    f" pool_in, NULL::numeric, NULL::numeric, NULL::numeric FROM checkouts WHERE chain_id = %(c)s AND customer = %(a)s"
    f" AND {_BEFORE} {_DESC}",
    "transfer_out": "SELECT 'transfer_out', block_number, log_index, tx_hash, value, receiver, NULL, NULL,"
    " NULL::numeric, NULL::numeric, NULL::numeric, NULL::numeric, NULL::numeric FROM transfers WHERE chain_id = %(c)s"
    f" AND sender = %(a)s AND sender <> '{ZERO}' AND receiver <> '{ZERO}' AND {_BEFORE} {_DESC}",
    "transfer_in": "SELECT 'transfer_in', block_number, log_index, tx_hash, value, sender, NULL, NULL, NULL::numeric,"
    " NULL::numeric, NULL::numeric, NULL::numeric, NULL::numeric FROM transfers WHERE chain_id = %(c)s"
    f" AND receiver = %(a)s AND receiver <> '{ZERO}' AND sender <> '{ZERO}' AND sender <> receiver"
    f" AND {_BEFORE} {_DESC}",
    "spend": "SELECT 'spend', block_number, log_index, tx_hash, points, NULL, merchant, order_id, NULL::numeric,"
    " NULL::numeric, NULL::numeric, NULL::numeric, NULL::numeric FROM spends WHERE chain_id = %(c)s AND holder = %(a)s"
    f" AND {_BEFORE} {_DESC}",
    "redemption": "SELECT 'redemption', block_number, log_index, tx_hash, points, NULL, NULL, NULL, NULL::numeric,"
    " NULL::numeric, payout, tax, kept FROM redemptions WHERE chain_id = %(c)s AND holder = %(a)s"
    f" AND {_BEFORE} {_DESC}",
    "burn": "SELECT 'burn', block_number, log_index, tx_hash, amount, NULL, NULL, NULL, NULL::numeric, NULL::numeric,"
    " NULL::numeric, NULL::numeric, NULL::numeric FROM point_burns WHERE chain_id = %(c)s AND holder = %(a)s"
    f" AND {_BEFORE} {_DESC}",
}
KINDS = tuple(_BRANCHES)


def activity_query(kinds: tuple[str, ...]) -> str:
    union = " UNION ALL ".join(f"({_BRANCHES[k]})" for k in kinds)
    return with_state(
        "SELECT x.*, extract(epoch FROM b.timestamp)::bigint FROM"
        f" (SELECT * FROM ({union}) AS u(kind, block_number, log_index, tx_hash, points, counterparty, merchant,"
        " order_id, sale_amount, pool_in, payout, tax, kept) ORDER BY block_number DESC, log_index DESC LIMIT %(n)s) x"
        " JOIN blocks b ON b.chain_id = %(c)s AND b.number = x.block_number"
        " ORDER BY x.block_number DESC, x.log_index DESC"
    )


def _maybe(value: Any, decimals: int) -> dict[str, str] | None:
    return None if value is None else amount(int(value), decimals)


@router.get(
    "/v1/accounts/{address}/activity",
    response_model=ActivityOut,
    responses=READ_ERRORS,
    summary="Checkouts received, transfers in and out, spends, redemptions and direct burns, newest first",
)
async def get_activity(
    request: Request,
    ctx: Ctx,
    conn: Conn,
    address: AddressParam,
    kind: Annotated[list[ActivityKind] | None, Query(description="only these kinds (repeat for several)")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    kinds = tuple(k for k in KINDS if kind is None or k in kind)
    state, body = await activity_answer(ctx, conn, address_of(address), kinds, limit, cursor)
    return json_response(request, state, body)


async def activity_answer(
    ctx: ApiContext, conn: Connection, holder: str, kinds: tuple[str, ...], limit: int, cursor: str | None
) -> tuple[Indexed, dict[str, Any]]:
    """A page of `holder`'s activity (lowercase; `kinds` in `KINDS` order) and the state it reflects.
    Shared by the route and the fast path (`api.fastpath`)."""
    scope = f"activity:{holder}:{','.join(kinds)}"
    after = [NO_BLOCK, 0] if cursor is None else ctx.cursors.decode(scope, cursor, (int, int))
    params = {"c": await ctx.chain.resolve(conn), "a": holder, "b": after[0], "l": after[1], "n": limit + 1}
    state, rows = await state_and_rows(conn, activity_query(kinds), params)
    d = state.asset_decimals
    items = []
    for r in rows[:limit]:
        k, bn, li, tx, pts, party, merchant, order, sale, pool_in, payout, tax, kept, stamp = r
        items.append(
            {
                "kind": k,
                "block_number": bn,
                "log_index": li,
                "tx_hash": tx,
                "time": moment(stamp),
                "points": points(int(pts)),
                "counterparty": None if party is None else checksum(party),
                "merchant": None if merchant is None else checksum(merchant),
                "order_id": order,
                "sale_amount": _maybe(sale, d),
                "pool_in": _maybe(pool_in, d),
                "payout": _maybe(payout, d),
                "tax": _maybe(tax, d),
                "kept": _maybe(kept, d),
            }
        )
    more = len(rows) > limit
    next_cursor = ctx.cursors.encode(scope, [rows[limit - 1][1], rows[limit - 1][2]]) if more else None
    body = {
        "indexed_block": state.block_json(),
        "address": checksum(holder),
        "items": items,
        "next_cursor": next_cursor,
    }
    return state, body


HISTORY_QUERY = with_state(
    "SELECT x.*, extract(epoch FROM b.timestamp)::bigint FROM (SELECT * FROM ("
    "(SELECT block_number, log_index, tx_hash, CASE WHEN receiver = sender THEN 0 ELSE -value END,"
    " sender_balance_after FROM transfers WHERE chain_id = %(c)s AND sender = %(a)s"
    f" AND sender <> '{ZERO}' AND {_BEFORE} {_DESC})"
    " UNION ALL (SELECT block_number, log_index, tx_hash, value, receiver_balance_after FROM transfers"
    f" WHERE chain_id = %(c)s AND receiver = %(a)s AND receiver <> '{ZERO}' AND receiver <> sender"
    f" AND {_BEFORE} {_DESC})"
    ") AS u(block_number, log_index, tx_hash, delta, balance) ORDER BY block_number DESC, log_index DESC LIMIT %(n)s) x"
    " JOIN blocks b ON b.chain_id = %(c)s AND b.number = x.block_number ORDER BY x.block_number DESC, x.log_index DESC"
)


@router.get(
    "/v1/accounts/{address}/balance/history",
    response_model=BalanceHistoryOut,
    responses=READ_ERRORS,
    summary="Every change of the holder's balance (delta and balance after), newest first",
)
async def get_balance_history(
    request: Request,
    ctx: Ctx,
    conn: Conn,
    address: AddressParam,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    holder = address_of(address)
    scope = f"balance:{holder}"
    after = [NO_BLOCK, 0] if cursor is None else ctx.cursors.decode(scope, cursor, (int, int))
    params = {"c": await ctx.chain.resolve(conn), "a": holder, "b": after[0], "l": after[1], "n": limit + 1}
    state, rows = await state_and_rows(conn, HISTORY_QUERY, params)
    items = [
        {
            "block_number": bn,
            "log_index": li,
            "tx_hash": tx,
            "time": moment(stamp),
            "delta": str(int(delta)),
            "balance": points(int(bal)),
        }
        for bn, li, tx, delta, bal, stamp in rows[:limit]
    ]
    more = len(rows) > limit
    next_cursor = ctx.cursors.encode(scope, [rows[limit - 1][0], rows[limit - 1][1]]) if more else None
    body = {
        "indexed_block": state.block_json(),
        "address": checksum(holder),
        "items": items,
        "next_cursor": next_cursor,
    }
    return json_response(request, state, body)
