"""Audit-log month aggregates from rollups of closed months plus the live rows of the rest (the
pattern of TimescaleDB's real-time continuous aggregates). Revision 0018_write_cost_audit_rollups
installs the SQL; the worker's `audit_rollups` job closes months (`close_months`).

- `audit_log_rollups` (a tenant table: forced row-level security, SELECT for the application role)
  holds, per organization, UTC day, action and entity type, the count of a closed month's rows.
- `audit_rollup.months` says which months are closed, and by which partition: a month whose
  partition is no longer attached (archived, dropped, restored as a new table) counts as open.
- `audit_activity(lower, upper[, org])` answers from the rollups of closed months and aggregates
  the raw rows of every other month; as the caller, so row-level security applies to both.
- A month closes only after it has ended and under a SHARE lock on its partition, which waits
  for every transaction still writing into it. A row that arrives in a closed month later (a
  backfill by the owner, or a transaction that began before the month ended) reopens the month
  in the same transaction, through an AFTER INSERT trigger whose WHEN clause is false for every
  row of the current month: the answers stay exact, and the next run closes the month again.
  Both sides update the one row of `audit_rollup.state` first, so a reopen and a close of the
  same month serialize (a REPEATABLE READ writer that would miss the close fails to serialize).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, LiteralString

import psycopg
from psycopg import sql

from advisoros_db.partitioning import ddl
from advisoros_db.partitioning.archive import partitions_of
from advisoros_db.partitioning.layout import AUDIT_LOGS

TABLE = "audit_log_rollups"
SCHEMA = "audit_rollup"
FUNCTION = "audit_activity"
TRIGGER = "audit_rollup_reopen"

INSTALL_SQL: LiteralString = """
CREATE SCHEMA IF NOT EXISTS audit_rollup;
CREATE TABLE audit_rollup.months (
    month timestamptz PRIMARY KEY,
    partition oid NOT NULL,
    events bigint NOT NULL,
    closed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE audit_rollup.state (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    changed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
INSERT INTO audit_rollup.state DEFAULT VALUES;
REVOKE ALL ON ALL TABLES IN SCHEMA audit_rollup FROM PUBLIC;

-- Which months answer from rollups: closed, and their partition still attached to audit_logs.
CREATE FUNCTION audit_rollup_closed(m timestamptz) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT EXISTS (SELECT 1 FROM audit_rollup.months c
                   JOIN pg_inherits i ON i.inhrelid = c.partition
                   WHERE c.month = m AND i.inhparent = 'public.audit_logs'::regclass)
$fn$;
REVOKE ALL ON FUNCTION audit_rollup_closed(timestamptz) FROM PUBLIC;

CREATE FUNCTION audit_activity(lower timestamptz, upper timestamptz, org uuid DEFAULT NULL)
RETURNS TABLE (organization_id uuid, day date, action text, entity_type text, events bigint)
LANGUAGE plpgsql STABLE SET search_path = public, pg_temp AS $fn$
DECLARE
    m timestamptz;
    lo timestamptz;
    hi timestamptz;
BEGIN
    IF lower IS NULL OR upper IS NULL OR lower > upper
       OR lower <> date_trunc('day', lower, 'UTC') OR upper <> date_trunc('day', upper, 'UTC') THEN
        RAISE EXCEPTION 'audit_activity needs whole UTC days, lower <= upper (got % to %)',
            lower, upper
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'pass midnight UTC bounds, e.g. ''2026-11-01T00:00:00Z'' and ''2026-12-01T00:00:00Z''';
    END IF;
    m := date_trunc('month', lower, 'UTC');
    WHILE m < upper LOOP
        lo := greatest(lower, m);
        hi := least(upper, date_add(m, interval '1 month', 'UTC'));
        IF audit_rollup_closed(m) THEN
            RETURN QUERY SELECT r.organization_id, r.day, r.action, r.entity_type, r.events
                FROM audit_log_rollups r
                WHERE r.day >= (lo AT TIME ZONE 'UTC')::date AND r.day < (hi AT TIME ZONE 'UTC')::date
                  AND (org IS NULL OR r.organization_id = org);
        ELSE
            RETURN QUERY SELECT l.organization_id, (l.created_at AT TIME ZONE 'UTC')::date,
                    l.action, l.entity_type, count(*)
                FROM audit_logs l
                WHERE l.created_at >= lo AND l.created_at < hi
                  AND (org IS NULL OR l.organization_id = org)
                GROUP BY 1, 2, 3, 4;
        END IF;
        m := date_add(m, interval '1 month', 'UTC');
    END LOOP;
END $fn$;

-- A row stamped before the current month: if its month is closed, reopen it.
CREATE FUNCTION audit_rollup_reopen() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    m timestamptz := date_trunc('month', NEW.created_at, 'UTC');
BEGIN
    -- READ COMMITTED sees a close committed while this writer waited for the partition: a month
    -- not closed needs nothing (a backfill pays one lookup per row). Under a snapshot that may
    -- predate a close, the state row's update makes a concurrent close a serialization failure.
    IF current_setting('transaction_isolation') = 'read committed'
       AND NOT EXISTS (SELECT 1 FROM audit_rollup.months WHERE month = m) THEN
        RETURN NULL;
    END IF;
    UPDATE audit_rollup.state SET changed_at = clock_timestamp();
    DELETE FROM audit_rollup.months WHERE month = m;
    RETURN NULL;
END $fn$;
REVOKE ALL ON FUNCTION audit_rollup_reopen() FROM PUBLIC;
"""

# clock_timestamp(), not now(): a writer that waited for a month's close has a later clock.
_TRIGGER_SQL: LiteralString = """
CREATE TRIGGER audit_rollup_reopen AFTER INSERT ON public.{t} FOR EACH ROW
WHEN (NEW.created_at < date_trunc('month', clock_timestamp(), 'UTC'))
EXECUTE FUNCTION audit_rollup_reopen()
"""

# Revision 0018's downgrade, before it drops the rollup table.
UNINSTALL_SQL: LiteralString = """
DROP TRIGGER IF EXISTS audit_rollup_reopen ON audit_logs;
DROP FUNCTION IF EXISTS audit_rollup_reopen();
DROP FUNCTION IF EXISTS audit_activity(timestamptz, timestamptz, uuid);
DROP FUNCTION IF EXISTS audit_rollup_closed(timestamptz);
DROP SCHEMA IF EXISTS audit_rollup CASCADE;
"""


def install_statements(app_role: str) -> list[str]:
    """The internal tables, the read function and the reopen trigger, as SQL text (a revision runs
    them, online or printed by `migrate --sql`), after the rollup table exists."""
    role = '"' + app_role.replace('"', '""') + '"'
    return [
        INSTALL_SQL,
        f"GRANT EXECUTE ON FUNCTION audit_rollup_closed(timestamptz) TO {role}",
        _TRIGGER_SQL.format(t=AUDIT_LOGS.table),
    ]


@dataclass(frozen=True)
class Closed:
    month: dt.datetime
    partition: str
    events: int


_MONTH_SQL: LiteralString = """
SELECT c.partition = %(part)s::regclass
  FROM audit_rollup.months c WHERE c.month = %(month)s
"""

_ROLL_UP: LiteralString = """
WITH added AS (
    INSERT INTO audit_log_rollups (organization_id, day, action, entity_type, events)
    SELECT organization_id, (created_at AT TIME ZONE 'UTC')::date, action, entity_type, count(*)
      FROM {part} GROUP BY 1, 2, 3, 4
    RETURNING events
)
SELECT coalesce(sum(events), 0) FROM added
"""
# How long a close waits for writers of the month; a month it could not lock waits for next run.
LOCK_TIMEOUT = "5s"


def _next_month(month: dt.datetime) -> dt.datetime:
    m = month.astimezone(dt.UTC)
    return dt.datetime(m.year + m.month // 12, m.month % 12 + 1, 1, tzinfo=dt.UTC)


def _whole_month(lower: object, upper: object) -> bool:
    if not isinstance(lower, dt.datetime) or not isinstance(upper, dt.datetime):
        return False
    lo = lower.astimezone(dt.UTC)
    return lo == dt.datetime(lo.year, lo.month, 1, tzinfo=dt.UTC) and upper == _next_month(lo)


def close_months(conn: psycopg.Connection[Any]) -> list[Closed]:
    """Roll up every ended month of audit_logs that has its own partition and is not closed yet
    (or was closed under a partition since replaced), one transaction each; forget the rollups of
    months whose partition is gone. Run as the owner, on an autocommit connection."""
    if not ddl.exists(conn, f"{SCHEMA}.months") or not ddl.is_partitioned(conn, AUDIT_LOGS.table):
        return []
    closed: list[Closed] = []
    with conn.transaction():
        conn.execute("UPDATE audit_rollup.state SET changed_at = clock_timestamp()")
        gone = conn.execute(
            "DELETE FROM audit_rollup.months c WHERE NOT EXISTS (SELECT 1 FROM pg_inherits i"
            " WHERE i.inhrelid = c.partition AND i.inhparent = 'audit_logs'::regclass)"
            " RETURNING month"
        ).fetchall()
        for (month,) in gone:
            _forget(conn, month)
    for part in partitions_of(conn, AUDIT_LOGS):
        if not _whole_month(part.lower, part.upper):
            continue
        assert isinstance(part.lower, dt.datetime) and isinstance(part.upper, dt.datetime)
        try:
            events = _close(conn, part.name, part.lower, part.upper)
        except psycopg.errors.LockNotAvailable:
            continue  # a writer of the month is still open: the next run closes it
        if events is not None:
            closed.append(Closed(part.lower, part.name, events))
    return closed


def _close(
    conn: psycopg.Connection[Any], part: str, lower: dt.datetime, upper: dt.datetime
) -> int | None:
    """Roll up one month's partition; None if it is closed already or has not ended."""
    with conn.transaction():
        state = conn.execute(_MONTH_SQL, {"part": part, "month": lower}).fetchone()
        if state == (True,):
            return None
        conn.execute("SELECT set_config('lock_timeout', %s, true)", (LOCK_TIMEOUT,))
        # Waits for every transaction that has written into the month; a later writer finds the
        # month closed and reopens it.
        conn.execute(sql.SQL("LOCK TABLE {} IN SHARE MODE").format(sql.Identifier(part)))
        conn.execute("UPDATE audit_rollup.state SET changed_at = clock_timestamp()")
        ended = conn.execute("SELECT clock_timestamp() >= %s", (upper,)).fetchone()
        if ended != (True,):
            return None
        _forget(conn, lower)
        row = conn.execute(sql.SQL(_ROLL_UP).format(part=sql.Identifier(part))).fetchone()
        events = int(row[0]) if row else 0
        conn.execute(
            "INSERT INTO audit_rollup.months (month, partition, events)"
            " VALUES (%s, %s::regclass, %s) ON CONFLICT (month) DO UPDATE"
            " SET partition = EXCLUDED.partition, events = EXCLUDED.events,"
            " closed_at = clock_timestamp()",
            (lower, part, events),
        )
        return events


def _forget(conn: psycopg.Connection[Any], month: dt.datetime) -> None:
    """Delete a month's rollup rows (every organization's: run as the owner)."""
    lo = month.astimezone(dt.UTC)
    conn.execute(
        "DELETE FROM audit_log_rollups WHERE day >= %s AND day < %s",
        (lo.date(), _next_month(lo).date()),
    )
