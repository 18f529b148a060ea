"""The read-only PostgreSQL role the API can run on: the statements, for the README and the tests.

Run them as the role that owns the mirror's tables (the indexer's), so that `ALTER DEFAULT
PRIVILEGES` also covers the tables later migrations create.
"""

from __future__ import annotations

from psycopg import sql


def readonly_role_sql(role: str, database: str, password: str | None = None) -> list[sql.Composed]:
    """CREATE ROLE ... LOGIN, CONNECT, USAGE and SELECT (now and on future tables), read-only by default."""
    r = sql.Identifier(role)
    login = sql.SQL("LOGIN PASSWORD {}").format(sql.Literal(password)) if password is not None else sql.SQL("LOGIN")
    return [
        sql.SQL("CREATE ROLE {} {}").format(r, login),
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), r),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(r),
        sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(r),
        sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {}").format(r),
        sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(r),
    ]
