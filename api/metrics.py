"""Prometheus metrics: request counts and latency per route (all worker processes together, through
prometheus_client's multiprocess mode when PROMETHEUS_MULTIPROC_DIR is set, as `greenpoints api`
does) and, at scrape time, the mirror's own figures (indexed block, head, lag, halt, last audit)."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from api.database import fetchone

if TYPE_CHECKING:
    from api.context import ApiContext

CONTENT_TYPE = CONTENT_TYPE_LATEST
BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

REQUESTS = Counter("greenpoints_api_requests_total", "HTTP requests answered", ["route", "method", "status"])
LATENCY = Histogram(
    "greenpoints_api_request_seconds", "Time to answer, per route", ["route", "method"], buckets=BUCKETS
)


# The labelled series per (route, method, status), looked up once: `labels()` takes a lock each call.
_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}


class MetricsMiddleware:
    """Pure ASGI (no per-request task or body copy): counts and times every HTTP request by its
    route template (`/v1/accounts/{address}`), so the label set stays small."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def send_wrapper(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or ("/app" if scope["path"].startswith("/app") else "unmatched")
            key = (path, scope["method"], status[0])
            children = _children.get(key)
            if children is None:
                children = _children[key] = (LATENCY.labels(path, key[1]), REQUESTS.labels(path, key[1], str(key[2])))
            children[0].observe(time.perf_counter() - started)
            children[1].inc()


def _registry() -> CollectorRegistry | None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return None


MIRROR_QUERY = (
    "SELECT s.cursor_block, h.head_block, (s.halted_reason IS NOT NULL)::int,"
    " extract(epoch FROM now() - h.seen_at)::float8,"
    " (SELECT block_number FROM audit_runs a WHERE a.chain_id = s.chain_id ORDER BY id DESC LIMIT 1),"
    " (SELECT ok::int FROM audit_runs a WHERE a.chain_id = s.chain_id ORDER BY id DESC LIMIT 1)"
    " FROM indexer_state s LEFT JOIN indexer_heartbeat h ON h.chain_id = s.chain_id AND h.pool = s.pool"
    " WHERE s.chain_id = %s"
)
_MIRROR = (
    ("greenpoints_mirror_indexed_block", "the last indexed block"),
    ("greenpoints_mirror_head_block", "the chain head the indexer last saw"),
    ("greenpoints_mirror_halted", "1 when the indexer is halted by a deep reorg"),
    ("greenpoints_mirror_heartbeat_age_seconds", "seconds since the indexer last saw the head"),
    ("greenpoints_mirror_audit_block", "the block of the latest stored audit"),
    ("greenpoints_mirror_audit_ok", "1 when the latest stored audit found no difference"),
)


async def render(ctx: ApiContext) -> bytes:
    registry = _registry()
    text = generate_latest(registry) if registry is not None else generate_latest()
    lines: list[str] = []
    try:
        async with ctx.pool.connection(timeout=2.0) as conn:
            row = await fetchone(conn, MIRROR_QUERY, (await ctx.chain.resolve(conn),))
        values: tuple[Any, ...] = tuple(row) if row else (None,) * len(_MIRROR)
        up = 1
    except Exception:
        values, up = (None,) * len(_MIRROR), 0
    lines += ["# HELP greenpoints_mirror_up 1 when the mirror could be read", "# TYPE greenpoints_mirror_up gauge"]
    lines.append(f"greenpoints_mirror_up {up}")
    for (name, help_text), value in zip(_MIRROR, values, strict=True):
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        if value is not None:
            lines.append(f"{name} {float(value) if isinstance(value, float) else int(value)}")
    if values[0] is not None and values[1] is not None:
        lines += [
            "# HELP greenpoints_mirror_lag_blocks blocks the mirror trails the head",
            "# TYPE greenpoints_mirror_lag_blocks gauge",
        ]
        lines.append(f"greenpoints_mirror_lag_blocks {max(0, int(values[1]) - int(values[0]))}")
    return text + ("\n".join(lines) + "\n").encode()
