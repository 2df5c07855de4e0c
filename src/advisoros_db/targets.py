"""Which servers a command talks to: the configured ones, or the embedded cluster started on demand."""

from __future__ import annotations

from dataclasses import dataclass, field

from advisoros_db import requirements
from advisoros_db.cluster import Cluster
from advisoros_db.settings import Settings


@dataclass(frozen=True)
class Target:
    """The servers of one deployment.

    `admin_url` owns the schema (migrations, maintenance); `app_url` is the application role that
    row-level security applies to.
    """

    admin_url: str
    app_url: str
    replica_urls: list[str] = field(default_factory=list)
    analytics_url: str | None = None
    background_url: str | None = None
    dr_url: str | None = None
    cluster: Cluster | None = None

    @property
    def embedded(self) -> bool:
        return self.cluster is not None


def embedded_cluster(settings: Settings) -> Cluster:
    return Cluster(
        settings.home, os_user=settings.embedded_os_user, primary_port=settings.embedded_port
    )


def resolve(settings: Settings, *, replicas: int | None = None) -> Target:
    """The external servers when `ADVISOROS_DATABASE_URL` is set; else the embedded cluster, up.

    `replicas` is the least number of streaming replicas to run; None keeps an existing cluster
    as it is (`up --replicas 0` stays without replicas) and gives a new one the settings' number.
    """
    if settings.database_url is not None:
        requirements.check(settings.database_url)
        return Target(
            admin_url=settings.database_url,
            app_url=settings.app_database_url or settings.database_url,
            replica_urls=list(settings.read_replica_urls),
            analytics_url=settings.analytics_url,
            background_url=settings.background_url,
            dr_url=settings.dr_url,
        )
    cluster = embedded_cluster(settings)
    wanted = replicas
    if wanted is None:
        nodes = cluster.nodes()
        wanted = sum(n.role == "replica" for n in nodes) if nodes else settings.embedded_replicas
    info = cluster.up(wanted)
    return Target(
        admin_url=info.primary_url,
        app_url=info.app_url,
        replica_urls=list(settings.read_replica_urls) or info.replica_urls,
        analytics_url=settings.analytics_url,
        background_url=settings.background_url,
        dr_url=settings.dr_url,
        cluster=cluster,
    )


def token_key(settings: Settings, target: Target) -> str | None:
    """The token encryption key: from settings, else the embedded cluster's generated one."""
    if settings.token_encryption_key is not None:
        return settings.token_encryption_key.get_secret_value()
    if target.cluster is not None:
        return target.cluster.credentials().token_encryption_key
    return None
