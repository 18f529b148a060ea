"""Green Points indexer: mirrors the pool's and the points token's events into PostgreSQL.

Modules, one job each: `rpc` (raw JSON-RPC: batching, retries, log-range splitting), `decode`
(logs to events), `reader` (one batch: headers, logs, events), `derive` (events to
balance/pool-state/merchant rows, pure), `copy_text` (rows as COPY text), `prepare` (a read batch
made ready to write), `worker` (the backfill worker process), `stored` (reads of the stored
state), `db` (engine, the cursor row, bulk writes), `sync` (one indexing cycle), `reorg`
(rollback, halt, resync), `lock` (one writer per chain and pool), `runner` (once or live),
`audit` (mirror versus chain), `progress` (backfill output), `migrate` (Alembic, the only way the
schema changes), `service` (what the CLI commands call), `target`, `collector` (garbage-collector
tuning), `errors`. See README.md in this folder for operations.
"""
