"""What a rollback would destroy: the application tables its SQL drops that hold rows."""

from __future__ import annotations

import re

from psycopg import sql

from advisoros_db import pooler

SCHEMA = "public"
# Tables whose rows are computed from other tables and rebuilt after an upgrade (the audit month
# rollups, from audit_logs, by the worker's audit_rollups job): dropping them loses nothing.
DERIVED = frozenset({"audit_log_rollups"})
_DROP_TABLE = re.compile(
    r"\bDROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(.+?)(?:\s+(?:CASCADE|RESTRICT))?\s*;",
    re.IGNORECASE | re.DOTALL,
)


def dropped_tables(downgrade_sql: str) -> list[str]:
    """Application-schema tables a downgrade's (offline) SQL drops, in order of appearance."""
    names: list[str] = []
    for match in _DROP_TABLE.finditer(downgrade_sql):
        for raw in match.group(1).split(","):
            schema, _, name = raw.strip().replace('"', "").rpartition(".")
            if (schema or SCHEMA) == SCHEMA and name and name not in names:
                names.append(name)
    return names


def losses(url: str, downgrade_sql: str) -> list[tuple[str, int]]:
    """`(table, rows)` for every table the downgrade drops that holds rows (derived tables
    aside), most rows first."""
    tables = [t for t in dropped_tables(downgrade_sql) if t not in DERIVED]
    found: list[tuple[str, int]] = []
    with pooler.connect(url, autocommit=True) as conn:
        for table in tables:
            exists = conn.execute(
                "SELECT to_regclass(%s) IS NOT NULL", (f'{SCHEMA}."{table}"',)
            ).fetchone()
            if not (exists and exists[0]):
                continue
            row = conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(SCHEMA, table))
            ).fetchone()
            if row and row[0]:
                found.append((table, int(row[0])))
    found.sort(key=lambda item: (-item[1], item[0]))
    return found


def refusal(target: str, found: list[tuple[str, int]]) -> str:
    """The message refusing a destructive rollback, listing what it would drop."""
    total = sum(rows for _, rows in found)
    listed = ", ".join(f"{table} ({rows:,})" for table, rows in found)
    return (
        f"rolling back to {target} would drop {len(found)} table(s) holding {total:,} rows: "
        f"{listed}. Nothing was changed; back the data up, then run the rollback again with --yes"
    )
