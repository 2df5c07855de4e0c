"""The embedded cluster as a target: the one place that may start servers.

Only `advisoros-db up`, commands given `--embedded`, and the tests call `start()`. Every other
command uses `resolve(settings)`: the configured servers, else an embedded cluster that is
already running (never started here), else a clear error. `existing()` describes the embedded
cluster as it is, running or not, for `health`, which reports what it finds.
"""

from __future__ import annotations

from advisoros_db.cluster import Cluster
from advisoros_db.cluster.node import postmaster_pid
from advisoros_db.errors import ConfigError
from advisoros_db.settings import Settings
from advisoros_db.targets import NO_DATABASE, NoDatabaseConfigured, Target, configured
from advisoros_db.tenancy.roles import APP_ROLE


def embedded_cluster(settings: Settings) -> Cluster:
    return Cluster(
        settings.home,
        app_role=APP_ROLE,
        os_user=settings.embedded_os_user,
        primary_port=settings.embedded_port,
    )


def _target(settings: Settings, cluster: Cluster) -> Target:
    info = cluster.info()
    return Target(
        admin_url=info.primary_url,
        app_url=info.app_url,
        replica_urls=list(settings.read_replica_urls) or info.replica_urls,
        analytics_url=settings.analytics_url,
        background_url=settings.background_url,
        dr_url=settings.dr_url,
        cluster=cluster,
    )


def start(settings: Settings, *, replicas: int | None = None) -> Target:
    """Start (or reuse) the embedded cluster under `settings.home` and describe it.

    `replicas` is the least number of streaming replicas to run; None keeps an existing cluster
    as it is (`up --replicas 0` stays without replicas) and gives a new one the settings' number.
    """
    cluster = embedded_cluster(settings)
    wanted = replicas
    if wanted is None:
        nodes = cluster.nodes()
        wanted = sum(n.role == "replica" for n in nodes) if nodes else settings.embedded_replicas
    cluster.up(wanted)
    return _target(settings, cluster)


def existing(settings: Settings) -> Target | None:
    """The embedded cluster under `settings.home` as it is (running or not); None if there is none."""
    cluster = embedded_cluster(settings)
    if not any(n.role == "primary" for n in cluster.nodes()):
        return None
    return _target(settings, cluster)


def resolve(settings: Settings, *, embedded: bool = False) -> Target:
    """What a command works on: the configured servers; with `embedded`, the embedded cluster,
    started if needed; else a running embedded cluster. Nothing is started without `embedded`."""
    if settings.database_url is not None:
        return configured(settings)
    if embedded:
        return start(settings)
    found = existing(settings)
    if found is None:
        raise NoDatabaseConfigured(NO_DATABASE)
    assert found.cluster is not None
    if postmaster_pid(found.cluster.node("primary")) is None:
        raise ConfigError(
            f"the embedded cluster in {settings.home} is stopped; start it with `advisoros-db up` "
            "(or pass `--embedded`), or set ADVISOROS_DATABASE_URL"
        )
    return found
