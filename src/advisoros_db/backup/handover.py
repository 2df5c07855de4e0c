"""Handing the WAL archive over to a standby about to be promoted, with no gap.

`failover` calls `reserve` on the standby before it fences the primary: the archive's slot is
created on the standby and placed where the archive's WAL ends (the start of the newest segment
it holds only in part). A slot on a standby keeps the standby's WAL from that point on, and it
survives promotion. Re-pointed at the new primary with nothing in `wal/incoming`, pg_receivewal
starts where its slot is (it reads the slot's position and timeline, PostgreSQL 15+), streams the
old timeline up to the switch and follows onto the new one: every segment the new primary writes
before the streamer reaches it stays on the server until the archive has it. Without the slot,
the slot created on the new primary would start at its newest checkpoint, which the checkpoint
PostgreSQL runs after a promotion moves past the WAL written meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from advisoros_db.backup import walfiles
from advisoros_db.backup.repository import Repository
from advisoros_db.backup.wal import SLOT


@dataclass(frozen=True)
class Reservation:
    """Where the standby's archive slot holds WAL from, and where the archive's WAL ends."""

    slot: str
    held_from: str
    archive_end: str | None

    @property
    def gap(self) -> bool:
        """True when the standby no longer had the WAL from where the archive ends (the archive
        was already behind before the failover): take a full backup on the new primary."""
        return self.archive_end is not None and walfiles.lsn_int(self.held_from) > walfiles.lsn_int(
            self.archive_end
        )


def resume_point(repo: Repository) -> int | None:
    """The position the archive must resume from: the start of its newest segment held only in
    part (being streamed, or sealed when a stream stopped), else the end of its newest segment.
    Only the newest timeline counts: an older one may hold WAL past its switch that no server
    continued (commits an old primary made that its replicas never received)."""
    names = repo.archived_wal()
    if repo.incoming.exists():
        names += [p.name for p in repo.incoming.glob("*.partial")]
    segments = [s for s in map(walfiles.parse, names) if s is not None]
    if not segments:
        return None
    timeline = max(s.timeline for s in segments)
    newest = max(
        (s for s in segments if s.timeline == timeline), key=lambda s: (s.number, not s.partial)
    )
    return newest.start if newest.partial else newest.end


def reserve(repo: Repository, standby_url: str) -> Reservation:
    """Create the archive's slot on the standby at `standby_url`, holding WAL from where the
    archive ends (or, when the standby has not replayed that far, from its replay position)."""
    wanted = resume_point(repo)
    with psycopg.connect(standby_url, autocommit=True, connect_timeout=10) as conn:
        # A slot left from an earlier failover may stand past where the archive ends now, and
        # a slot cannot move back: start afresh (a standby's archive slot feeds no one).
        conn.execute(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
            " WHERE slot_name = %s AND NOT active",
            (SLOT,),
        )
        # On a standby a physical slot reserves WAL from its newest restartpoint.
        conn.execute("SELECT pg_create_physical_replication_slot(%s, true)", (SLOT,))
        if wanted is not None:
            # Clamped by the server to what the standby has replayed.
            conn.execute(
                "SELECT pg_replication_slot_advance(%s, %s::pg_lsn) FROM pg_replication_slots"
                " WHERE slot_name = %s AND restart_lsn < %s::pg_lsn",
                (SLOT, walfiles.lsn_text(wanted), SLOT, walfiles.lsn_text(wanted)),
            )
        row = conn.execute(
            "SELECT restart_lsn::text FROM pg_replication_slots WHERE slot_name = %s", (SLOT,)
        ).fetchone()
    assert row is not None and row[0] is not None
    return Reservation(SLOT, str(row[0]), walfiles.lsn_text(wanted) if wanted else None)
