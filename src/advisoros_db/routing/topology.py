"""Which nodes a deployment has and the options the router runs with, from settings or a Target."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from advisoros_db.routing.kinds import Role
from advisoros_db.routing.state import NodeConfig
from advisoros_db.settings import Settings
from advisoros_db.targets import Target
from advisoros_db.tenancy import SessionReset

POOL_KIND = {
    Role.PRIMARY: "write",
    Role.DR: "write",
    Role.READ: "read",
    Role.ANALYTICS: "analytics",
    Role.BACKGROUND: "background",
}


@dataclass(frozen=True)
class RouterOptions:
    """Timing and policy knobs; `from_settings` maps the ADVISOROS_* settings onto them."""

    interval_s: float = 30.0
    max_lag_s: float = 5.0
    probe_timeout_s: float = 1.0
    return_after: int = 2
    ryw_wait_s: float = 0.1
    ryw_poll_s: float = 0.005
    retry_deadline_s: float = 5.0
    policy: str = "round_robin"
    pool_size: int = 10
    """Most connections of a node's pool when `pool_bounds` does not name its kind."""
    pool_bounds: dict[str, tuple[int, int]] = field(default_factory=dict)
    """`{kind: (min, max)}` for the `write`, `read`, `analytics` and `background` pools."""
    weights: dict[str, float] = field(default_factory=dict)
    pgbouncer: str | None = None
    """`on`, `off` or `auto` (see `advisoros_db.pooler`); None reads ADVISOROS_PGBOUNCER."""
    session_reset: SessionReset = SessionReset.SESSION
    check_every_read: bool = False

    def pool_range(self, role: Role) -> tuple[int, int]:
        """(min, max) connections of the pool of a node with this role. The DR node's is the
        write pool's: it takes writes once promoted."""
        kind = POOL_KIND[role]
        low, high = self.pool_bounds.get(kind, (1, self.pool_size))
        return min(low, high), high

    def pool_limit(self, nodes: tuple[NodeConfig, ...]) -> int:
        """Most server connections a router over `nodes` opens: every pool full, plus one health
        probe connection per node."""
        return sum(self.pool_range(n.role)[1] + 1 for n in nodes)

    @property
    def probe_every_s(self) -> float:
        """How often the monitor probes: the health interval, or a third of the staleness bound
        when that is shorter, so replicas' known replay positions keep proving the bound between
        probes and reads rarely need the in-band check."""
        return min(self.interval_s, self.max_lag_s / 3)

    @classmethod
    def from_settings(cls, settings: Settings) -> RouterOptions:
        return cls(
            interval_s=settings.health_check_interval_s,
            max_lag_s=settings.max_replica_lag_s,
            probe_timeout_s=settings.probe_timeout_s,
            return_after=settings.eject_return_probes,
            ryw_wait_s=settings.read_your_writes_wait_s,
            retry_deadline_s=settings.read_retry_deadline_s,
            policy=settings.read_policy,
            pool_size=settings.pool_max_size,
            pool_bounds=settings.pool_bounds(),
            weights=dict(settings.replica_weights),
            session_reset=SessionReset(settings.session_reset),
            check_every_read=settings.check_every_read,
            pgbouncer=settings.pgbouncer,
        )


def _credentials_from(url: str, source: str) -> str:
    """`url`'s server and database with `source`'s user and password."""
    parts, creds = urlsplit(url), urlsplit(source)
    userinfo = creds.netloc.rpartition("@")[0]
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{userinfo}@{host}" if userinfo else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def nodes_from(
    primary_url: str,
    replica_urls: list[str] | tuple[str, ...] = (),
    *,
    analytics_url: str | None = None,
    background_url: str | None = None,
    dr_url: str | None = None,
    weights: dict[str, float] | None = None,
) -> tuple[NodeConfig, ...]:
    """Name the nodes: `primary`, `replica1..N`, `analytics`, `background`, `dr`."""
    weights = weights or {}
    named: list[tuple[str, Role, str]] = [("primary", Role.PRIMARY, primary_url)]
    named += [(f"replica{i}", Role.READ, url) for i, url in enumerate(replica_urls, 1)]
    for name, role, url in (
        ("analytics", Role.ANALYTICS, analytics_url),
        ("background", Role.BACKGROUND, background_url),
        ("dr", Role.DR, dr_url),
    ):
        if url:
            named.append((name, role, url))
    return tuple(
        NodeConfig(name=name, role=role, url=url, weight=weights.get(name, 1.0))
        for name, role, url in named
    )


def nodes_for_target(
    target: Target, *, weights: dict[str, float] | None = None
) -> tuple[NodeConfig, ...]:
    """Every node of a deployment, logged in as the application role (row-level security applies).

    The embedded cluster lists its replicas with superuser URLs; they get the app role's
    credentials here. External replica URLs are used as configured.
    """
    replicas = list(target.replica_urls)
    if target.embedded:
        replicas = [_credentials_from(url, target.tenant_url) for url in replicas]
    return nodes_from(
        target.tenant_url,
        replicas,
        analytics_url=target.analytics_url,
        background_url=target.background_url,
        dr_url=target.dr_url,
        weights=weights,
    )
