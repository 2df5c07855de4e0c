"""Retention: audit-log months and document tax years past the settings' retention are detached,
exported with a checksum manifest, verified by a restore, and dropped only after that."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from advisoros_db.partitioning import ddl
from advisoros_db.partitioning.archive import archive
from advisoros_db.partitioning.layout import AUDIT_LOGS, DOCUMENTS


@dataclass(frozen=True)
class RetentionPolicy:
    audit_months: int = 84
    document_years: int = 7


def apply(
    url: str,
    policy: RetentionPolicy,
    export_dir: Path,
    *,
    today: dt.date | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> dict[str, Any]:
    """Archive what is past retention on both tables; stops between tables when asked to."""
    report: dict[str, Any] = {"export_dir": str(export_dir), "tables": {}}
    for spec, keep in ((AUDIT_LOGS, policy.audit_months), (DOCUMENTS, policy.document_years)):
        if should_stop():
            report["stopped"] = True
            break
        with psycopg.connect(url, autocommit=True) as conn:
            partitioned = ddl.is_partitioned(conn, spec.table)
        if not partitioned:
            report["tables"][spec.table] = {"skipped": "not partitioned"}
            continue
        monthly = spec.granularity == "month"
        done = archive(
            url,
            keep_months=keep if monthly else None,
            keep_years=None if monthly else keep,
            export_dir=export_dir,
            spec=spec,
            today=today,
        )
        report["tables"][spec.table] = {
            "keep": keep,
            "archived": [
                {"partition": a.partition, "rows": a.rows, "checksum": a.checksum, "file": a.file}
                for a in done
            ],
        }
    return report
