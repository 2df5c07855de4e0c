"""Archival of old audit-log months: detach (lock-safe) into the `archive` schema, optionally export
each to a file with a checksum, verify the file by restoring it, and only then drop the table."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from advisoros_db import pooler
from advisoros_db.errors import AdvisorOSError
from advisoros_db.partitioning import ddl
from advisoros_db.partitioning.layout import (
    AUDIT_LOGS,
    Partition,
    TableSpec,
    expired,
    parse_name,
)
from advisoros_db.partitioning.locks import DEFAULT_POLICY, LockPolicy, in_short_transaction
from advisoros_db.partitioning.verify import table_checksum

ARCHIVE_SCHEMA = "archive"


class ArchiveError(AdvisorOSError):
    """An export could not be written or did not verify; the archived table was kept."""


@dataclass(frozen=True)
class Archived:
    partition: str
    rows: int
    checksum: str
    file: str | None = None
    dropped: bool = False


def partitions_of(conn: psycopg.Connection[Any], spec: TableSpec) -> list[Partition]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = %s::regclass",
        (spec.table,),
    ).fetchall()
    return sorted(p for (name,) in rows if (p := parse_name(spec, name)) is not None)


def detach(
    conn: psycopg.Connection[Any],
    spec: TableSpec,
    part: Partition,
    *,
    policy: LockPolicy = DEFAULT_POLICY,
) -> None:
    """Detach one partition and move it to the archive schema, in one short transaction. A plain
    DETACH (CONCURRENTLY is refused while a default partition exists) needs no scan: milliseconds."""

    def step(c: psycopg.Connection[Any]) -> None:
        c.execute(
            sql.SQL("ALTER TABLE {} DETACH PARTITION {}").format(
                sql.Identifier(spec.table), sql.Identifier(part.name)
            )
        )
        c.execute(
            sql.SQL("ALTER TABLE {} SET SCHEMA {}").format(
                sql.Identifier(part.name), sql.Identifier(ARCHIVE_SCHEMA)
            )
        )

    in_short_transaction(conn, step, policy=policy, what=f"detach {part.name}")


MAX_KEEP_MONTHS = 1200


def _check_writable(directory: Path) -> None:
    """Before anything is detached: the export folder exists (or is created) and takes files."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as exc:
        raise ArchiveError(
            f"cannot write exports to {directory}: {exc.strerror or exc}; choose a folder this "
            "user can create and write to. Nothing was detached"
        ) from None


