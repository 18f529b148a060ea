"""The merchant HTTP gateway: `POST /v1/checkouts` with idempotency keys, a PostgreSQL outbox,
a chain worker that signs, sends and confirms, and signed webhooks (see merchant/README.md)."""
