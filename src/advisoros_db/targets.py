"""Which servers a deployment has: the configured ones, described; nothing here starts a server.

`configured(settings)` is what the library uses (`Router.from_settings`): the servers named by
`ADVISOROS_DATABASE_URL` and friends, or a clear error when none is set. Starting the embedded
cluster lives apart, in `advisoros_db.embedded`, used only by `up`, commands given `--embedded`,
and the tests.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import psycopg

from advisoros_db import requirements
from advisoros_db.errors import ConfigError
from advisoros_db.settings import Settings
from advisoros_db.tenancy.roles import APP_ROLE
from advisoros_db.urls import masked_repr

if TYPE_CHECKING:
    from advisoros_db.cluster import Cluster


class NoDatabaseConfigured(ConfigError):
    """No server is configured and nothing may be started implicitly."""


NO_DATABASE = (
    "no database configured: set ADVISOROS_DATABASE_URL (and ADVISOROS_APP_DATABASE_URL, "
    "ADVISOROS_READ_REPLICA_URLS as needed), or start the embedded cluster with "
    "`advisoros-db up` (or pass `--embedded` to a command)"
)


@dataclass(frozen=True)
class Target:
    """The servers of one deployment.

    `admin_url` owns the schema (migrations, maintenance); `app_url` is the application role that
    row-level security applies to, None when an external server has none configured (then
    `tenant_url` refuses: tenant sessions never fall back to the owner).
    """

    admin_url: str
    app_url: str | None
    replica_urls: list[str] = field(default_factory=list)
    analytics_url: str | None = None
    background_url: str | None = None
    dr_url: str | None = None
    cluster: Cluster | None = None

    __repr__ = masked_repr

    @property
    def embedded(self) -> bool:
        return self.cluster is not None

    @property
    def tenant_url(self) -> str:
        """The application role's URL, for everything a tenant reaches; a ConfigError when none is
        configured, because the owner's URL would bypass row-level security."""
        if self.app_url is None:
            raise ConfigError(
                "ADVISOROS_APP_DATABASE_URL is not set: tenant sessions need the application role "
                f"({APP_ROLE}), which row-level security binds, and never run as the owner in "
                "ADVISOROS_DATABASE_URL. Create the login (docs/security.md) and set "
                "ADVISOROS_APP_DATABASE_URL to it"
            )
        return self.app_url


def configured(settings: Settings) -> Target:
    """The servers the settings name. Raises `NoDatabaseConfigured` when none is set, and a
    ConfigError when the primary misses a requirement (`requirements.check`: PostgreSQL 18,
    pgvector). An unreachable primary is not checked here: the connection that follows reports it
    (and `health` shows it down)."""
    if settings.database_url is None:
        raise NoDatabaseConfigured(NO_DATABASE)
    with contextlib.suppress(psycopg.OperationalError):
        requirements.check(settings.database_url)
    return Target(
        admin_url=settings.database_url,
        app_url=settings.app_database_url,
        replica_urls=list(settings.read_replica_urls),
        analytics_url=settings.analytics_url,
        background_url=settings.background_url,
        dr_url=settings.dr_url,
    )


def embedded_cluster(settings: Settings) -> Cluster:
    """The embedded cluster's handle (starts nothing); kept here for callers of the old module,
    `advisoros_db.embedded` holds it."""
    from advisoros_db.embedded import embedded_cluster as handle

    return handle(settings)


def token_key(settings: Settings, target: Target) -> str | None:
    """The token encryption key: from settings, else the embedded cluster's generated one."""
    if settings.token_encryption_key is not None:
        return settings.token_encryption_key.get_secret_value()
    if target.cluster is not None:
        return target.cluster.credentials().token_encryption_key
    return None
