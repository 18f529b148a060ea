"""Green Points REST API: a read-only HTTP view of the indexer's PostgreSQL mirror.

Modules, one job each: `settings` (GREENPOINTS_API_*), `database` (the connection pool and
snapshots), `mirror` (the indexed state every response reflects), `shapes` (amounts, prices,
times and addresses as JSON), `cursors` (opaque keyset cursors), `problems` (RFC 9457 errors),
`responses` (JSON bytes with ETag and 304), `models` (the response schemas of the OpenAPI
document), `routes/` (one router per resource), `metrics` (Prometheus), `docs` (Swagger UI
served offline), `static` (the DApp at /app with a strict CSP), `app` (assembly), `server`
(uvicorn). See README.md in this folder.
"""
