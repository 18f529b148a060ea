"""Green Points indexer: mirrors the pool's and the points token's events into PostgreSQL.

Modules, one job each: `rpc` (raw JSON-RPC: batching, retries, log-range splitting), `decode`
(logs to events), `derive` (events to balance/pool-state/merchant rows, pure), `db` (engine, the
cursor row, bulk writes), `sync` (one indexing cycle), `reorg` (rollback, halt, resync), `lock`
(one writer per chain and pool), `runner` (once or live), `audit` (mirror versus chain),
`progress` (backfill output), `migrate` (Alembic, the only way the schema changes), `service`
(what the CLI commands call), `errors`. See README.md in this folder for operations.
"""