def export(
    conn: psycopg.Connection[Any], name: str, directory: Path
) -> tuple[Path, dict[str, Any]]:
    """COPY archive.<name> to `<dir>/<name>.copy` with a manifest (columns, rows, row checksum,
    sha256 of the file)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.copy"
    table = sql.Identifier(ARCHIVE_SCHEMA, name)
    digest = hashlib.sha256()
    copy_out = sql.SQL("COPY {} TO STDOUT").format(table)
    with path.open("wb") as out, conn.cursor() as cur, cur.copy(copy_out) as copy:
        for chunk in copy:
            out.write(chunk)
            digest.update(chunk)
    rows, checksum = table_checksum(conn, table)
    manifest = {
        "table": name,
        "columns": [[c.name, c.type] for c in ddl.columns(conn, f"{ARCHIVE_SCHEMA}.{name}")],
        "rows": rows,
        "checksum": checksum,
        "sha256": digest.hexdigest(),
    }
    path.with_suffix(".json").write_text(json.dumps(manifest, indent=2))
    return path, manifest


def restore(
    conn: psycopg.Connection[Any],
    path: Path,
    *,
    schema: str = ARCHIVE_SCHEMA,
    name: str | None = None,
) -> tuple[int, str]:
    """Load an exported file back into `<schema>.<name>`; checks the file's sha256 and the rows'
    checksum against the manifest. Returns (rows, checksum)."""
    manifest = json.loads(path.with_suffix(".json").read_text())
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != manifest["sha256"]:
        raise ArchiveError(f"{path} does not match the sha256 in its manifest; the file is damaged")
    target = sql.Identifier(schema, name or manifest["table"])
    with conn.transaction():
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        conn.execute(
            sql.SQL("CREATE TABLE {} ({})").format(
                target,
                sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(c), ddl.deparsed(_type(t)))
                    for c, t in manifest["columns"]
                ),
            )
        )
        with conn.cursor() as cur, cur.copy(sql.SQL("COPY {} FROM STDIN").format(target)) as copy:
            copy.write(data)
        rows, checksum = table_checksum(conn, target)
        if (rows, checksum) != (manifest["rows"], manifest["checksum"]):
            raise ArchiveError(
                f"{path} restored {rows} rows with checksum {checksum}; the manifest says "
                f"{manifest['rows']} rows, {manifest['checksum']}. Nothing was restored"
            )
    return rows, checksum


def _type(text: str) -> str:
    # Types come from format_type() in our own manifest; refuse anything that is not a type name.
    if any(ch in text for ch in ";'\"") or "--" in text:
        raise ArchiveError(f"manifest column type {text!r} is not a type name")
    return text


def archived_tables(conn: psycopg.Connection[Any], spec: TableSpec) -> list[Partition]:
    """Partitions of `spec` already detached into the archive schema (by their names)."""
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relkind = 'r'",
        (ARCHIVE_SCHEMA,),
    ).fetchall()
    return sorted(p for (name,) in rows if (p := parse_name(spec, name)) is not None)


def export_verified(conn: psycopg.Connection[Any], name: str, directory: Path) -> Path:
    """Export archive.<name>, restore the file into a scratch table to prove it reads back to the
    same rows and checksum, and only then drop archive.<name>. A run killed at any point leaves the
    table in the archive schema, so the next run exports it again."""
    path, _manifest = export(conn, name, directory)
    scratch = sql.Identifier(ARCHIVE_SCHEMA, f"verify_{name}")
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(scratch))
    try:
        restore(conn, path, schema=ARCHIVE_SCHEMA, name=f"verify_{name}")
    finally:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(scratch))
    conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(ARCHIVE_SCHEMA, name)))
    return path


def archive(
    url: str,
    *,
    keep_months: int | None = None,
    keep_years: int | None = None,
    export_dir: Path | None = None,
    today: dt.date | None = None,
    spec: TableSpec = AUDIT_LOGS,
    policy: LockPolicy = DEFAULT_POLICY,
) -> list[Archived]:
    """Detach the partitions older than `keep_months` (audit logs) or `keep_years` (documents'
    tax years) into the archive schema; with `export_dir`, also export each, verify the export by
    restoring it into a scratch table, and drop the archived table. With `export_dir`, tables an
    earlier run left in the archive schema past the same cutoff are exported and dropped too."""
    keep = keep_months if spec.granularity == "month" else keep_years
    option = "--keep-months" if spec.granularity == "month" else "--keep-years"
    if keep is None:
        raise ArchiveError(f"{spec.table} is partitioned by {spec.granularity}; give {option}")
    if spec.granularity == "month" and not 0 <= keep <= MAX_KEEP_MONTHS:
        raise ArchiveError(
            f"--keep-months must be 0 or more and at most {MAX_KEEP_MONTHS} (100 years), got {keep}"
        )
    if keep < 0:
        raise ArchiveError(f"{option} must be 0 or more, got {keep}")
    if export_dir is not None:
        _check_writable(export_dir)
    today = today or dt.datetime.now(dt.UTC).date()
    done: dict[str, Archived] = {}
    with pooler.connect(url, autocommit=True) as conn:
        if not ddl.is_partitioned(conn, spec.table):
            raise ArchiveError(
                f"{spec.table} is not partitioned; run `advisoros-db partitions convert {spec.table}`"
            )
        for part in expired(partitions_of(conn, spec), spec, today, keep):
            detach(conn, spec, part, policy=policy)
            rows, checksum = table_checksum(conn, sql.Identifier(ARCHIVE_SCHEMA, part.name))
            done[part.name] = Archived(part.name, rows, checksum)
        if export_dir is None:
            return list(done.values())
        for part in expired(archived_tables(conn, spec), spec, today, keep):
            rows, checksum = table_checksum(conn, sql.Identifier(ARCHIVE_SCHEMA, part.name))
            path = export_verified(conn, part.name, export_dir)
            done[part.name] = Archived(part.name, rows, checksum, str(path), dropped=True)
    return sorted(done.values(), key=lambda a: a.partition)
