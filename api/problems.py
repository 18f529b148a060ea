"""Errors as RFC 9457 problem details (`application/problem+json`), each naming what was wrong."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

log = logging.getLogger("api")

PROBLEM_JSON = "application/problem+json"
# Problem types are URNs: stable names a client can match without a documentation host.
INVALID_PARAMETER = "urn:greenpoints:problem:invalid-parameter"
NOT_FOUND = "urn:greenpoints:problem:not-found"
UNAVAILABLE = "urn:greenpoints:problem:unavailable"
NOT_READY = "urn:greenpoints:problem:not-ready"
INTERNAL = "urn:greenpoints:problem:internal"

_TITLES = {400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 500: "Internal Server Error"}


class ApiProblem(Exception):
    """Raise to answer with a problem document; `field` names the offending parameter."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        type_: str = INVALID_PARAMETER,
        title: str | None = None,
        field: str | None = None,
        where: str = "query",
        extra: dict[str, Any] | None = None,
        message: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.message = message or detail
        self.status = status
        self.detail = detail
        self.type = type_
        self.title = title or _TITLES.get(status, "Error")
        self.field = field
        self.where = where
        self.extra = extra or {}


def bad_parameter(field: str, message: str, where: str = "query") -> ApiProblem:
    return ApiProblem(400, f"{field}: {message}", field=field, where=where, message=message)


def problem_response(problem: ApiProblem, instance: str, headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {
        "type": problem.type,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "instance": instance,
    }
    if problem.field is not None:
        body["field"] = problem.field
        body["errors"] = [{"field": problem.field, "in": problem.where, "message": problem.message}]
    body.update(problem.extra)
    return Response(msgspec.json.encode(body), status_code=problem.status, media_type=PROBLEM_JSON, headers=headers)


async def on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiProblem)
    return problem_response(exc, request.url.path)


async def on_validation(request: Request, exc: Exception) -> Response:
    """FastAPI's parameter validation, as a 400 problem naming every offending field."""
    assert isinstance(exc, RequestValidationError)
    errors = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        # The parameter's name; a position inside it (a repeated `kind`'s index) goes in the message.
        where, field = (loc[0], loc[1]) if len(loc) > 1 else ("query", "".join(loc) or "?")
        message = str(error.get("msg", "invalid"))
        if len(loc) > 2:
            message = f"[{']['.join(loc[2:])}] {message}"
        errors.append({"field": field, "in": where, "message": message})
    first = errors[0] if errors else {"field": "?", "in": "query", "message": "invalid"}
    body = {
        "type": INVALID_PARAMETER,
        "title": "Bad Request",
        "status": 400,
        "detail": f"{first['field']}: {first['message']}",
        "instance": request.url.path,
        "field": first["field"],
        "errors": errors,
    }
    return Response(msgspec.json.encode(body), status_code=400, media_type=PROBLEM_JSON)


async def on_http_error(request: Request, exc: Exception) -> Response:
    """Unknown routes (404), wrong methods (405) and other HTTP errors as problems."""
    assert isinstance(exc, StarletteHTTPException)
    type_ = NOT_FOUND if exc.status_code == 404 else "about:blank"
    detail = f"no route {request.url.path}" if exc.status_code == 404 else str(exc.detail)
    headers = dict(exc.headers or {})
    return problem_response(
        ApiProblem(exc.status_code, detail, type_=type_, title=_TITLES.get(exc.status_code)), request.url.path, headers
    )


def unavailable(exc: BaseException) -> ApiProblem | None:
    """The 503 for a database that cannot be reached or a statement past the timeout, else None."""
    from psycopg import OperationalError
    from psycopg.errors import QueryCanceled
    from psycopg_pool import PoolTimeout

    if isinstance(exc, QueryCanceled):
        return ApiProblem(
            503, "the query took longer than the statement timeout", type_=UNAVAILABLE, title="Service Unavailable"
        )
    if isinstance(exc, OperationalError | PoolTimeout):
        return ApiProblem(503, "the database cannot be reached", type_=UNAVAILABLE, title="Service Unavailable")
    return None


RETRY_AFTER = {"Retry-After": "1"}


def unavailable_response(exc: BaseException, instance: str, headers: dict[str, str] | None = None) -> Response | None:
    """The 503 answer (with `Retry-After`) for `unavailable(exc)`, else None."""
    problem = unavailable(exc)
    return None if problem is None else problem_response(problem, instance, {**RETRY_AFTER, **(headers or {})})


async def on_database_error(request: Request, exc: Exception) -> Response:
    """psycopg's OperationalError (unreachable, pool timeout, statement timeout) as a 503. A handler
    of its own: Starlette runs the catch-all `Exception` handler outside every middleware, so its
    answers carry no CORS headers and a cross-origin wallet could not read them."""
    response = unavailable_response(exc, request.url.path)
    assert response is not None  # registered for OperationalError, which `unavailable` covers whole
    return response


async def on_unexpected(request: Request, exc: Exception) -> Response:
    """A database that cannot be reached is a 503; anything else a 500 (logged, no internals shown)."""
    response = unavailable_response(exc, request.url.path)
    if response is not None:
        return response
    log.exception("unexpected error on %s", request.url.path)
    return problem_response(ApiProblem(500, "unexpected error (logged)", type_=INTERNAL), request.url.path)
