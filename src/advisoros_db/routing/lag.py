"""Replica staleness in seconds from WAL positions and a short history of primary samples."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

UNKNOWN = math.inf
"""Staleness of a replica behind every sample with no replayed transaction to date it (a replica
restarted behind, before it replays a commit): unbounded until the history brackets its position."""


@dataclass(frozen=True)
class WalSample:
    """The primary's WAL position at a moment (monotonic seconds)."""

    at: float
    lsn: int


def staleness(
    history: Sequence[WalSample],
    replay_lsn: int | None,
    *,
    now: float,
    replay_age_s: float | None,
) -> float | None:
    """How old the oldest change the replica has not replayed is, in seconds.

    0 when the replica has replayed everything the primary had written at its newest sample, so an
    idle primary reports no lag (unlike `now() - pg_last_xact_replay_timestamp()`). Otherwise the
    moment the primary passed `replay_lsn` is interpolated between the samples around it. With no
    sample at or below `replay_lsn` (history too short), the age of the last replayed transaction
    is the best bound available, and with none `UNKNOWN`. None when the replica reported no
    position.
    """
    if replay_lsn is None:
        return None
    if not history:
        return 0.0 if replay_age_s is None else max(0.0, replay_age_s)
    newest = history[-1]
    if replay_lsn >= newest.lsn:
        return 0.0
    before: WalSample | None = None
    after = newest
    for sample in reversed(history):
        if sample.lsn <= replay_lsn:
            before = sample
            break
        after = sample
    if before is None:
        # Behind even the oldest sample: at least that old, and the last replayed transaction's
        # age is the only other evidence (a one-shot probe lands here). Without it the replica
        # may be any age behind: the oldest sample's age is only a floor, not an estimate.
        if replay_age_s is None:
            return UNKNOWN
        return max(0.0, now - history[0].at, replay_age_s)
    span = after.lsn - before.lsn
    fraction = (replay_lsn - before.lsn) / span if span > 0 else 1.0
    passed_at = before.at + fraction * (after.at - before.at)
    return max(0.0, now - passed_at)


def trim(history: Sequence[WalSample], *, now: float, keep_s: float) -> tuple[WalSample, ...]:
    """Drop samples older than `keep_s`, but keep the newest older one as an anchor."""
    recent = [s for s in history if now - s.at <= keep_s]
    older = [s for s in history if now - s.at > keep_s]
    anchor = older[-1:] if older else []
    return tuple(anchor + recent)


def dated(history: Sequence[WalSample], replay_lsn: int) -> float | None:
    """The newest moment the writable node is known to have been at or below `replay_lsn`: a
    replica that replayed `replay_lsn` misses nothing committed before it. None when every sample
    is beyond `replay_lsn` (nothing proves how old its data is)."""
    for sample in reversed(history):
        if sample.lsn <= replay_lsn:
            return sample.at
    return None


def read_staleness_bound(
    history: Sequence[WalSample], replay_lsn: int | None, *, now: float
) -> float:
    """An upper bound on how stale a read is on a replica that has replayed `replay_lsn` (unlike
    `staleness()`, never an estimate): `UNKNOWN` when nothing dates the position."""
    since = None if replay_lsn is None else dated(history, replay_lsn)
    return UNKNOWN if since is None else max(0.0, now - since)
