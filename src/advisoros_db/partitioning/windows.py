"""Open rollback windows: a table converted online and swapped, whose plain copy `<table>_old` is
kept (every write to the table written twice) until `partitions finalize` or `rollback`. A
database migrated from empty never has one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from advisoros_db.partitioning.introspect import Conn, exists
from advisoros_db.partitioning.layout import SPECS


@dataclass(frozen=True)
class RollbackWindow:
    table: str
    plain_table: str
    since: dt.datetime

    def warning(self) -> str:
        return (
            f"rollback window open on {self.table} since {self.since:%Y-%m-%d %H:%M:%S %Z}: "
            f"{self.plain_table} is kept and every write to {self.table} is written twice until "
            f"`advisoros-db partitions finalize {self.table}` (or `partitions rollback "
            f"{self.table}`)"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "plain_table": self.plain_table,
            "since": self.since.isoformat(),
            "warning": self.warning(),
        }


def open_windows(conn: Conn) -> list[RollbackWindow]:
    """The tables whose conversion is swapped and whose plain copy still exists (read-only)."""
    if not exists(conn, "partitioning.conversions"):
        return []
    rows = conn.execute(
        "SELECT table_name, updated_at AT TIME ZONE 'UTC' FROM partitioning.conversions"
        " WHERE phase = 'swapped' ORDER BY table_name"
    ).fetchall()
    found = []
    for table, since in rows:
        spec = SPECS.get(table)
        if spec is not None and exists(conn, spec.old_name):
            found.append(RollbackWindow(table, spec.old_name, since.replace(tzinfo=dt.UTC)))
    return found
