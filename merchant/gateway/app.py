"""The gateway's HTTP interface (FastAPI): `POST /v1/checkouts`, `GET /v1/checkouts/{key}`, `GET /healthz`.

Idempotency keys follow Stripe's rules: the first request with a key creates the checkout (202);
the same key with the same request answers the same checkout (200, `Idempotent-Replayed: true`),
in its current state; the same key with a different request is refused (422); no key is a 400.
"The same request" compares the normalised fields: "12000" and "12000.00", or an address in
another letter case, are the same. Every error is `application/problem+json`.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from psycopg_pool import ConnectionPool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from greenpoints.orders import OrderRefError, check_order_ref, order_id
from merchant.amounts import parse_amount
from merchant.errors import MerchantError
from merchant.gateway import outbox
from merchant.gateway.failpoints import Failpoints
from merchant.gateway.outbox import CheckoutRow, OrderRefTaken, Scope
from merchant.gateway.problems import Problem, invalid, problem_response
from merchant.gateway.resource import render, request_hash
from merchant.gateway.schemas import PROBLEMS, Checkout, CheckoutRequest
from merchant.pool import checked_address

log = logging.getLogger("merchant.gateway.http")

MAX_KEY_LENGTH = 255


@dataclass
class GatewayContext:
    """What the routes need: the outbox, whose it is, the accepted tokens, the worker to wake."""

    db: ConnectionPool[Any]
    scope: Scope
    asset_decimals: int
    tokens: list[bytes]
    wake_worker: Callable[[], None]
    worker_status: Callable[[], str]
    failpoints: Failpoints


def _check_key(value: str | None) -> str:
    if value is None or value == "":
        raise Problem(400, "idempotency-key-missing", "Idempotency-Key required", "send an Idempotency-Key header")
    if len(value) > MAX_KEY_LENGTH or any(not 0x21 <= ord(c) <= 0x7E for c in value):
        raise Problem(
            400,
            "idempotency-key-malformed",
            "Malformed Idempotency-Key",
            f"an Idempotency-Key has 1 to {MAX_KEY_LENGTH} printable ASCII characters without spaces",
        )
    return value


def idempotency(
    idempotency_key: Annotated[
        str | None, Header(description="your key for this checkout: retry with the same key and body")
    ] = None,
) -> str:
    """The request's Idempotency-Key (a dependency, so that a missing key is a 400 before the body is read)."""
    return _check_key(idempotency_key)


def create_app(ctx: GatewayContext) -> FastAPI:
    app = FastAPI(
        title="Green Points merchant gateway",
        version="1",
        description=__doc__,
        docs_url=None,  # Swagger UI loads its assets from a CDN; the document is at /openapi.json
        redoc_url=None,
    )

    def authorized(authorization: Annotated[str | None, Header(description="Bearer <token>")] = None) -> None:
        scheme, _, token = (authorization or "").partition(" ")
        given = token.strip().encode()
        # Compare with every token, always: the time taken does not say which one nearly matched.
        matched = False
        for accepted in ctx.tokens:
            matched |= hmac.compare_digest(given, accepted)
        if scheme.lower() != "bearer" or not given or not matched:
            raise Problem(
                401,
                "unauthorized",
                "Unauthorized",
                "send Authorization: Bearer <token> with a token of GREENPOINTS_GATEWAY_TOKENS",
                headers={"WWW-Authenticate": 'Bearer realm="greenpoints-gateway"'},
            )

    def show(row: CheckoutRow) -> dict[str, Any]:
        return render(row, merchant=ctx.scope.merchant, asset_decimals=ctx.asset_decimals)

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for error in exc.errors():
            if error.get("type") == "json_invalid":
                errors.append({"field": "body", "message": "not valid JSON"})
                continue
            loc = [str(part) for part in error.get("loc", ()) if part != "body"]
            errors.append({"field": ".".join(loc) or "body", "message": str(error.get("msg", "invalid"))})
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        problem = Problem(422, "invalid-request", "The request body is invalid", detail, errors=errors)
        return problem_response(problem, request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
        return problem_response(Problem(exc.status_code, "http", title, str(exc.detail)), request.url.path)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error on %s", request.url.path, exc_info=exc)
        problem = Problem(500, "internal", "Internal error", "the gateway failed; retry with the same Idempotency-Key")
        return problem_response(problem, request.url.path)

    @app.get("/healthz", summary="Liveness: the database answers; the chain worker's state")
    def healthz() -> JSONResponse:
        try:
            with ctx.db.connection(timeout=2) as conn:
                conn.execute("SELECT 1")
        except Exception:
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        return JSONResponse(
            {
                "status": "ok",
                "worker": ctx.worker_status(),
                "chain_id": ctx.scope.chain_id,
                "pool": ctx.scope.pool,
                "merchant": ctx.scope.merchant,
            }
        )

    @app.post(
        "/v1/checkouts",
        status_code=202,
        response_model=Checkout,
        responses={
            200: {"model": Checkout, "description": "the same key and request again: the same checkout"},
            **PROBLEMS,
        },
        summary="Check out a sale (idempotent by Idempotency-Key)",
        dependencies=[Depends(authorized)],
    )
    def create_checkout(body: CheckoutRequest, key: Annotated[str, Depends(idempotency)]) -> JSONResponse:
        try:
            customer = checked_address(body.customer)
        except MerchantError as exc:
            raise invalid("customer", str(exc)) from None
        try:
            sale = parse_amount(body.amount, ctx.asset_decimals)
        except MerchantError as exc:
            raise invalid("amount", str(exc)) from None
        if sale == 0:
            raise invalid("amount", "a sale amount must be positive")
        try:
            ref = check_order_ref(body.order_ref)
        except OrderRefError as exc:
            raise invalid("order_ref", str(exc)) from None
        fingerprint = request_hash(customer, sale, ref)
        try:
            with ctx.db.connection() as conn:
                row, created = outbox.insert_checkout(
                    conn,
                    ctx.scope,
                    key=key,
                    request_hash=fingerprint,
                    customer=customer,
                    sale_amount=sale,
                    order_ref=ref,
                    order_id="0x" + order_id(ref).hex(),
                )
        except OrderRefTaken:
            raise Problem(
                409,
                "order-ref-taken",
                "Order reference in use",
                f"order_ref {ref!r} already has a live checkout under another Idempotency-Key",
            ) from None
        if created:
            ctx.failpoints.hit("accepted")
            ctx.wake_worker()
            return JSONResponse(show(row), status_code=202, headers={"Location": f"/v1/checkouts/{key}"})
        if row.request_hash != fingerprint:
            raise Problem(
                422,
                "idempotency-key-reused",
                "Idempotency-Key reused",
                "this Idempotency-Key was used with a different request (customer, amount or order_ref)",
            )
        return JSONResponse(show(row), status_code=200, headers={"Idempotent-Replayed": "true"})

    @app.get(
        "/v1/checkouts/{key}",
        response_model=Checkout,
        responses=PROBLEMS,
        summary="The checkout of an idempotency key, in its current state",
        dependencies=[Depends(authorized)],
    )
    def get_checkout(key: str) -> JSONResponse:
        with ctx.db.connection() as conn:
            row = outbox.get_checkout(conn, ctx.scope, key)
        if row is None:
            raise Problem(404, "not-found", "Not found", "no checkout has this Idempotency-Key")
        return JSONResponse(show(row))

    return app
