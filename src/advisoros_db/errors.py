"""The package's one exception root, and translation of driver errors by SQLSTATE."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

# psycopg and SQLAlchemy are imported where an error is translated, not here: every module (and
# `advisoros-db --help`) imports this one, and the drivers cost about 0.25 s to import.


class AdvisorOSError(Exception):
    """Root of every error this package raises on purpose."""


class ConfigError(AdvisorOSError):
    """A setting is missing or wrong; the message says which and how to fix it."""


class ClusterError(AdvisorOSError):
    """The embedded cluster could not do what was asked; the message names the log to read."""


class TenantError(AdvisorOSError):
    """A tenant-scoped operation was attempted without a valid tenant."""


class MigrationError(AdvisorOSError):
    """A migration could not be applied or rolled back."""


class IntegrityViolation(AdvisorOSError):
    """The database refused a write because it would break a constraint.

    `constraint` names the constraint, `table` the table, `sqlstate` the PostgreSQL error code.
    """

    def __init__(
        self, message: str, *, constraint: str | None, table: str | None, sqlstate: str | None
    ) -> None:
        super().__init__(message)
        self.constraint = constraint
        self.table = table
        self.sqlstate = sqlstate


class ForeignKeyViolation(IntegrityViolation):
    """A row references a row that does not exist (or belongs to another tenant)."""


class UniqueViolation(IntegrityViolation):
    """A row duplicates a unique key."""


class CheckViolation(IntegrityViolation):
    """A value is outside what a CHECK constraint or enum allows."""


class NotNullViolation(IntegrityViolation):
    """A required value is missing."""


class PermissionDenied(AdvisorOSError):
    """The database role may not do this (for example UPDATE on the append-only audit log)."""


class ReadOnlyViolation(AdvisorOSError):
    """A write was attempted in a read-only session."""


class LockTimeout(AdvisorOSError):
    """A lock could not be taken within the lock_timeout; retry later."""


_INTEGRITY: dict[str, type[IntegrityViolation]] = {
    "23503": ForeignKeyViolation,
    "23001": ForeignKeyViolation,  # restrict_violation: ON DELETE RESTRICT refused a delete
    "23505": UniqueViolation,
    "23514": CheckViolation,
    "23502": NotNullViolation,
    "22P02": CheckViolation,  # invalid input for an enum type
}


def translate(exc: BaseException) -> AdvisorOSError | None:
    """Map a psycopg or SQLAlchemy error to the package's own error, or None if it has no mapping."""
    import psycopg
    from sqlalchemy import exc as sa_exc

    original: BaseException = exc
    if isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None:
        original = exc.orig
    if not isinstance(original, psycopg.Error):
        return None
    sqlstate = original.sqlstate
    diag = original.diag
    detail = diag.message_primary or str(original)
    if sqlstate in _INTEGRITY:
        cls = _INTEGRITY[sqlstate]
        constraint = diag.constraint_name
        where = f" (constraint {constraint} on {diag.table_name})" if constraint else ""
        return cls(
            f"{detail}{where}", constraint=constraint, table=diag.table_name, sqlstate=sqlstate
        )
    if sqlstate == "42501":
        return PermissionDenied(detail)
    if sqlstate == "25006":
        return ReadOnlyViolation(f"{detail}: this session is read-only; open a write session")
    if sqlstate == "55P03":
        return LockTimeout(f"{detail}: another transaction holds the lock; retry later")
    return None


@contextmanager
def translated() -> Iterator[None]:
    """Re-raise driver errors that have a mapping as the package's own errors."""
    import psycopg
    from sqlalchemy import exc as sa_exc

    try:
        yield
    except (psycopg.Error, sa_exc.DBAPIError) as exc:
        mine = translate(exc)
        if mine is None:
            raise
        raise mine from exc


__all__ = [
    "AdvisorOSError",
    "CheckViolation",
    "ClusterError",
    "ConfigError",
    "ForeignKeyViolation",
    "IntegrityViolation",
    "LockTimeout",
    "MigrationError",
    "NotNullViolation",
    "PermissionDenied",
    "ReadOnlyViolation",
    "TenantError",
    "UniqueViolation",
    "translate",
    "translated",
]
