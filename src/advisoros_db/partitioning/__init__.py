"""Partitioning: audit_logs by month and documents by tax year; maintenance and online conversion."""

from advisoros_db.partitioning.archive import Archived, ArchiveError, archive, export, restore
from advisoros_db.partitioning.convert import ConversionError, spec_for
from advisoros_db.partitioning.layout import (
    AUDIT_LOGS,
    DOCUMENTS,
    SPECS,
    Partition,
    TableSpec,
)
from advisoros_db.partitioning.locks import LockPolicy
from advisoros_db.partitioning.maintain import MaintenanceReport, maintain
from advisoros_db.partitioning.stats import stats
from advisoros_db.partitioning.verify import Verification, compare

__all__ = [
    "AUDIT_LOGS",
    "DOCUMENTS",
    "SPECS",
    "ArchiveError",
    "Archived",
    "ConversionError",
    "LockPolicy",
    "MaintenanceReport",
    "Partition",
    "TableSpec",
    "Verification",
    "archive",
    "compare",
    "export",
    "maintain",
    "restore",
    "spec_for",
    "stats",
]
