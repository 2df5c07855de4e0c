"""One typed settings object: every knob, its environment variable, and its default."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from advisoros_db.errors import ConfigError

POOL_KINDS = ("write", "read", "analytics", "background")


class Settings(BaseSettings):
    """Configuration read from `ADVISOROS_*` environment variables and an optional `.env` file.

    With no `database_url`, every command uses the embedded cluster under `home`.
    """

    model_config = SettingsConfigDict(
        env_prefix="ADVISOROS_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    home: Path = Path(".advisoros")
    """Where the embedded cluster keeps its data, logs and generated credentials."""

    database_url: str | None = None
    """Primary (read-write) server, as a libpq URL. Unset: use the embedded cluster."""

    app_database_url: str | None = None
    """URL the application role logs in with (RLS applies). Unset: derived for the embedded cluster;
    for an external server, `database_url` is used."""

    read_replica_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Comma-separated URLs of streaming replicas that serve `read` sessions."""

    analytics_url: str | None = None
    """Replica dedicated to `analytics` sessions (reports, aggregates)."""

    background_url: str | None = None
    """Replica dedicated to `background` sessions (jobs)."""

    dr_url: str | None = None
    """Disaster-recovery replica: takes no traffic until promoted."""

    health_check_interval_s: float = Field(default=30.0, gt=0)
    """Seconds between health probes of every node (down to 0.1 for tests)."""

    max_replica_lag_s: float = Field(default=5.0, ge=0)
    """A replica staler than this many seconds takes no reads until it catches up."""

    read_policy: str = "round_robin"
    """How reads spread over replicas: `round_robin`, `random` or `least_outstanding`."""

    replica_weights: Annotated[dict[str, float], NoDecode] = Field(default_factory=dict)
    """Comma-separated `node=weight` pairs (`replica1=2,replica2=1`); unlisted nodes weigh 1."""

    read_your_writes_wait_s: float = Field(default=0.1, ge=0)
    """How long a read carrying a consistency token waits for a replica to replay it before it
    goes to the primary."""

    read_retry_deadline_s: float = Field(default=5.0, gt=0)
    """How long a failing read may keep retrying on other nodes before its error is raised."""

    probe_timeout_s: float = Field(default=1.0, gt=0)
    """Statement timeout of a health probe (connect timeout: at least 2 s, libpq's floor)."""

    eject_return_probes: int = Field(default=2, ge=1)
    """Consecutive good probes an ejected node needs before it takes traffic again."""

    pool_min_size: int = Field(default=1, ge=0, le=10_000)
    """Connections each node's pool keeps open, unless its kind's own setting says otherwise."""

    pool_max_size: int = Field(default=10, ge=1, le=10_000)
    """Most connections each node's pool opens, unless its kind's own setting says otherwise."""

    pool_write_min_size: int | None = Field(default=None, ge=0, le=10_000)
    """Connections the primary's pool (writes, and reads that fall back to it) keeps open."""

    pool_write_max_size: int | None = Field(default=None, ge=1, le=10_000)
    """Most connections the primary's pool opens (also the DR node's, once promoted)."""

    pool_read_min_size: int | None = Field(default=None, ge=0, le=10_000)
    """Connections each read replica's pool keeps open."""

    pool_read_max_size: int | None = Field(default=None, ge=1, le=10_000)
    """Most connections each read replica's pool opens."""

    pool_analytics_min_size: int | None = Field(default=None, ge=0, le=10_000)
    """Connections the analytics node's pool keeps open."""

    pool_analytics_max_size: int | None = Field(default=None, ge=1, le=10_000)
    """Most connections the analytics node's pool opens."""

    pool_background_min_size: int | None = Field(default=None, ge=0, le=10_000)
    """Connections the background node's pool keeps open."""

    pool_background_max_size: int | None = Field(default=None, ge=1, le=10_000)
    """Most connections the background node's pool opens."""

    pgbouncer: Literal["auto", "on", "off"] = "auto"
    """Whether a pooler in transaction mode (PgBouncer) sits between us and PostgreSQL: `on` never
    uses server-side prepared statements; `off` uses them; `auto` checks each server once."""

    embedded_replicas: int = Field(default=2, ge=0, le=8)
    """Streaming replicas the embedded cluster starts by default."""

    embedded_port: int = Field(default=0, ge=0, le=65535)
    """Port of the embedded primary; 0 picks a free one (replicas always pick free ports)."""

    embedded_os_user: str = "advisoros"
    """OS user the embedded server runs as when this process is root (PostgreSQL refuses root)."""

    token_encryption_key: SecretStr | None = None
    """Base64 key (32 bytes) that encrypts OAuth tokens at rest. Generated for the embedded cluster."""

    embedding_model: str = "multilingual-e5-small"
    """Model that embeds documents and queries: the offline `multilingual-e5-small` (bundled
    weights, no network) or `text-embedding-3-small` (needs `openai_api_key`)."""

    openai_api_key: SecretStr | None = None
    """Key for an OpenAI-compatible embeddings endpoint; unset, that provider is never used."""

    openai_base_url: str = "https://api.openai.com/v1"
    """Base URL of the OpenAI-compatible embeddings endpoint (`/embeddings` is appended)."""

    @field_validator("read_replica_urls", mode="before")
    @classmethod
    def _split_urls(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("replica_weights", mode="before")
    @classmethod
    def _split_weights(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        weights: dict[str, str] = {}
        for part in value.split(","):
            if not part.strip():
                continue
            name, sep, weight = part.partition("=")
            if not sep:
                raise ValueError(f"replica weight {part!r} must look like replica1=2")
            weights[name.strip()] = weight.strip()
        return weights

    @model_validator(mode="after")
    def _pool_bounds(self) -> Settings:
        for kind, (low, high) in self.pool_bounds().items():
            if low > high:
                raise ValueError(
                    f"the {kind} pool's min size {low} exceeds its max size {high}: lower "
                    f"ADVISOROS_POOL_{kind.upper()}_MIN_SIZE (or ADVISOROS_POOL_MIN_SIZE) or raise "
                    "the max"
                )
        return self

    def pool_bounds(self) -> dict[str, tuple[int, int]]:
        """`{kind: (min, max)}` for the write, read, analytics and background pools."""
        bounds: dict[str, tuple[int, int]] = {}
        for kind in POOL_KINDS:
            low = getattr(self, f"pool_{kind}_min_size")
            high = getattr(self, f"pool_{kind}_max_size")
            bounds[kind] = (
                self.pool_min_size if low is None else low,
                self.pool_max_size if high is None else high,
            )
        return bounds

    @property
    def uses_embedded(self) -> bool:
        """True when no external server is configured."""
        return self.database_url is None


def get_settings() -> Settings:
    """Read the settings from the environment (and `.env`) now; a bad value raises ConfigError
    naming the variable, what it holds and what it should be."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]) or "settings"
            name = f"ADVISOROS_{field.upper()}" if error["loc"] else "settings"
            given = error.get("input")
            shown = "" if isinstance(given, dict) or field == "settings" else f" (got {given!r})"
            if "secret" in field or "key" in field or "url" in field:
                shown = ""
            problems.append(f"{name}{shown}: {error['msg']}")
        raise ConfigError("bad setting: " + "; ".join(problems)) from None
