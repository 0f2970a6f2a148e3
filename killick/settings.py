"""Settings: every option Killick reads, its environment name, default and validation.

Names follow the SEP-6 guide that django-polaris users know (``ACTIVE_SEPS``,
``HOST_URL``, ``LOCAL_MODE``, ``SIGNING_SEED``, ...). Values come from the environment
and from a ``.env`` file in the working directory; the environment wins.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import cached_property
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from stellar_sdk import Keypair, Network
from stellar_sdk.exceptions import Ed25519SecretSeedInvalidError

KNOWN_SEPS = ("sep-1", "sep-6", "sep-10", "sep-12", "sep-38")
MIN_JWT_KEY_LENGTH = 32
MIN_ADMIN_PASSWORD_LENGTH = 12
DEFAULT_DATABASE_URL = "sqlite:///killick.db"
SEP12_FIELD_TYPES = ("string", "binary", "number", "date")
_FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*")
# RFC 4646 language tags, as SEP-6 `lang` takes them (primary subtag, then subtags).
LANGUAGE_TAG = re.compile(r"[a-z]{2,8}(-[a-z0-9]{1,8})*", re.ASCII | re.IGNORECASE)


class ConfigError(Exception):
    """A setting is missing or wrong; the message names the variable and what to do."""


class Settings(BaseSettings):
    """All of Killick's configuration. See docs/configuration.md for each option."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=True,
        frozen=True,
    )

    ACTIVE_SEPS: Annotated[tuple[str, ...], NoDecode] = ("sep-1", "sep-10", "sep-6", "sep-12")
    HOST_URL: str = "http://localhost:8000"
    LOCAL_MODE: bool = False
    ENABLE_SEP_0023: bool = False
    SIGNING_SEED: SecretStr
    SERVER_JWT_KEY: SecretStr
    ENCRYPTION_KEYS: SecretStr | None = None
    DATABASE_URL: str = DEFAULT_DATABASE_URL
    DATABASE_POOL_SIZE: int = Field(default=20, ge=1, le=500)
    HORIZON_URI: str = "https://horizon-testnet.stellar.org"
    STELLAR_NETWORK_PASSPHRASE: str = Network.TESTNET_NETWORK_PASSPHRASE
    INTEGRATIONS: str | None = None
    CONFIG_RECHECK_SECONDS: float = Field(default=2.0, ge=0, le=3600)
    HORIZON_TIMEOUT_SECONDS: float = Field(default=10.0, gt=0, le=300)

    # SEP-10
    SEP10_HOME_DOMAINS: Annotated[tuple[str, ...], NoDecode] = ()
    SEP10_CHALLENGE_TIMEOUT: int = Field(default=900, ge=30, le=86400)
    SEP10_JWT_LIFETIME: int = Field(default=86400, ge=60, le=30 * 86400)
    SEP10_CLIENT_ATTRIBUTION_REQUIRED: bool = False
    SEP10_CLIENT_ATTRIBUTION_ALLOWLIST: Annotated[tuple[str, ...], NoDecode] = ()
    SEP10_CLIENT_ATTRIBUTION_DENYLIST: Annotated[tuple[str, ...], NoDecode] = ()
    SEP10_CLIENT_DOMAIN_TIMEOUT: float = Field(default=3.0, gt=0, le=30)

    # Workers
    WORKER_POLL_SECONDS: float = Field(default=1.0, gt=0, le=60)
    WORKER_LEASE_SECONDS: int = Field(default=60, ge=5, le=3600)
    DEPOSIT_BATCH_SIZE: int = Field(default=100, ge=1, le=100)
    SUBMISSION_TIME_BOUND_SECONDS: int = Field(default=30, ge=2, le=3600)
    STELLAR_MAX_FEE_PER_OPERATION: int = Field(default=10_000, ge=100)
    ACCOUNT_CREATION_ENABLED: bool = True
    ACCOUNT_CREATION_STARTING_BALANCE: Decimal = Field(default=Decimal("2.01"), gt=0)
    DEPOSIT_MAX_SUBMISSION_ATTEMPTS: int = Field(default=5, ge=1, le=100)
    OBSERVER_INITIAL_CURSOR: str = "0"
    OBSERVER_SILENCE_SECONDS: float = Field(default=60.0, gt=0, le=3600)
    WITHDRAWAL_REFUNDS_AUTOMATIC: bool = True
    # Workers: the rails hooks, callbacks (docs/workers.md)
    RAILS_POLL_SECONDS: float = Field(default=10.0, ge=0, le=3600)
    RAILS_PAGE_SIZE: int = Field(default=500, ge=1, le=10_000)
    RAILS_CONCURRENCY: int = Field(default=10, ge=1, le=200)
    RAILS_RETRY_BASE_SECONDS: float = Field(default=10.0, gt=0, le=3600)
    RAILS_RETRY_CAP_SECONDS: float = Field(default=600.0, gt=0, le=86400)
    CALLBACK_TIMEOUT_SECONDS: float = Field(default=5.0, gt=0, le=60)
    CALLBACK_MAX_AGE_SECONDS: int = Field(default=86400, ge=1, le=30 * 86400)
    CALLBACK_BACKOFF_BASE_SECONDS: float = Field(default=5.0, gt=0, le=3600)
    CALLBACK_BACKOFF_CAP_SECONDS: float = Field(default=3600.0, gt=0, le=86400)
    CALLBACK_CONCURRENCY: int = Field(default=10, ge=1, le=200)
    SEP12_MAX_UPLOAD_BYTES: int = Field(default=10 * 1024 * 1024, ge=1024)
    SEP12_MAX_BODY_BYTES: int = Field(default=32 * 1024 * 1024, ge=1024)
    SEP12_EXTRA_FIELDS: Annotated[tuple[tuple[str, str], ...], NoDecode] = ()
    # SEP-6 (docs/sep6.md)
    SEP6_CUSTOMER_INFO_FLOW: Literal["status", "legacy_403"] = "status"
    SEP6_TRANSFER_DEADLINE_SECONDS: int = Field(default=7 * 86400, ge=0)
    SEP6_INFO_DEADLINE_SECONDS: int = Field(default=7 * 86400, ge=0)
    SEP6_WITHDRAW_MEMO_TYPE: Literal["id", "text", "hash"] = "id"
    SEP6_LANGUAGES: Annotated[tuple[str, ...], NoDecode] = ("en",)
    SEP6_ACCOUNT_CREATION: bool = True
    SEP6_CLAIMABLE_BALANCES: bool = True
    # Operating Killick (docs/operations.md)
    LOG_FORMAT: Literal["text", "json"] = "text"
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    HEALTH_HEARTBEAT_MAX_AGE_SECONDS: float = Field(default=120.0, gt=0, le=86400)
    HEALTH_HORIZON_TIMEOUT_SECONDS: float = Field(default=2.0, gt=0, le=60)
    HEALTH_HORIZON_CACHE_SECONDS: float = Field(default=5.0, ge=0, le=3600)
    METRICS_ENABLED: bool = True
    METRICS_TOKEN: SecretStr | None = None
    METRICS_CACHE_SECONDS: float = Field(default=5.0, ge=0, le=3600)
    ADMIN_PASSWORD: SecretStr | None = None
    ADMIN_SESSION_SECONDS: int = Field(default=8 * 3600, ge=60, le=30 * 86400)
    # Limits (docs/security.md): sizes, and request rates counted in the database
    MAX_BODY_BYTES: int = Field(default=64 * 1024, ge=1024)
    MAX_QUERY_BYTES: int = Field(default=4096, ge=256)
    RATE_LIMIT_WINDOW_SECONDS: int = Field(default=60, ge=1, le=3600)
    RATE_LIMIT_AUTH: int = Field(default=120, ge=0)
    RATE_LIMIT_CUSTOMER: int = Field(default=300, ge=0)
    RATE_LIMIT_TRANSFERS: int = Field(default=300, ge=0)

    @field_validator("ACTIVE_SEPS", mode="before")
    @classmethod
    def _split_seps(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip().lower() for part in value.split(",") if part.strip()]
        return value

    @field_validator(
        "SEP10_HOME_DOMAINS",
        "SEP10_CLIENT_ATTRIBUTION_ALLOWLIST",
        "SEP10_CLIENT_ATTRIBUTION_DENYLIST",
        mode="before",
    )
    @classmethod
    def _split_domains(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip().lower() for part in value.split(",") if part.strip()]
        return value

    @field_validator("ACTIVE_SEPS")
    @classmethod
    def _known_seps(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [sep for sep in value if sep not in KNOWN_SEPS]
        if unknown:
            raise ValueError(f"unknown SEP {unknown[0]!r}; choose from {', '.join(KNOWN_SEPS)}")
        return tuple(dict.fromkeys(value))

    @field_validator("SEP6_LANGUAGES", mode="before")
    @classmethod
    def _split_languages(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("SEP6_LANGUAGES")
    @classmethod
    def _language_tags(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        tags = tuple(dict.fromkeys(tag.lower() for tag in value))
        bad = [tag for tag in tags if not LANGUAGE_TAG.fullmatch(tag) or len(tag) > 16]
        if bad:
            raise ValueError(f"{bad[0]!r} is not a language tag (RFC 4646), e.g. en,es,pt-br")
        if "en" not in tags:  # SEP-6 falls back to en, so it is always served
            tags = ("en", *tags)
        return tags

    @field_validator("SIGNING_SEED")
    @classmethod
    def _valid_seed(cls, value: SecretStr) -> SecretStr:
        try:
            Keypair.from_secret(value.get_secret_value())
        except (Ed25519SecretSeedInvalidError, ValueError):
            raise ValueError(
                "not a valid Stellar secret seed (S...); make one with `killick keys new`"
            ) from None
        return value

    @field_validator("SERVER_JWT_KEY")
    @classmethod
    def _long_jwt_key(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < MIN_JWT_KEY_LENGTH:
            raise ValueError(
                f"must be at least {MIN_JWT_KEY_LENGTH} characters of random text "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
            )
        return value

    @field_validator("ENCRYPTION_KEYS")
    @classmethod
    def _long_encryption_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        keys = [k.strip() for k in value.get_secret_value().split(",")]
        if not keys or any(len(k) < MIN_JWT_KEY_LENGTH for k in keys):
            raise ValueError(
                f"a comma-separated list of keys, each at least {MIN_JWT_KEY_LENGTH} characters"
            )
        return value

    @field_validator("ADMIN_PASSWORD", "METRICS_TOKEN", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("ADMIN_PASSWORD")
    @classmethod
    def _long_admin_password(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_ADMIN_PASSWORD_LENGTH:
            raise ValueError(
                f"must be at least {MIN_ADMIN_PASSWORD_LENGTH} characters (the admin view is "
                "reachable wherever the server is); leave it unset to keep /admin off"
            )
        return value

    @field_validator("DATABASE_URL")
    @classmethod
    def _known_database(cls, value: str) -> str:
        scheme = value.split(":", 1)[0].split("+", 1)[0]
        if scheme not in ("sqlite", "postgresql", "postgres"):
            raise ValueError("use sqlite:///path/to/file.db or postgresql://user@host/db")
        return value

    @field_validator("HOST_URL", "HORIZON_URI")
    @classmethod
    def _absolute_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an absolute http(s) URL, e.g. https://anchor.example.com")
        return value.rstrip("/")

    @field_validator("SEP12_EXTRA_FIELDS", mode="before")
    @classmethod
    def _parse_extra_fields(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        pairs = []
        for item in (part.strip() for part in value.split(",")):
            if item:
                name, _, kind = item.partition(":")
                pairs.append((name.strip(), kind.strip() or "string"))
        return tuple(pairs)

    @field_validator("SEP12_EXTRA_FIELDS")
    @classmethod
    def _valid_extra_fields(cls, value: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
        for name, kind in value:
            if not _FIELD_NAME.fullmatch(name):
                raise ValueError(f"{name!r} is not a field name (letters, digits, '_', '.')")
            if kind not in SEP12_FIELD_TYPES:
                raise ValueError(
                    f"{name}: type {kind!r} is not one of {', '.join(SEP12_FIELD_TYPES)}"
                )
        return value

    @model_validator(mode="after")
    def _body_holds_an_upload(self) -> Settings:
        if self.SEP12_MAX_BODY_BYTES < self.SEP12_MAX_UPLOAD_BYTES:
            raise ValueError(
                "SEP12_MAX_BODY_BYTES: must be at least SEP12_MAX_UPLOAD_BYTES "
                "(a request must be able to carry one file of the largest size)"
            )
        return self

    @model_validator(mode="after")
    def _https_unless_local(self) -> Settings:
        if not self.LOCAL_MODE:
            for name in ("HOST_URL", "HORIZON_URI"):
                if urlsplit(getattr(self, name)).scheme != "https":
                    raise ValueError(f"{name}: must use https unless LOCAL_MODE=1")
        return self

    # Derived values, computed once per process.

    @cached_property
    def signing_keypair(self) -> Keypair:
        return Keypair.from_secret(self.SIGNING_SEED.get_secret_value())

    @cached_property
    def host(self) -> str:
        """The host (and port, if any) of HOST_URL: the SEP-10 home domain by default."""
        return urlsplit(self.HOST_URL).netloc

    @cached_property
    def home_domains(self) -> tuple[str, ...]:
        """SEP-10 home domains; the first is the default. HOST_URL's host when unset."""
        return self.SEP10_HOME_DOMAINS or (self.host,)

    def sep_active(self, sep: str) -> bool:
        return sep in self.ACTIVE_SEPS

    def encryption_secrets(self) -> list[str]:
        """Keys for seeds at rest, newest first. Without ENCRYPTION_KEYS, SERVER_JWT_KEY."""
        if self.ENCRYPTION_KEYS is None:
            return [self.SERVER_JWT_KEY.get_secret_value()]
        return [k.strip() for k in self.ENCRYPTION_KEYS.get_secret_value().split(",")]


def describe_validation_error(error: ValidationError) -> str:
    """One line per wrong variable, naming it, never echoing its (possibly secret) value."""
    lines = []
    for item in error.errors():
        name = ".".join(str(p) for p in item["loc"]) or "settings"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "missing":
            message = "is required but not set (environment or .env)"
        if ": " in message and message.split(": ", 1)[0].isupper():
            name, message = message.split(": ", 1)
        lines.append(f"{name}: {message}")
    return "\n".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment and .env, raising ConfigError on a wrong value."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise ConfigError(describe_validation_error(error)) from None
