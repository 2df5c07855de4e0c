"""One health probe of one node over a plain psycopg connection, with short timeouts."""

from __future__ import annotations

import contextlib
import time
from typing import Any, LiteralString

import psycopg
from psycopg import sql

from advisoros_db import pooler
from advisoros_db.routing.lsn import parse_lsn
from advisoros_db.routing.state import ProbeResult

PROBE_SQL: LiteralString = """
SELECT pg_is_in_recovery(),
       CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END,
       pg_last_wal_replay_lsn()::text,
       EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8,
       CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() END,
       current_setting('port')::int,
       -- The timeline: a writable server's from its current WAL file name (exact at once after a
       -- promotion), a standby's from its control file (its last restartpoint or recovery end).
       CASE WHEN pg_is_in_recovery()
            THEN greatest((pg_control_checkpoint()).timeline_id,
                          (pg_control_recovery()).min_recovery_end_timeline)::text
            ELSE substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) END,
       (pg_control_system()).system_identifier::text,
       coalesce(host(inet_server_addr()), 'local')
"""


class Prober:
    """Probes one node, keeping its connection between probes (reconnecting after a failure)."""

    def __init__(self, url: str, *, timeout_s: float, pgbouncer: str | None = None) -> None:
        self._url = url
        self._timeout_s = timeout_s
        self._pgbouncer = pgbouncer
        self._conn: psycopg.Connection[Any] | None = None
        # BEGIN, the timeout, the probe and COMMIT in one simple-query message: one round trip,
        # and through PgBouncer (which refuses a startup `options`) one server connection, with
        # nothing left on it afterwards.
        self._sql = sql.SQL("BEGIN; SET LOCAL statement_timeout = {}; {}; COMMIT").format(
            sql.Literal(f"{max(1, int(timeout_s * 1000))}ms"), sql.SQL(PROBE_SQL)
        )

    def _connect(self) -> psycopg.Connection[Any]:
        return pooler.connect(
            self._url,
            pgbouncer=self._pgbouncer,
            autocommit=True,
            # libpq's connect_timeout is whole seconds with a floor of 2.
            connect_timeout=max(2, int(self._timeout_s + 0.999)),
            application_name="advisoros-router-probe",
        )

    def _run(self, conn: psycopg.Connection[Any]) -> tuple[Any, ...] | None:
        cursor = conn.execute(self._sql, prepare=False)
        while cursor.description is None:  # BEGIN and SET return no rows
            if not cursor.nextset():
                return None
        row: tuple[Any, ...] | None = cursor.fetchone()
        return row

    def probe(self) -> ProbeResult:
        sent_at = time.monotonic()
        started = time.perf_counter()
        try:
            if self._conn is None or self._conn.closed:
                self._conn = self._connect()
            row = self._run(self._conn)
        except psycopg.Error as exc:
            self.close()
            return ProbeResult(reachable=False, error=f"{type(exc).__name__}: {exc}".strip())
        latency_ms = (time.perf_counter() - started) * 1000
        if row is None:
            return ProbeResult(reachable=False, error="health probe returned no row")
        in_recovery, current, replay, replay_age, paused, port, timeline, system_id, addr = row
        return ProbeResult(
            reachable=True,
            latency_ms=latency_ms,
            in_recovery=bool(in_recovery),
            current_lsn=parse_lsn(current) if current else None,
            replay_lsn=parse_lsn(replay) if replay else None,
            replay_age_s=float(replay_age) if replay_age is not None else None,
            replay_paused=paused,
            port=int(port),
            timeline=int(timeline, 10 if in_recovery else 16) if timeline else None,
            system_id=system_id,
            server=f"{system_id}@{addr}:{port}",
            sent_at=sent_at,
        )

    def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            with contextlib.suppress(psycopg.Error):
                conn.close()
