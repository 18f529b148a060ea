"""Settings of the merchant tools, from `GREENPOINTS_MERCHANT_*` and `GREENPOINTS_GATEWAY_*`.

Read like the shared settings (`greenpoints.config`): the environment, then `.env`, then the
defaults; a bad value is refused at start with one line, and a secret is never shown in it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from greenpoints.config import load_part_settings, postgresql_url
from greenpoints.errors import ConfigError

GWEI = 10**9


class MerchantSettings(BaseModel):
    """`GREENPOINTS_MERCHANT_*`: the signing key and how transactions are sent and awaited."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: SecretStr | None = Field(default=None, description="the merchant's private key (hex)")
    keystore: Path | None = Field(default=None, description="an encrypted keystore file instead of the key")
    keystore_password: SecretStr | None = Field(default=None, description="the keystore's password (else a prompt)")
    confirmations: int = Field(default=0, ge=0, le=1000, description="blocks on top before a checkout is final")
    timeout: float = Field(default=120.0, gt=0, le=86_400, description="seconds to wait for a checkout to be final")
    poll_interval: float = Field(default=0.2, gt=0, le=60, description="seconds between receipt polls")
    stuck_after: float = Field(
        default=15.0,
        gt=0,
        le=3600,
        description="seconds unmined after which a transaction under the base fee is replaced",
    )
    priority_fee: int | None = Field(
        default=None, ge=0, description="tip per gas in wei (default: the node's eth_maxPriorityFeePerGas)"
    )
    max_fee: int | None = Field(default=None, gt=0, description="never offer more than this per gas, in wei")

    @field_validator("key")
    @classmethod
    def _check_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            hex_part = value.get_secret_value().strip().removeprefix("0x")
            if len(hex_part) != 64 or any(c not in "0123456789abcdefABCDEF" for c in hex_part):
                raise ValueError("must be 32 bytes of hex")
        return value


class GatewaySettings(BaseModel):
    """`GREENPOINTS_GATEWAY_*`: the HTTP gateway's database, tokens, confirmations and webhooks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    database_url: str | None = Field(default=None, description="PostgreSQL URL (else GREENPOINTS_DATABASE_URL)")
    tokens: SecretStr | None = Field(default=None, description="accepted bearer tokens, comma-separated")
    confirmations: int = Field(default=0, ge=0, le=1000, description="blocks on top before a checkout is final")
    webhook_url: str | None = Field(default=None, description="where final and failed checkouts are POSTed")
    webhook_secret: SecretStr | None = Field(default=None, description="HMAC-SHA256 key of the webhook signatures")
    webhook_timeout: float = Field(default=5.0, gt=0, le=120, description="seconds per webhook delivery attempt")
    webhook_max_attempts: int = Field(default=15, ge=1, le=100, description="deliveries tried before giving up")
    webhook_backoff: float = Field(default=1.0, gt=0, le=3600, description="seconds before the first retry (doubles)")
    poll_interval: float = Field(default=0.2, gt=0, le=60, description="seconds between looks at the chain")
    batch_size: int = Field(default=64, ge=1, le=1000, description="checkouts signed and sent per round")
    failpoint: str | None = Field(
        default=None, description="tests only: SIGKILL the gateway at this point (name or name:N, see failpoints.py)"
    )

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        return postgresql_url(value)

    @field_validator("failpoint")
    @classmethod
    def _check_failpoint(cls, value: str | None) -> str | None:
        if value is not None:
            from merchant.gateway.failpoints import parse

            parse(value)
        return value

    @field_validator("webhook_url")
    @classmethod
    def _check_webhook_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("tokens")
    @classmethod
    def _check_tokens(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            tokens = [t.strip() for t in value.get_secret_value().split(",")]
            if any(len(t) < 16 for t in tokens):
                raise ValueError("each token must have at least 16 characters")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _check_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must have at least 16 characters")
        return value

    def token_list(self) -> list[bytes]:
        """The accepted bearer tokens."""
        if self.tokens is None:
            return []
        return [t.strip().encode() for t in self.tokens.get_secret_value().split(",")]

    def require_complete(self, fallback_database_url: str | None) -> str:
        """The database URL to use; refuses a gateway without tokens or with half a webhook."""
        if not self.token_list():
            raise ConfigError("GREENPOINTS_GATEWAY_TOKENS: set at least one bearer token (16+ characters)")
        if (self.webhook_url is None) != (self.webhook_secret is None):
            raise ConfigError("GREENPOINTS_GATEWAY_WEBHOOK_URL and GREENPOINTS_GATEWAY_WEBHOOK_SECRET go together")
        url = self.database_url or fallback_database_url
        if url is None:
            raise ConfigError("set GREENPOINTS_GATEWAY_DATABASE_URL (or GREENPOINTS_DATABASE_URL) for the outbox")
        return url


MERCHANT_SECRETS = frozenset({"key", "keystore_password"})
GATEWAY_SECRETS = frozenset({"tokens", "webhook_secret", "database_url"})


def load_merchant_settings(
    overrides: dict[str, Any] | None = None, env_file: Path | None = Path(".env")
) -> MerchantSettings:
    return load_part_settings(MerchantSettings, "merchant", overrides, env_file, MERCHANT_SECRETS)


def load_gateway_settings(
    overrides: dict[str, Any] | None = None, env_file: Path | None = Path(".env")
) -> GatewaySettings:
    return load_part_settings(GatewaySettings, "gateway", overrides, env_file, GATEWAY_SECRETS)
