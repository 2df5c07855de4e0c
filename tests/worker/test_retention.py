"""Retention: months and tax years past retention are detached, exported, verified and dropped;
nothing within retention is touched; a run stopped midway is finished by the next one; tax years
archive and restore from the command line like months."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from advisoros_db.bench.partition_load import fill
from advisoros_db.ops.worker import JobContext
from advisoros_db.ops.worker.jobs import apply_retention
from advisoros_db.partitioning import ArchiveError, archive, convert, restore
from advisoros_db.partitioning.archive import detach, partitions_of
from advisoros_db.partitioning.layout import AUDIT_LOGS, DOCUMENTS, partition_for
from advisoros_db.partitioning.maintain import ensure_partition
from advisoros_db.partitioning.verify import table_checksum
from advisoros_db.settings import Settings
from tests.partitioning.conftest import admin, plain
from tests.support import PgDatabase

__all__ = ["admin", "plain"]

TODAY = dt.datetime.now(dt.UTC).date()
# fill() writes six months of audit rows (this one and five before) and tax years 2018..2032;
# keeping three months archives the oldest two, keeping the years from 2020 archives 2018, 2019.
KEEP_MONTHS = 3
KEEP_YEARS = TODAY.year - 2020


@pytest.fixture
def partitioned(plain: PgDatabase, admin: psycopg.Connection) -> PgDatabase:
    fill(admin, audit=600, documents=320)
    for spec in (AUDIT_LOGS, DOCUMENTS):
        convert.run(admin, spec)
        convert.finalize(admin, spec)
    # 2018 and 2019 start in the default partition; give them their own, as a firm would.
    for year in (2018, 2019):
        ensure_partition(admin, DOCUMENTS, partition_for(DOCUMENTS, year))
    return plain


def _checksums(conn: psycopg.Connection) -> dict[str, tuple[int, str]]:
    """Row count and checksum of every attached partition of both tables."""
    out = {}
    for spec in (AUDIT_LOGS, DOCUMENTS):
        for part in partitions_of(conn, spec):
            out[part.name] = table_checksum(conn, sql.Identifier(part.name))
    return out


def _settings(export: Path) -> Settings:
    return Settings(
        retention_audit_months=KEEP_MONTHS,
        retention_document_years=KEEP_YEARS,
        retention_export_dir=export,
    )


def test_retention_archives_verifies_and_drops_only_what_is_past_it(
    partitioned: PgDatabase, admin: psycopg.Connection, tmp_path: Path
) -> None:
    before = _checksums(admin)
    expired = {
        name
        for name in before
        if name in {"documents_2018", "documents_2019"}
        or (name.startswith("audit_logs_") and name < f"audit_logs_{_months_back(KEEP_MONTHS)}")
    }
    assert len(expired) == 4 and all(before[n][0] > 0 for n in expired)

    # The worker's retention job itself (these plain tables have no job_executions to record in).
    context = JobContext(partitioned.admin_url, threading.Event(), _settings(tmp_path))
    result = apply_retention(context)
    archived = {a["partition"]: a for table in result["tables"].values() for a in table["archived"]}
    assert set(archived) == expired

    after = _checksums(admin)
    # Within retention: every partition still attached, row for row.
    assert after == {n: v for n, v in before.items() if n not in expired}
    for name in expired:
        assert admin.execute("SELECT to_regclass(%s)", (f"archive.{name}",)).fetchone() == (None,)
        file = Path(archived[name]["file"])
        manifest = json.loads(file.with_suffix(".json").read_text())
        assert (manifest["rows"], manifest["checksum"]) == before[name]
        # The export reads back to the rows that were dropped.
        assert restore(admin, file, schema="restored") == before[name]
    assert not admin.execute(
        "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'archive' AND relname LIKE 'verify_%'"
    ).fetchall()


def _months_back(months: int) -> str:
    index = TODAY.year * 12 + TODAY.month - 1 - months
    return f"{index // 12:04d}_{index % 12 + 1:02d}"


def test_a_run_cut_short_is_finished_by_the_next(
    partitioned: PgDatabase, admin: psycopg.Connection, tmp_path: Path
) -> None:
    oldest = partitions_of(admin, AUDIT_LOGS)[0]
    rows = table_checksum(admin, sql.Identifier(oldest.name))
    # What a run killed after its detach leaves: the month in the archive schema, not exported.
    detach(admin, AUDIT_LOGS, oldest)
    # An export that cannot be written keeps the archived table (nothing is dropped).
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the export directory should be")
    with pytest.raises((ArchiveError, OSError)):
        archive(partitioned.admin_url, keep_months=KEEP_MONTHS, export_dir=blocked)
    assert table_checksum(admin, sql.Identifier("archive", oldest.name)) == rows

    done = archive(partitioned.admin_url, keep_months=KEEP_MONTHS, export_dir=tmp_path / "ok")
    assert oldest.name in {a.partition for a in done} and all(a.dropped for a in done)
    assert admin.execute("SELECT to_regclass(%s)", (f"archive.{oldest.name}",)).fetchone() == (
        None,
    )
    restored = restore(admin, tmp_path / "ok" / f"{oldest.name}.copy", schema="restored")
    assert restored == rows


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "advisoros_db.cli.app", "partitions", *args],
        env={**os.environ, "ADVISOROS_DATABASE_URL": url, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_tax_years_archive_and_restore_from_the_command_line(
    partitioned: PgDatabase, admin: psycopg.Connection, tmp_path: Path
) -> None:
    before = _checksums(admin)
    refused = _cli(partitioned.admin_url, "archive", "documents", "--keep-months", "3")
    assert refused.returncode == 1 and "--keep-years" in refused.stderr
    done = _cli(
        partitioned.admin_url,
        "archive",
        "documents",
        "--keep-years",
        str(KEEP_YEARS),
        "--export",
        str(tmp_path),
        "--json",
    )
    assert done.returncode == 0, done.stderr
    archived = json.loads(done.stdout)
    assert [a["partition"] for a in archived] == ["documents_2018", "documents_2019"]
    assert all(a["dropped"] for a in archived)
    remaining = _checksums(admin)
    assert (
        "documents_2018" not in remaining
        and remaining["documents_2020"] == before["documents_2020"]
    )
    # Audit logs are untouched by a documents archive.
    assert {n: v for n, v in remaining.items() if n.startswith("audit_logs")} == {
        n: v for n, v in before.items() if n.startswith("audit_logs")
    }

    back = _cli(partitioned.admin_url, "restore", str(tmp_path / "documents_2018.copy"), "--json")
    assert back.returncode == 0, back.stderr
    assert (json.loads(back.stdout)["rows"], json.loads(back.stdout)["checksum"]) == tuple(
        before["documents_2018"]
    )
    assert admin.execute("SELECT count(*) FROM archive.documents_2018").fetchone() == (
        before["documents_2018"][0],
    )
    missing = _cli(partitioned.admin_url, "restore", str(tmp_path / "nope.copy"))
    assert missing.returncode == 1 and "missing" in missing.stderr
