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
    timeline: int | None = None
    system_id: str | None = None
    server: str | None = None
    error: str | None = None
    sent_at: float | None = None
    """Monotonic time the probe was sent: the server was in the reported role at some moment
    after it (what `fencing` needs to order two promotions)."""


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
    # Which history the server is on, and which server it is (system identifier, address, port):
    # what fencing compares (`fencing.judge`).
    timeline: int | None = None
    system_id: str | None = None
    server: str | None = None
    # Bounds on when this server was promoted, from this router's own probes (monotonic clock):
    # it was a standby at `standby_at` (the send time of the last probe that found it one), and
    # writable by `writable_since` (the first probe of its current writable stretch; None while
    # a standby, and again after it was unreachable, since it may have been promoted anew).
    standby_at: float | None = None
    writable_since: float | None = None
    # Ejected because traffic could not reach it (not, say, a replica found promoted): reads
    # do not wait on it for a connection until it is back in rotation.
    failed: bool = False

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
    # The node `wal_history` was sampled from (the writable node when sampled); a new writable
    # node starts a new history, since positions on another timeline do not compare.
    wal_source: str | None = None
    # Sticky evidence, never forgotten by this snapshot's successors: the newest timeline seen on
    # any server of the cluster (`system_id`, the configured primary's, else the first seen), and
    # servers seen writable on a timeline another server was promoted to after them
    # (`(server, timeline)`: fenced while on that timeline; `fencing.judge`).
    newest_timeline: int | None = None
    system_id: str | None = None
    superseded: tuple[tuple[str, int], ...] = ()

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


def record_primary_sample(
    snapshot: Snapshot, lsn: int, now: float, *, source: str | None = None
) -> Snapshot:
    """Add a sample of the writable node's WAL position; a sample from another node than the
    history's starts a new history (positions on another timeline do not compare)."""
    history = snapshot.wal_history
    if source is not None and source != snapshot.wal_source:
        history = ()
    history = (*history, WalSample(at=now, lsn=lsn))
    return replace(
        snapshot,
        wal_history=trim(history, now=now, keep_s=WAL_HISTORY_S),
        wal_source=source if source is not None else snapshot.wal_source,
    )


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
                writable_since=None,
            )
        )
    good = node.good_probes + 1
    ejected = node.ejected and good < return_after
    lag: float | None = None
    if result.in_recovery:
        lag = staleness(
            snapshot.wal_history, result.replay_lsn, now=now, replay_age_s=result.replay_age_s
        )
    elif result.in_recovery is False:
        lag = 0.0
    standby_at, writable_since = node.standby_at, node.writable_since
    if result.server != node.server:  # another server answers at this address: start over
        standby_at = writable_since = None
    if result.in_recovery:
        standby_at = result.sent_at if result.sent_at is not None else standby_at
        writable_since = None
    elif result.in_recovery is False and writable_since is None:
        writable_since = now
    latencies = node.latencies_ms
    if result.latency_ms is not None:
        latencies = (*latencies, result.latency_ms)[-LATENCY_WINDOW:]
    snapshot = snapshot.replace_node(
        replace(
            node,
            probed=True,
            reachable=True,
            ejected=ejected,
            eject_reason=node.eject_reason if ejected else None,
            failed=node.failed and ejected,
            good_probes=good,
            in_recovery=result.in_recovery,
            replay_lsn=result.replay_lsn if result.in_recovery else result.current_lsn,
            replay_paused=result.replay_paused,
            lag_s=lag,
            port=result.port if result.port is not None else node.port,
            latencies_ms=latencies,
            last_error=None,
            timeline=result.timeline,
            system_id=result.system_id,
            server=result.server,
            standby_at=standby_at,
            writable_since=writable_since,
        )
    )
    return _note_promotions(_note_timeline(snapshot, snapshot.node(name)))


def _note_timeline(snapshot: Snapshot, node: NodeState) -> Snapshot:
    """Keep the cluster's identity and the newest timeline any of its servers has shown.

    The configured primary names the cluster (before it answers, the first server seen does);
    timelines of servers of another cluster never count.
    """
    if node.system_id is not None and node.system_id != snapshot.system_id:
        if snapshot.system_id is None:
            snapshot = replace(snapshot, system_id=node.system_id)
        elif node.role is Role.PRIMARY:
            snapshot = replace(snapshot, system_id=node.system_id, newest_timeline=None)
    if node.timeline is None or node.system_id != snapshot.system_id:
        return snapshot
    if snapshot.newest_timeline is None or node.timeline > snapshot.newest_timeline:
        snapshot = replace(snapshot, newest_timeline=node.timeline)
    return snapshot


def _note_promotions(snapshot: Snapshot) -> Snapshot:
    """Remember servers that another server of the cluster was provably promoted after, on the
    same timeline (two standbys of one history promoted one after the other both take the next
    timeline number).

    Provably: the later one was still a standby after the earlier one was already writable, as
    seen by this router's own probes on one monotonic clock. No server clock is compared, so the
    order holds whatever their clocks say; when the probes cannot order the two (a fresh router,
    or both promoted between the same two probes), nothing is remembered and `fencing.judge`
    refuses writes to both.
    """
    writable = [
        n
        for n in snapshot.nodes
        if n.reachable and n.in_recovery is False and n.system_id == snapshot.system_id
    ]
    superseded = dict.fromkeys(snapshot.superseded)
    for later in writable:
        for earlier in writable:
            if (
                earlier.server is not None
                and earlier.timeline is not None
                and earlier.server != later.server
                and earlier.timeline == later.timeline
                and earlier.writable_since is not None
                and later.standby_at is not None
                and earlier.writable_since < later.standby_at
            ):
                superseded[(earlier.server, earlier.timeline)] = None
    if len(superseded) == len(snapshot.superseded):
        return snapshot
    return replace(snapshot, superseded=tuple(superseded))


def eject(snapshot: Snapshot, name: str, reason: str, *, failed: bool = True) -> Snapshot:
    """Take a node out of rotation at once (real traffic saw it fail, or `failed=False`: saw it
    is no replica any more)."""
    node = snapshot.node(name)
    return snapshot.replace_node(
        replace(
            node,
            ejected=True,
            eject_reason=reason,
            good_probes=0,
            last_error=reason,
            failed=failed or node.failed,
        )
    )


def note_replay(snapshot: Snapshot, name: str, replay_lsn: int) -> Snapshot:
    """Remember a replay position seen by traffic (it only moves forward)."""
    node = snapshot.node(name)
    if node.replay_lsn is not None and node.replay_lsn >= replay_lsn:
        return snapshot
    return snapshot.replace_node(replace(node, replay_lsn=replay_lsn))
