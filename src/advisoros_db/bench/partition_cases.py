"""Partitioning benchmark cases: plain functions that take the admin and application URLs and a scale,
run on a scratch database of that server, and return dicts of measured figures."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any, LiteralString

import psycopg
from psycopg import sql

from advisoros_db import migrations
from advisoros_db.bench.partition_load import Writers, fill, scratch_database
from advisoros_db.partitioning import convert
from advisoros_db.partitioning.archive import detach
from advisoros_db.partitioning.layout import (
    AUDIT_LOGS,
    DOCUMENTS,
    add_months,
    month_start,
    partition_for,
)
from advisoros_db.partitioning.maintain import ensure_partition
from advisoros_db.partitioning.verify import compare
from advisoros_db.urls import database_of, with_database


def conversion_under_load(
    admin_url: str, app_url: str, *, scale: int = 20_000, writers: int = 4, batch_size: int = 5000
) -> dict[str, Any]:
    """Convert `documents` holding `scale` rows while writers run; report conversion rows/s, the
    swap's lock time and the write stall the writers saw, and how many writes failed."""
    with scratch_database(admin_url) as url:
        app = with_database(app_url, database_of(url))
        with psycopg.connect(url, autocommit=True) as conn:
            fill(conn, documents=scale)
            conn.execute("ANALYZE documents")
            with Writers(app, threads=writers) as load:
                convert.prepare(conn, DOCUMENTS)
                started = time.perf_counter()
                copied = convert.backfill(conn, DOCUMENTS, batch_size=batch_size)
                backfill_s = time.perf_counter() - started
                convert.verify(conn, DOCUMENTS)
                swap_start = time.perf_counter()
                result = convert.swap(conn, DOCUMENTS)
                swap_end = time.perf_counter()
                time.sleep(0.2)
            check = compare(conn, DOCUMENTS.old_name, DOCUMENTS.table, key=DOCUMENTS.key)
        return {
            "case": "partition_conversion_under_load",
            "rows": scale,
            "writers": writers,
            "rows_copied": copied,
            "backfill_s": round(backfill_s, 3),
            "conversion_rows_per_s": round(copied / backfill_s) if backfill_s else None,
            "swap_lock_ms": round(result.lock_ms, 2),
            "swap_write_stall_ms": round(load.longest_write_ms(swap_start, swap_end), 2),
            "median_write_ms": round(load.median_write_ms(), 2),
            "writes": load.ops,
            "failed_writes": len(load.failures),
            "old_and_new_agree": check.ok,
        }


def archive_vs_delete(admin_url: str, *, scale: int = 50_000) -> dict[str, Any]:
    """Remove one month of `scale` audit rows two ways, on the real schema (migrated to head, with
    its audit indexes): DETACH into the archive schema, and DELETE (then the VACUUM that reclaims
    the space) of the same rows from a plain copy. Report the times and the ratios."""
    with scratch_database(admin_url, plain=False) as url:
        migrations.upgrade(url, "head")
        with psycopg.connect(url, autocommit=True) as conn:
            org = conn.execute(
                "INSERT INTO organizations (name, slug) VALUES ('Bench CPA', 'bench') RETURNING id"
            ).fetchone()
            assert org is not None
            month = add_months(month_start(dt.datetime.now(dt.UTC)), -2)
            part = partition_for(AUDIT_LOGS, month)
            ensure_partition(conn, AUDIT_LOGS, part)
            conn.execute(_ARCHIVE_ROWS, {"org": org[0], "month": month, "rows": scale})
            # The DELETE side: the same rows in a plain copy with the same indexes (a DELETE from a
            # whole unpartitioned table would only be slower).
            conn.execute("CREATE TABLE audit_logs_delete_twin (LIKE audit_logs INCLUDING ALL)")
            conn.execute(
                sql.SQL("INSERT INTO audit_logs_delete_twin SELECT * FROM {}").format(
                    sql.Identifier(part.name)
                )
            )
            conn.execute("VACUUM ANALYZE audit_logs_delete_twin")
            conn.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(part.name)))
            started = time.perf_counter()
            detach(conn, AUDIT_LOGS, part)
            detach_ms = (time.perf_counter() - started) * 1000
            started = time.perf_counter()
            deleted = conn.execute(
                "DELETE FROM audit_logs_delete_twin WHERE created_at >= %s AND created_at < %s",
                (part.lower, part.upper),
            ).rowcount
            delete_ms = (time.perf_counter() - started) * 1000
            conn.execute("VACUUM audit_logs_delete_twin")
            delete_vacuum_ms = (time.perf_counter() - started) * 1000
    return {
        "case": "partition_archive_vs_delete",
        "rows": scale,
        "rows_deleted": deleted,
        "detach_ms": round(detach_ms, 2),
        "delete_ms": round(delete_ms, 2),
        "delete_and_vacuum_ms": round(delete_vacuum_ms, 2),
        "ratio": round(delete_ms / detach_ms, 1) if detach_ms else None,
        "ratio_with_vacuum": round(delete_vacuum_ms / detach_ms, 1) if detach_ms else None,
    }


_ARCHIVE_ROWS: LiteralString = """
INSERT INTO audit_logs (organization_id, user_id, entity_type, entity_id, action, old_values,
                        new_values, ip_address, created_at)
SELECT %(org)s, NULL, 'client', gen_random_uuid(), 'update',
       jsonb_build_object('status', 'active', 'n', g), jsonb_build_object('status', 'inactive', 'n', g),
       '10.0.0.1', %(month)s + make_interval(secs => g %% 2000000)
FROM generate_series(1, %(rows)s) g
"""


CASES = {"conversion_under_load": conversion_under_load, "archive_vs_delete": archive_vs_delete}
