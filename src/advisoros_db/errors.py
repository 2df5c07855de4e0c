"""The package's one exception root, and translation of driver errors by SQLSTATE.

A translated error keeps the driver's (psycopg) error as its `__cause__`, as SQLAlchemy's own
errors do. `IntegrityViolation` and its subclasses are also `sqlalchemy.exc.IntegrityError`s
with `.orig` set to that driver error, so code written against SQLAlchemy (`except
IntegrityError`) keeps working (docs/errors.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

    from advisoros_db.integrity import (
        CheckViolation,
        ForeignKeyViolation,
        IntegrityViolation,
        NotNullViolation,
        UniqueViolation,
    )

# psycopg and SQLAlchemy are imported where an error is translated, not here: every module (and
# `advisoros-db --help`) imports this one, and the drivers cost about 0.25 s to import. The
# integrity errors subclass SQLAlchemy's IntegrityError, so they live in `advisoros_db.integrity`
# and load on first use (`errors.UniqueViolation` works as before).
_INTEGRITY_NAMES = frozenset(
    {
        "CheckViolation",
        "ForeignKeyViolation",
        "IntegrityViolation",
        "NotNullViolation",
        "UniqueViolation",
    }
)


def __getattr__(name: str) -> Any:
    if name in _INTEGRITY_NAMES:
        from advisoros_db import integrity

        return getattr(integrity, name)
    raise AttributeError(f"module 'advisoros_db.errors' has no attribute {name!r}")


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


def driver_error(exc: BaseException) -> BaseException:
    """The driver's error behind a SQLAlchemy one (the error itself otherwise)."""
    from sqlalchemy import exc as sa_exc

    if isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None:
        return exc.orig
    return exc


def translate(exc: BaseException) -> AdvisorOSError | None:
    """Map a psycopg or SQLAlchemy error to the package's own error, or None if it has no mapping
    (or is one already). Raise it `from driver_error(exc)`."""
    import psycopg
    from sqlalchemy import exc as sa_exc

    from advisoros_db.integrity import BY_SQLSTATE

    if isinstance(exc, AdvisorOSError):
        return None
    original = driver_error(exc)
    if not isinstance(original, psycopg.Error):
        return None
    sqlstate = original.sqlstate
    diag = original.diag
    detail = diag.message_primary or str(original)
    if sqlstate in BY_SQLSTATE:
        cls = BY_SQLSTATE[sqlstate]
        constraint = diag.constraint_name
        where = f" (constraint {constraint} on {diag.table_name})" if constraint else ""
        statement = exc.statement if isinstance(exc, sa_exc.StatementError) else None
        return cls(
            f"{detail}{where}",
            constraint=constraint,
            table=diag.table_name,
            sqlstate=sqlstate,
            orig=original,
            statement=statement,
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
        raise mine from driver_error(exc)


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
    "driver_error",
    "explain",
    "translate",
    "translated",
]
