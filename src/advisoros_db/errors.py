"""The package's one exception root, and translation of driver errors by SQLSTATE."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

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


class ConnectionFailed(AdvisorOSError):
    """The server could not be reached, or refused the login; the message says which."""


class InvalidInput(AdvisorOSError):
    """A value the server cannot take: out of its type's range, or text that is not valid UTF-8."""


_LOGIN_REFUSED = ("password authentication failed", "no password supplied", 'role "')
_UNREACHABLE = (
    "connection refused",
    "could not connect",
    "timeout expired",
    "could not translate host name",
    "name or service not known",
    "no route to host",
    "server closed the connection unexpectedly",
)


def _main_line(text: str) -> str:
    # libpq puts the server's reason (FATAL: ...) or the socket error on the last line.
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else text


def _connection_failure(original: psycopg.Error) -> ConnectionFailed | None:
    import psycopg

    if not isinstance(original, psycopg.OperationalError):
        return None
    text = str(original)
    lowered = text.lower()
    if original.sqlstate in ("28P01", "28000") or any(k in lowered for k in _LOGIN_REFUSED):
        return ConnectionFailed(
            f"the server refused the login ({_main_line(text)}): check the user and password "
            "in ADVISOROS_DATABASE_URL (and ADVISOROS_APP_DATABASE_URL)"
        )
    if original.sqlstate == "3D000":
        return ConnectionFailed(
            f"{_main_line(text)}: check the database name in ADVISOROS_DATABASE_URL"
        )
    if any(k in lowered for k in _UNREACHABLE):
        return ConnectionFailed(
            f"cannot reach the database server ({_main_line(text)}): check that it is running "
            "and that ADVISOROS_DATABASE_URL names the right host and port"
        )
    return None


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


def explain(exc: BaseException) -> AdvisorOSError | None:
    """At a command's boundary: `translate`, plus connection failures, bad values and input that
    is not UTF-8, each as a message that says what was wrong and what to do."""
    import psycopg
    from sqlalchemy import exc as sa_exc

    mine = translate(exc)
    if mine is not None:
        return mine
    if isinstance(exc, UnicodeError):
        return InvalidInput(
            f"the input is not valid UTF-8 text ({exc}); pass UTF-8 text. Nothing was changed"
        )
    original: BaseException = exc
    if isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None:
        original = exc.orig
    if not isinstance(original, psycopg.Error):
        return None
    sqlstate = original.sqlstate
    if sqlstate is not None and sqlstate.startswith("22"):  # data exceptions: the value is wrong
        detail = original.diag.message_primary or str(original)
        return InvalidInput(f"{detail}: nothing was changed; correct the value and run it again")
    return _connection_failure(original)


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
    "ConnectionFailed",
    "ForeignKeyViolation",
    "IntegrityViolation",
    "InvalidInput",
    "LockTimeout",
    "MigrationError",
    "NotNullViolation",
    "PermissionDenied",
    "ReadOnlyViolation",
    "TenantError",
    "UniqueViolation",
    "explain",
    "translate",
    "translated",
]
