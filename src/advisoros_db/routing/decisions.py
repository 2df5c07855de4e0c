"""Pure routing decisions over a Snapshot: which nodes may serve a session, in which order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from advisoros_db.routing.kinds import Kind, Role
from advisoros_db.routing.lsn import ConsistencyToken
from advisoros_db.routing.policies import ReadPolicy
from advisoros_db.routing.state import NodeState, Snapshot


def usable_for_reads(node: NodeState, max_lag_s: float) -> bool:
    """A replica that is healthy, really in recovery, and no staler than `max_lag_s`."""
    if node.role in (Role.PRIMARY, Role.DR) or not node.healthy:
        return False
    if node.probed and node.in_recovery is not True:
        return False  # promoted or unknown role: its data may have diverged from the primary
    return node.lag_s is None or node.lag_s <= max_lag_s


def caught_up(node: NodeState, token: ConsistencyToken | None) -> bool | None:
    """True/False when the snapshot knows; None when only asking the node can tell."""
    if token is None:
        return True
    if node.replay_lsn is None:
        return None
    return True if node.replay_lsn >= token.lsn else None


@dataclass(frozen=True)
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


_OWN_ROLE = {Kind.ANALYTICS: Role.ANALYTICS, Kind.BACKGROUND: Role.BACKGROUND}


def plan(
    snapshot: Snapshot,
    kind: Kind,
    *,
    policy: ReadPolicy,
    max_lag_s: float,
    outstanding: Mapping[str, int],
    token: ConsistencyToken | None = None,
) -> Plan:
    """Where a session of `kind` should run.

    Writes go to the primary only. `analytics`/`background` prefer their own node, then the read
    pool, then the primary; `read` uses the read pool, then the primary. DR replicas get nothing.
    """
    primary = writable_node(snapshot)
    if kind.writes:
        return Plan(kind=kind, replicas=(), primary=primary.name)
    weights = {n.name: n.config.weight for n in snapshot.nodes}
    own_role = _OWN_ROLE.get(kind)
    groups: list[tuple[NodeState, ...]] = []
    if own_role is not None:
        groups.append(snapshot.with_roles(own_role))
    groups.append(snapshot.with_roles(Role.READ))
    ordered: list[str] = []
    verified: set[str] = set()
    for group in groups:
        usable = [n for n in group if usable_for_reads(n, max_lag_s)]
        # The policy spreads load over every usable replica; those not yet known to have replayed
        # the token are checked on their own connection before the session's first statement.
        verified.update(n.name for n in usable if caught_up(n, token))
        ranked = policy.order([n.name for n in usable], weights, outstanding)
        ordered += [name for name in ranked if name not in ordered]
    reason = None if ordered else _why_no_replica(snapshot, max_lag_s)
    return Plan(
        kind=kind,
        replicas=tuple(ordered),
        primary=primary.name,
        token=token,
        reason=reason,
        verified=frozenset(verified),
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
    """The primary; or a DR replica seen promoted while the primary is down or in recovery."""
    primary = snapshot.primary
    if primary.healthy and primary.in_recovery is not True:
        return primary
    for node in snapshot.with_roles(Role.DR):
        if node.healthy and node.probed and node.in_recovery is False:
            return node
    return primary


# Leading keywords of statements that change data or schema: refused in read sessions before
# anything is sent (anything subtler is stopped by the read-only transaction itself).
WRITE_VERBS = frozenset(
    {"insert", "update", "delete", "merge", "truncate", "create", "alter", "drop", "grant"}
    | {"revoke", "copy", "call", "vacuum", "reindex", "cluster", "refresh", "lock", "comment"}
)


def write_verb(statement: str) -> str | None:
    """The statement's leading keyword when it obviously writes, else None."""
    words = statement.split(None, 1)
    verb = words[0].lower() if words else None
    return verb if verb in WRITE_VERBS else None


def write_refusal(snapshot: Snapshot) -> str | None:
    """Why writes must not go to the configured primary now, or None when they may."""
    primary = writable_node(snapshot)
    if primary.probed and primary.reachable and primary.in_recovery:
        return (
            f"node {primary.name!r} is in recovery (a standby), so it cannot take writes; "
            "point ADVISOROS_DATABASE_URL at the promoted primary"
        )
    return None


# -- failures seen by traffic ---------------------------------------------------------------

NODE_DOWN = "node_down"
CONFLICT = "recovery_conflict"

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
