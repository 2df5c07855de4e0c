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

    With no `database_url`, commands use the embedded cluster under `home` if it is running
    (only `up` and commands given `--embedded` start it); the library needs a URL.
    """

    model_config = SettingsConfigDict(
        env_prefix="ADVISOROS_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    home: Path = Path(".advisoros")
    """Where the embedded cluster keeps its data, logs and generated credentials."""

    database_url: str | None = None
    """Primary (read-write) server, as a libpq URL. Unset: the running embedded cluster (CLI)."""

    app_database_url: str | None = None
    """URL the application role logs in with (RLS applies). Unset: derived for the embedded cluster;
    with an external server, commands that reach tenant data refuse to start (never the owner's
    URL instead, which would bypass row-level security)."""

    read_replica_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Comma-separated URLs of streaming replicas that serve `read` sessions."""

    analytics_url: str | None = None
    """Replica dedicated to `analytics` sessions (reports, aggregates)."""

    background_url: str | None = None
    """Replica dedicated to `background` sessions (jobs)."""

    dr_url: str | None = None
    """Disaster-recovery replica: takes no traffic until promoted."""

    app_migrations: Path | None = None
    """Folder of the application's own Alembic revisions, on top of the library's (the
    `advisoros` branch; docs/migrations.md). `migrate`, `rollback`, `current`, `history` and
    `check` then work on both branches."""

    app_metadata: str | None = None
    """The application's models for `check`, as `package.module:attribute` (a MetaData or a
    declarative base): its tables are compared too instead of reported as database-only."""

    health_check_interval_s: float = Field(default=30.0, gt=0)
    """Seconds between health probes of every node (down to 0.1 for tests)."""

    max_replica_lag_s: float = Field(default=5.0, ge=0)
    """No routed read is served staler than this many seconds (`docs/routing.md`)."""

    check_every_read: bool = False
    """Check every read on a replica in its BEGIN round trip (replay position, still a standby),
    not only once the last probe no longer proves the staleness bound: a promoted replica then
    serves no further read at all. Costs the measured figure in `docs/routing.md`."""

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

    session_reset: Literal["session", "discard_all", "transaction_pooler"] = "session"
    """How pooled connections are cleaned when handed back: `session` (every setting, role,
    tenant, cursor, lock, LISTEN, temporary table and SQL-prepared statement of the borrower goes,
    in one round trip; psycopg's own prepared statements stay, checked against the server),
    `discard_all` (DISCARD ALL: the same, and
    psycopg's prepared statements too), or `transaction_pooler` behind PgBouncer in transaction
    mode, whose own reset must then be on (docs/security.md)."""

    embedded_replicas: int = Field(default=2, ge=0, le=8)
    """Streaming replicas the embedded cluster starts by default."""

    embedded_port: int = Field(default=0, ge=0, le=65535)
    """Port of the embedded primary; 0 picks a free one (replicas always pick free ports)."""

    embedded_os_user: str = "advisoros"
    """OS user the embedded server runs as when this process is root (PostgreSQL refuses root)."""

    token_encryption_key: SecretStr | None = None
    """Base64 key (32 bytes) that encrypts OAuth tokens at rest. Generated for the embedded cluster."""

    backup_dir: Path | None = None
    """Backup repository: encrypted base backups and the WAL archive. Unset: `<home>/backups`."""

    backup_encryption_key: SecretStr | None = None
    """Base64 key (32 bytes) that encrypts backups at rest (AES-256-GCM). Required by every
    `backup` command; keep a copy away from the backups, or they cannot be restored."""

    backup_recovery_window_days: float = Field(default=7.0, gt=0)
    """`backup prune` keeps what a restore to any point in the last this-many days needs."""

    backup_max_age_hours: float = Field(default=26.0, gt=0)
    """A last good backup older than this is reported as stale in `status` and health."""

    backup_synchronous_wal: bool = False
    """Make commits wait for the backup WAL stream to flush (RPO 0; commits stall if it stops)."""

    embedding_model: str = "multilingual-e5-small"
    """Model that embeds documents and queries: the offline `multilingual-e5-small` (bundled
    weights, no network) or `text-embedding-3-small` (needs `openai_api_key`)."""

    openai_api_key: SecretStr | None = None
    """Key for an OpenAI-compatible embeddings endpoint; unset, that provider is never used."""

    openai_base_url: str = "https://api.openai.com/v1"
    """Base URL of the OpenAI-compatible embeddings endpoint (`/embeddings` is appended)."""

    retention_audit_months: int = Field(default=84, ge=1)
    """Months of audit logs kept online; older months are archived to files, verified, then
    dropped (seven years, as the report states)."""

    retention_document_years: int = Field(default=7, ge=1)
    """Tax years of documents kept online besides the current one; older years are archived."""

    retention_export_dir: Path | None = None
    """Where retention writes its archive files and checksums. Unset: `<home>/archive`."""

    worker_poll_s: float = Field(default=60.0, gt=0)
    """Seconds the worker sleeps between looks for due jobs."""

    insights_long_query_s: float = Field(default=300.0, gt=0)
    """A query or transaction running longer than this is a problem for `insights check`."""

    insights_idle_in_transaction_s: float = Field(default=60.0, ge=0)
    """A session idle in a transaction longer than this is a problem (it holds locks and xmin)."""

    insights_blocked_s: float = Field(default=30.0, ge=0)
    """A query waiting on another session's lock longer than this is a problem."""

    insights_slot_retained_bytes: int = Field(default=1 << 30, ge=0)
    """An inactive replication slot retaining more WAL than this is a problem."""

    insights_min_runway: int = Field(default=2, ge=0)
    """Fewest future partitions (months of audit_logs, tax years of documents) before a problem."""

    insights_connections_ratio: float = Field(default=0.8, gt=0, le=1)
    """Connections above this share of max_connections are a problem."""

    insights_wraparound_age: int = Field(default=1_000_000_000, gt=0)
    """Transaction-ID age of a database above which a problem is reported (wraparound at 2^31)."""

    insights_unused_index_bytes: int = Field(default=1 << 20, ge=0)
    """An unused, non-unique index at least this large is a problem (smaller ones are listed)."""

    dashboard_token: SecretStr | None = None
    """Token the dashboard requires on every request but /api/health when it listens on anything
    other than 127.0.0.1 (`Authorization: Bearer <token>` or `?token=`)."""

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
    def backup_repository(self) -> Path:
        """Where backups live: `backup_dir`, or `backups` under the embedded home."""
        return self.backup_dir if self.backup_dir is not None else self.home / "backups"

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
