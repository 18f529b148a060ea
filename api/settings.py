"""The API's settings: `GREENPOINTS_API_*` from the environment or `.env`, refused at start in one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from greenpoints.compiler import ROOT
from greenpoints.config import Settings, load_part_settings, postgresql_url
from greenpoints.errors import ConfigError


class ApiSettings(BaseModel):
    """Field `x` is read from `GREENPOINTS_API_X`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(default="127.0.0.1", description="address to listen on")
    port: int = Field(default=8000, ge=1, le=65535, description="TCP port")
    workers: int = Field(default=1, ge=1, le=64, description="server processes (uvicorn workers)")
    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL for reading (a read-only role is enough); unset: GREENPOINTS_DATABASE_URL",
    )
    chain_id: int | None = Field(default=None, ge=1, description="chain to serve when the mirror holds several")
    pool_size: int = Field(default=4, ge=1, le=100, description="database connections per worker")
    statement_timeout_ms: int = Field(default=2000, ge=10, le=600_000, description="per SQL statement")
    max_lag: int = Field(default=10, ge=0, le=1_000_000, description="/readyz: most blocks the mirror may trail")
    max_silence: float = Field(
        default=30.0, gt=0, le=86_400, description="/readyz: most seconds since the indexer last saw the head"
    )
    audit_max_age: int = Field(
        default=1000, ge=1, le=100_000_000, description="blocks after which an audit without a schedule is stale"
    )
    cors_origins: str = Field(default="*", description='comma-separated origins allowed to GET ("*": any)')
    public_rpc_url: str | None = Field(default=None, description="JSON-RPC URL wallets should use (/v1/deployment)")
    explorer_url: str | None = Field(default=None, description="block explorer base URL (/v1/deployment)")
    static_dir: Path = Field(default=ROOT / "dapp" / "dist", description="the DApp's files, served at /app if present")
    cursor_key: str = Field(
        default="greenpoints-cursor-v1",
        min_length=8,
        description="key of the cursors' integrity tag (the same on every API process behind one address)",
    )

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        return postgresql_url(value)

    @field_validator("public_rpc_url", "explorer_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @property
    def origins(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]


def load_api_settings(overrides: dict[str, Any] | None = None, env_file: Path | None = Path(".env")) -> ApiSettings:
    return load_part_settings(ApiSettings, "api", overrides, env_file, hidden=frozenset({"database_url"}))


def database_url(api: ApiSettings, shared: Settings) -> str:
    """The API's own URL (a read-only role), else the indexer's."""
    url = api.database_url or shared.database_url
    if url is None:
        raise ConfigError("GREENPOINTS_API_DATABASE_URL: not set (nor GREENPOINTS_DATABASE_URL)")
    return url
