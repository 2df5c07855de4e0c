"""Pure routing decisions over a Snapshot: which nodes may serve a session, in which order."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache

from advisoros_db.routing import fencing
from advisoros_db.routing.kinds import Kind, Role
from advisoros_db.routing.lag import dated
from advisoros_db.routing.lsn import ConsistencyToken
from advisoros_db.routing.policies import Group, ReadPolicy
from advisoros_db.routing.state import NodeState, Snapshot


def usable_for_reads(node: NodeState, max_lag_s: float, newest_timeline: int | None = None) -> bool:
    """A replica that is healthy, really in recovery, on the cluster's newest timeline (when
    known), and no staler than `max_lag_s`."""
    if node.role in (Role.PRIMARY, Role.DR) or not node.healthy:
        return False
    if node.probed and node.in_recovery is not True:
        return False  # promoted or unknown role: its data may have diverged from the primary
    if (
        newest_timeline is not None
        and node.timeline is not None
        and node.timeline < newest_timeline
    ):
        return False  # following a history the cluster has left (a fenced old primary)
    return node.lag_s is None or node.lag_s <= max_lag_s


@dataclass(frozen=True, slots=True)
class Plan:
    """Nodes to try in order. `replicas` need a caught-up check when `token` is set; the primary
    (last, when present) always satisfies a token. `reason` says why reads fell back, if they did."""

    kind: Kind
    replicas: tuple[str, ...]
    primary: str | None
    token: ConsistencyToken | None = None
    reason: str | None = None
    verified: frozenset[str] = frozenset()

    @property
    def order(self) -> tuple[str, ...]:
        return (*self.replicas, *((self.primary,) if self.primary else ()))

    @property
    def first(self) -> str:
        """The node a session starts on. Raises LookupError when the plan has none."""
        if self.replicas:
            return self.replicas[0]
        if self.primary is None:
            raise LookupError("no node left to try")
        return self.primary


_OWN_ROLE = {Kind.ANALYTICS: Role.ANALYTICS, Kind.BACKGROUND: Role.BACKGROUND}
# The replica roles each kind may read from, most preferred first (writes: none).
_ROLES: dict[Kind, tuple[Role, ...]] = {
    kind: () if kind.writes else (*((_OWN_ROLE[kind],) if kind in _OWN_ROLE else ()), Role.READ)
    for kind in Kind
}

PLAN_MEMO = 64
"""Token-free plans kept per kind and snapshot (a policy yields few distinct orders)."""


@dataclass(frozen=True, slots=True)
class KindRoute:
    """Where sessions of one kind may run under one snapshot; derived once per snapshot.

    `groups`: the usable replicas by preference (the kind's own role, then the read pool), each
    prepared for the policy; empty for writes, and for reads when no replica is usable (then
    `reason` says why they fall back to the primary).
    """

    kind: Kind
    groups: tuple[Group, ...]
    primary: str | None
    reason: str | None
    # A memo of token-free plans by replica order; filled by choose(), never part of equality.
    plans: dict[tuple[str, ...], Plan] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Routes:
    """What one snapshot decides for every kind, and each node's known replay position. The core
    swaps it whole with the snapshot, so a plan never mixes one snapshot's routes with another's
    state."""

    snapshot: Snapshot
    kinds: Mapping[Kind, KindRoute]
    write_refusal: str | None
    replay: Mapping[str, int | None]
    verdict: fencing.Verdict
    # Per replica, the monotonic moment until which its known replay position proves a read
    # there is no staler than the bound (`fresh_until()`); past it, a read checks in-band.
    fresh: Mapping[str, float]
    max_lag_s: float
    # Nodes known down (unreachable at the last probe, or traffic failed to reach them since they
    # were last in rotation): a read does not
    # wait on them for a connection but moves on at once (`RoutingCore.known_down`).
    down: frozenset[str] = frozenset()


def routes(snapshot: Snapshot, max_lag_s: float) -> Routes:
    """Everything about `snapshot` that does not change from one session to the next."""
    verdict = fencing.judge(snapshot)
    primary = verdict.primary
    usable: dict[Role, list[str]] = {}
    for node in snapshot.nodes:
        if usable_for_reads(node, max_lag_s, newest_timeline(snapshot, node)):
            usable.setdefault(node.role, []).append(node.name)
    weights = {n.name: n.config.weight for n in snapshot.nodes}
    groups = {role: Group.of(names, weights) for role, names in usable.items()}
    reason = None if Role.READ in groups else _why_no_replica(snapshot, max_lag_s)
    kinds: dict[Kind, KindRoute] = {}
    for kind, roles in _ROLES.items():
        mine = tuple(groups[r] for r in roles if r in groups)
        kinds[kind] = KindRoute(
            kind=kind,
            groups=mine,
            primary=primary,
            reason=None if kind.writes or mine else reason,
        )
    return Routes(
        snapshot=snapshot,
        kinds=kinds,
        write_refusal=_write_refusal(snapshot, verdict),
        replay=_replay(snapshot),
        verdict=verdict,
        fresh=fresh_until(snapshot, max_lag_s, verdict),
        max_lag_s=max_lag_s,
        down=frozenset(
            n.name for n in snapshot.nodes if not n.reachable or (n.ejected and n.failed)
        ),
    )


def newest_timeline(snapshot: Snapshot, node: NodeState) -> int | None:
    """The cluster's newest timeline when `node` belongs to the cluster, for `usable_for_reads`."""
    same = node.system_id is not None and node.system_id == snapshot.system_id
    return snapshot.newest_timeline if same else None


def replayed(before: Routes, snapshot: Snapshot) -> Routes:
    """`before` carried over to `snapshot`, which differs from `before.snapshot` in replay
    positions only (`state.note_replay`): only the replay positions and freshness depend on
    those."""
    return replace(
        before,
        snapshot=snapshot,
        replay=_replay(snapshot),
        fresh=fresh_until(snapshot, before.max_lag_s, before.verdict),
    )


def _replay(snapshot: Snapshot) -> dict[str, int | None]:
    return {n.name: n.replay_lsn for n in snapshot.nodes}


def fresh_until(snapshot: Snapshot, max_lag_s: float, verdict: fencing.Verdict) -> dict[str, float]:
    """Per replica: until when (monotonic seconds) its known replay position bounds a read's
    staleness by `max_lag_s`.

    A replica that has replayed what the writable node had written at sample time `t` misses
    nothing older than `t`, whatever happens next, so a read there before `t + max_lag_s` is
    within the bound. With the writable node down nothing newer exists to miss: a replica that
    replayed its last sample (any replica, when it was never seen up) stays fresh until a
    writable node is back.
    """
    history = snapshot.wal_history
    writer = snapshot.node(verdict.primary) if verdict.primary is not None else None
    writer_down = writer is None or not writer.reachable
    out: dict[str, float] = {}
    for node in snapshot.nodes:
        if node.replay_lsn is None or node.in_recovery is not True:
            continue
        if writer_down and (not history or node.replay_lsn >= history[-1].lsn):
            out[node.name] = math.inf
            continue
        since = dated(history, node.replay_lsn)
        out[node.name] = -math.inf if since is None else since + max_lag_s
    return out


def choose(
    routes: Routes,
    kind: Kind,
    *,
    policy: ReadPolicy,
    outstanding: Mapping[str, int],
    token: ConsistencyToken | None = None,
) -> Plan:
    """One session's plan: the policy ranks each of the kind's groups; only a token adds work
    (which replicas are known to have replayed it)."""
    route = routes.kinds[kind]
    groups = route.groups
    if not groups:
        replicas: tuple[str, ...] = ()
    elif len(groups) == 1:
        replicas = policy.rank(groups[0], outstanding)
    else:
        replicas = tuple(name for group in groups for name in policy.rank(group, outstanding))
    if token is None or kind.writes:
        memo = route.plans
        plan = memo.get(replicas)
        if plan is None:
            plan = Plan(kind=kind, replicas=replicas, primary=route.primary, reason=route.reason)
            if len(memo) < PLAN_MEMO:
                memo[replicas] = plan
        return plan
    lsn, replay = token.lsn, routes.replay
    return Plan(
        kind=kind,
        replicas=replicas,
        primary=route.primary,
        token=token,
        reason=route.reason,
        verified=frozenset(
            n for n in replicas if (known := replay[n]) is not None and known >= lsn
        ),
    )


def plan(
    snapshot: Snapshot,
    kind: Kind,
    *,
    policy: ReadPolicy,
    max_lag_s: float,
    outstanding: Mapping[str, int],
    token: ConsistencyToken | None = None,
) -> Plan:
    """Where a session of `kind` should run (`routes()` then `choose()` in one call).

    Writes go to the primary only. `analytics`/`background` prefer their own node, then the read
    pool, then the primary; `read` uses the read pool, then the primary. DR replicas get nothing.
    The policy spreads load over every usable replica; those not yet known to have replayed the
    token are checked on their own connection before the session's first statement.
    """
    return choose(
        routes(snapshot, max_lag_s), kind, policy=policy, outstanding=outstanding, token=token
    )


def _why_no_replica(snapshot: Snapshot, max_lag_s: float) -> str:
    replicas = [n for n in snapshot.nodes if n.role not in (Role.PRIMARY, Role.DR)]
    if not replicas:
        return "no_replica_configured"
    if all(not n.healthy for n in replicas):
        return "replicas_unhealthy"
    if any(n.probed and n.in_recovery is False for n in replicas if n.healthy):
        return "replica_promoted"
    return "replicas_stale"


def writable_node(snapshot: Snapshot) -> NodeState:
    """The node writes go to (`fencing.judge`); the configured primary when none may take them
    (then `write_refusal()` says why)."""
    name = fencing.judge(snapshot).primary
    return snapshot.primary if name is None else snapshot.node(name)


# Leading keywords of statements that change data or schema: refused in read sessions before
# anything is sent (anything subtler is stopped by the read-only transaction itself).
WRITE_VERBS = frozenset(
    {"insert", "update", "delete", "merge", "truncate", "create", "alter", "drop", "grant"}
    | {"revoke", "copy", "call", "vacuum", "reindex", "cluster", "refresh", "lock", "comment"}
)


@lru_cache(maxsize=1024)
def write_verb(statement: str) -> str | None:
    """The statement's leading keyword when it obviously writes, else None (cached: the same
    statement text comes back on every call)."""
    words = statement.split(None, 1)
    verb = words[0].lower() if words else None
    return verb if verb in WRITE_VERBS else None


def write_refusal(snapshot: Snapshot) -> str | None:
    """Why writes must not go to the writable node now, or None when they may."""
    return _write_refusal(snapshot, fencing.judge(snapshot))


def _write_refusal(snapshot: Snapshot, verdict: fencing.Verdict) -> str | None:
    if verdict.primary is None:
        return verdict.refusal
    primary = snapshot.node(verdict.primary)
    if primary.probed and primary.reachable and primary.in_recovery:
        return (
            f"node {primary.name!r} is in recovery (a standby), so it cannot take writes; "
            "point ADVISOROS_DATABASE_URL at the promoted primary"
        )
    return None


# -- failures seen by traffic ---------------------------------------------------------------

NODE_DOWN = "node_down"
CONFLICT = "recovery_conflict"
STALE = "replica_stale"
"""Not a failure of the node: its in-band check showed it past the staleness bound, or promoted."""
KNOWN_DOWN = "node_known_down"
"""Not tried: the snapshot already knew the node was down (`RoutingCore.known_down`)."""

_NODE_DOWN_STATES = {"57P01", "57P02", "57P03", "53300"}  # shutdown, crash, starting, too many


def classify(sqlstate: str | None, *, connection_lost: bool, on_replica: bool) -> str | None:
    """Whether a failed read may be retried elsewhere, and whether the node should be ejected.

    NODE_DOWN: the node died or refused us (eject it). CONFLICT: a standby cancelled the query to
    replay WAL (retry elsewhere; the node itself is fine). None: a real error in the query.
    """
    if connection_lost or (sqlstate is not None and sqlstate.startswith("08")):
        return NODE_DOWN
    if sqlstate in _NODE_DOWN_STATES:
        return NODE_DOWN
    if on_replica and sqlstate in ("40001", "40P01"):
        return CONFLICT
    return None


@dataclass(frozen=True)
class Attempt:
    """The state of one session's search for a node."""

    tried: frozenset[str] = frozenset()
    behind: frozenset[str] = frozenset()
    waited_s: float = 0.0


FIRST_ATTEMPT = Attempt()
"""Where every search starts (immutable, so shared)."""


def next_node(
    candidate_plan: Plan, attempt: Attempt, *, wait_budget_s: float, poll_s: float
) -> tuple[str, float]:
    """The next node to try and how long to sleep first.

    Replicas not yet tried come first. Replicas that were only behind the token are retried after a
    short sleep while the wait budget lasts; then the primary. Raises LookupError when nothing is
    left.
    """
    for name in candidate_plan.replicas:
        if name not in attempt.tried:
            return name, 0.0
    waiting = [n for n in candidate_plan.replicas if n in attempt.behind]
    if waiting and attempt.waited_s + poll_s <= wait_budget_s:
        turn = round(attempt.waited_s / poll_s) if poll_s > 0 else 0
        return waiting[turn % len(waiting)], poll_s
    if candidate_plan.primary is not None and candidate_plan.primary not in attempt.tried:
        return candidate_plan.primary, 0.0
    raise LookupError("no node left to try")
