"""One typed configuration for every `greenpoints` command.

Values come from the environment, then from a `.env` file in the working directory, then from
the defaults below; command-line flags override them. A bad value is refused at start with one
line naming the variable.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from greenpoints.errors import ConfigError

PREFIX = "GREENPOINTS_"
# Parts with a settings class of their own read `GREENPOINTS_<PART>_*` (see `load_part_settings`);
# the shared settings leave those variables to them.
PART_PREFIXES = ("API_", "MERCHANT_", "GATEWAY_", "DEMO_")
# Where the local default chain keeps its state between commands, and other local files.
LOCAL_DIR = Path(".greenpoints")
# The local default chain's state, kept between commands (`greenpoints chain`, commands without an RPC).
LOCAL_CHAIN_STATE = LOCAL_DIR / "chain-state.json"
M = TypeVar("M", bound=BaseModel)


def postgresql_url(value: str | None) -> str | None:
    """A settings check shared by every part: unset, or a PostgreSQL URL."""
    if value is not None and not value.startswith(("postgresql://", "postgresql+psycopg://")):
        raise ValueError("must be a PostgreSQL URL (postgresql+psycopg://user@host/db)")
    return value


class Settings(BaseModel):
    """Settings shared by every command; field `x` is read from `GREENPOINTS_X`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rpc_url: str | None = Field(default=None, description="JSON-RPC URL; unset: a local anvil is started")
    deployment: Path | None = Field(default=None, description="deployment file; unset: deployments/<chainId>.json")
    private_key: str | None = Field(default=None, description="deployer key for non-local chains")
    keystore_password: str | None = Field(default=None, description="password of `deploy --keystore FILE`")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL (postgresql+psycopg://...)")
    confirmations: int = Field(default=0, ge=0, le=1000, description="blocks behind head the indexer stays")
    batch_size: int = Field(default=5000, ge=1, le=1_000_000, description="blocks per indexing batch (one transaction)")
    poll_interval: float = Field(default=0.5, gt=0, le=3600, description="seconds between live polls")
    reorg_window: int = Field(default=128, ge=1, le=100_000, description="recent block hashes kept for reorgs")
    log_range_limit: int | None = Field(
        default=None,
        ge=1,
        le=1_000_000,
        description="most blocks per eth_getLogs request; unset: no cap until the node refuses a range",
    )
    backfill_worker: bool = Field(
        default=True, description="read and prepare long backfills in a second process (on another core)"
    )
    audit_every: int = Field(
        default=100,
        ge=0,
        le=10_000_000,
        description="while live, audit the mirror against the chain every this many blocks and store it (0: never)",
    )

    @field_validator("rpc_url")
    @classmethod
    def _check_rpc_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://", "ws://", "wss://")):
            raise ValueError("must start with http://, https://, ws:// or wss://")
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        return postgresql_url(value)

    @field_validator("private_key")
    @classmethod
    def _check_private_key(cls, value: str | None) -> str | None:
        if value is not None:
            hex_part = value.removeprefix("0x")
            if len(hex_part) != 64 or any(c not in "0123456789abcdefABCDEF" for c in hex_part):
                raise ValueError("must be 32 bytes of hex")
        return value


def _environment(prefix: str, env_file: Path | None) -> dict[str, str]:
    """`prefix*` variables from `.env`, then the environment (which wins), as lowercase field names."""
    raw: dict[str, str] = {}
    sources: list[dict[str, Any]] = []
    if env_file is not None and env_file.is_file():
        from dotenv import dotenv_values  # only when there is a .env (its import costs start-up time)

        sources.append({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    sources.append(dict(os.environ))
    for source in sources:
        for key, value in source.items():
            if key.startswith(prefix) and value != "":
                raw[key.removeprefix(prefix).lower()] = value
    return raw


def _validated(model: type[M], raw: dict[str, Any], prefix: str, hidden: frozenset[str]) -> M:
    unknown = sorted(set(raw) - set(model.model_fields))
    if unknown:
        raise ConfigError(f"{prefix}{unknown[0].upper()}: unknown setting")
    try:
        return model(**raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        shown = "<hidden>" if field in hidden else repr(raw.get(field))
        raise ConfigError(f"{prefix}{field.upper()}: {error['msg']} (got {shown})") from None


def load_settings(overrides: dict[str, Any] | None = None, env_file: Path | None = Path(".env")) -> Settings:
    """Read settings from the environment and `.env`, apply non-None `overrides`, validate."""
    raw: dict[str, Any] = {
        k: v for k, v in _environment(PREFIX, env_file).items() if not k.upper().startswith(PART_PREFIXES)
    }
    raw.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return _validated(Settings, raw, PREFIX, frozenset({"private_key", "keystore_password"}))


def load_part_settings(
    model: type[M],
    part: str,
    overrides: dict[str, Any] | None = None,
    env_file: Path | None = Path(".env"),
    hidden: frozenset[str] = frozenset(),
) -> M:
    """A part's own settings from `GREENPOINTS_<PART>_*` (part in `PART_PREFIXES`), the same way:
    `.env`, then the environment, then non-None `overrides`; refused in one line when bad."""
    prefix = f"{PREFIX}{part.upper()}_"
    assert prefix.removeprefix(PREFIX) in PART_PREFIXES, f"register {part!r} in PART_PREFIXES"
    raw: dict[str, Any] = dict(_environment(prefix, env_file))
    raw.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return _validated(model, raw, prefix, hidden)
