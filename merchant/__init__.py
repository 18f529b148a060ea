"""Merchant integration: a Python client, the `greenpoints merchant` commands' logic, and an
HTTP gateway with idempotency keys, a PostgreSQL outbox and signed webhooks (see README.md)."""
