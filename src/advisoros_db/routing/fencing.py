"""Which server may take writes: the newest timeline wins, a writable server behind it is fenced.

A promotion starts a new timeline. A server that still accepts writes on an older timeline than
another server of the same cluster has shown (an old primary restarted after its DR replica was
promoted) holds a history the cluster has left: writing there splits the data in two. Such a
server is *fenced*: no session goes to it, health says so, and only an operator action (rejoining
it as a standby of the new primary, `advisoros-db rejoin`) brings it back.

Everything here is derived from what the servers report (timeline, system identifier,
`pg_is_in_recovery()`) plus the newest timeline this router has seen, so a fresh router reaches
the same verdict as one that watched the failover, as long as a server on the newest timeline (or
a standby following it) answers. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from advisoros_db.routing.kinds import Role
from advisoros_db.routing.state import NodeState, Snapshot, record_primary_sample

# Among servers on the newest timeline, the configured primary first, then the DR replica, then
# a promoted read replica (say, by `advisoros-db failover`).
_PREFERENCE = {Role.PRIMARY: 0, Role.DR: 1}


@dataclass(frozen=True)
class Verdict:
    """`primary`: the node writes go to (None: none may take them, `refusal` says why).
    `fenced`: writable servers on an older timeline than the cluster's newest, with the reason."""

    primary: str | None
    fenced: dict[str, str] = field(default_factory=dict)
    newest_timeline: int | None = None
    refusal: str | None = None


def _writable(node: NodeState) -> bool:
    return node.probed and node.reachable and node.in_recovery is False


def judge(snapshot: Snapshot) -> Verdict:
    """The legitimate writable node of `snapshot`, and the fenced ones.

    Before any probe the configured primary is presumed writable. A node never seen writable
    is not a candidate; a candidate of another cluster (a different system identifier) is
    ignored. Two different servers writable on the newest timeline: the one this router saw
    promoted last takes the writes and the other is fenced (`state._note_promotions`); when the
    router's probes cannot order the promotions, no history can be preferred and writes are
    refused until an operator resolves it.
    """
    newest = snapshot.newest_timeline
    ours = [
        n
        for n in snapshot.nodes
        if _writable(n)
        and (snapshot.system_id is None or n.system_id in (None, snapshot.system_id))
    ]
    fenced = {
        n.name: (
            f"fenced: writable on timeline {n.timeline}, but timeline {newest} exists (a newer "
            "primary was promoted); no session goes here until it rejoins as a standby"
        )
        for n in ours
        if n.timeline is not None and newest is not None and n.timeline < newest
    }
    superseded = dict(snapshot.superseded)
    for n in ours:
        lost_to = superseded.get(n.server or "")
        if n.name not in fenced and n.timeline is not None and n.timeline == lost_to:
            fenced[n.name] = (
                f"fenced: writable on timeline {n.timeline}, but another server was promoted to "
                "that timeline after it (seen a standby by this router's probes while this one "
                "already took writes); no session goes here until it rejoins as a standby"
            )
    contenders = sorted(
        (n for n in ours if n.name not in fenced), key=lambda n: _PREFERENCE.get(n.role, 2)
    )
    # Servers that do not say who they are (no probe of this version yet) cannot be compared.
    servers = {n.server for n in contenders if n.server is not None}
    if len(servers) > 1:
        names = ", ".join(n.name for n in contenders)
        return Verdict(
            primary=None,
            fenced=fenced,
            newest_timeline=newest,
            refusal=(
                f"writes refused: {names} are different servers all writable on timeline "
                f"{newest}, and this router did not see which was promoted last; keep one "
                "and rejoin the others as standbys"
            ),
        )
    if contenders:
        best = contenders[0]
        if best.role in _PREFERENCE or snapshot.primary.name in fenced or _down(snapshot):
            return Verdict(primary=best.name, fenced=fenced, newest_timeline=newest)
    primary = snapshot.primary
    if primary.name in fenced:
        return Verdict(
            primary=None,
            fenced=fenced,
            newest_timeline=newest,
            refusal=f"writes refused: node {primary.name!r} is {fenced[primary.name]}",
        )
    return Verdict(primary=primary.name, fenced=fenced, newest_timeline=newest)


def _down(snapshot: Snapshot) -> bool:
    """The configured primary is unreachable or a standby (so a promoted node may take over)."""
    primary = snapshot.primary
    return primary.probed and (not primary.reachable or primary.in_recovery is True)


def sample_if_writable(snapshot: Snapshot, name: str, lsn: int | None, now: float) -> Snapshot:
    """Record `name`'s WAL position as the cluster's when it is the legitimate writable node."""
    if lsn is None or judge(snapshot).primary != name:
        return snapshot
    return record_primary_sample(snapshot, lsn, now, source=name)


def fence_changes(before: Verdict, after: Verdict) -> list[str]:
    """Log lines for nodes newly fenced and for a change of the writable node."""
    lines = [
        f"node {name!r} {reason}"
        for name, reason in after.fenced.items()
        if name not in before.fenced
    ]
    if after.primary != before.primary:
        lines.append(
            f"writes now go to {after.primary!r}"
            if after.primary is not None
            else (after.refusal or "no node may take writes")
        )
    return lines


__all__ = ["Verdict", "fence_changes", "judge", "sample_if_writable"]
