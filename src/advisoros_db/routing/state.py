"""Immutable snapshots of what the router knows about each node, and pure transitions on them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from advisoros_db.routing.kinds import Role
from advisoros_db.routing.lag import WalSample, staleness, trim
from advisoros_db.urls import masked_repr


@dataclass(frozen=True)
class NodeConfig:
    """One configured node. `url` carries credentials: never print it unmasked."""

    name: str
    role: Role
    url: str
    weight: float = 1.0

    __repr__ = masked_repr


@dataclass(frozen=True)
class ProbeResult:
    """What one health probe saw. `reachable=False` carries the error text instead."""

    reachable: bool
    latency_ms: float | None = None
    in_recovery: bool | None = None
    current_lsn: int | None = None
    replay_lsn: int | None = None
    replay_age_s: float | None = None
    replay_paused: bool | None = None
    port: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class NodeState:
    """One node as last seen. `ejected` nodes take no traffic until `good_probes` reach the bar."""

    config: NodeConfig
    probed: bool = False
    reachable: bool = True
    ejected: bool = False
    eject_reason: str | None = None
    good_probes: int = 0
    in_recovery: bool | None = None
    replay_lsn: int | None = None
    replay_paused: bool | None = None
    lag_s: float | None = None
    port: int | None = None
    latencies_ms: tuple[float, ...] = ()
    last_error: str | None = None

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def role(self) -> Role:
        return self.config.role

    @property
    def healthy(self) -> bool:
        """Reachable and not ejected (a node never probed yet is given the benefit of the doubt)."""
        return self.reachable and not self.ejected

    @property
    def role_mismatch(self) -> str | None:
        """Why the server's actual role contradicts its configured one, if it does."""
        if self.in_recovery is None:
            return None
        if self.role is Role.PRIMARY and self.in_recovery:
            return "configured as primary but in recovery: writes are refused"
        if self.role is Role.DR and not self.in_recovery:
            return "DR replica promoted: it takes the writes while the primary is down"
        if self.role is not Role.PRIMARY and not self.in_recovery:
            return "configured as a replica but not in recovery (promoted?): takes no reads"
        return None

    @property
    def latency_avg_ms(self) -> float | None:
        """Exponential moving average of probe latency (recent probes weigh most)."""
        if not self.latencies_ms:
            return None
        average = self.latencies_ms[0]
        for value in self.latencies_ms[1:]:
            average = 0.7 * average + 0.3 * value
        return average

    @property
    def latency_p95_ms(self) -> float | None:
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


@dataclass(frozen=True)
class Snapshot:
    """Every node's state plus recent primary WAL samples; replaced whole, never mutated."""

    nodes: tuple[NodeState, ...]
    wal_history: tuple[WalSample, ...] = field(default_factory=tuple)

    def node(self, name: str) -> NodeState:
        for item in self.nodes:
            if item.name == name:
                return item
        raise KeyError(name)

    def with_roles(self, *roles: Role) -> tuple[NodeState, ...]:
        return tuple(n for n in self.nodes if n.role in roles)

    @property
    def primary(self) -> NodeState:
        return self.with_roles(Role.PRIMARY)[0]

    def replace_node(self, updated: NodeState) -> Snapshot:
        return replace(
            self,
            nodes=tuple(updated if n.name == updated.name else n for n in self.nodes),
        )


def initial(configs: tuple[NodeConfig, ...]) -> Snapshot:
    """The snapshot before any probe: every node presumed usable."""
    primaries = [c for c in configs if c.role is Role.PRIMARY]
    if len(primaries) != 1:
        raise ValueError(f"exactly one primary node is needed, got {len(primaries)}")
    return Snapshot(nodes=tuple(NodeState(config=c) for c in configs))


LATENCY_WINDOW = 20
"""Probe latencies kept per node for the moving average and p95."""

WAL_HISTORY_S = 120.0
"""Seconds of primary WAL samples kept to turn a position gap into seconds."""


def record_primary_sample(snapshot: Snapshot, lsn: int, now: float) -> Snapshot:
    history = (*snapshot.wal_history, WalSample(at=now, lsn=lsn))
    return replace(snapshot, wal_history=trim(history, now=now, keep_s=WAL_HISTORY_S))


def apply_probe(
    snapshot: Snapshot, name: str, result: ProbeResult, *, now: float, return_after: int
) -> Snapshot:
    """Fold one probe into the snapshot: reachability, role, latency, replay position and lag.

    An ejected node comes back only after `return_after` consecutive good probes (hysteresis).
    """
    node = snapshot.node(name)
    if not result.reachable:
        return snapshot.replace_node(
            replace(
                node,
                probed=True,
                reachable=False,
                ejected=True,
                eject_reason=node.eject_reason or "probe failed",
                good_probes=0,
                last_error=result.error,
            )
        )
    if result.current_lsn is not None and node.role is Role.PRIMARY and not result.in_recovery:
        snapshot = record_primary_sample(snapshot, result.current_lsn, now)
    good = node.good_probes + 1
    ejected = node.ejected and good < return_after
    lag: float | None = None
    if result.in_recovery:
        lag = staleness(
            snapshot.wal_history, result.replay_lsn, now=now, replay_age_s=result.replay_age_s
        )
    elif result.in_recovery is False:
        lag = 0.0
    latencies = node.latencies_ms
    if result.latency_ms is not None:
        latencies = (*latencies, result.latency_ms)[-LATENCY_WINDOW:]
    return snapshot.replace_node(
        replace(
            node,
            probed=True,
            reachable=True,
            ejected=ejected,
            eject_reason=node.eject_reason if ejected else None,
            good_probes=good,
            in_recovery=result.in_recovery,
            replay_lsn=result.replay_lsn if result.in_recovery else result.current_lsn,
            replay_paused=result.replay_paused,
            lag_s=lag,
            port=result.port if result.port is not None else node.port,
            latencies_ms=latencies,
            last_error=None,
        )
    )


def eject(snapshot: Snapshot, name: str, reason: str) -> Snapshot:
    """Take a node out of rotation at once (real traffic saw it fail)."""
    node = snapshot.node(name)
    return snapshot.replace_node(
        replace(node, ejected=True, eject_reason=reason, good_probes=0, last_error=reason)
    )


def note_replay(snapshot: Snapshot, name: str, replay_lsn: int) -> Snapshot:
    """Remember a replay position seen by traffic (it only moves forward)."""
    node = snapshot.node(name)
    if node.replay_lsn is not None and node.replay_lsn >= replay_lsn:
        return snapshot
    return snapshot.replace_node(replace(node, replay_lsn=replay_lsn))
