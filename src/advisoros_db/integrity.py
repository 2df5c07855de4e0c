"""The integrity errors: the package's own (`AdvisorOSError`) and SQLAlchemy's `IntegrityError`
at once, so `except IntegrityError` keeps working (docs/errors.md). Kept apart from `errors` so
that importing the package does not import SQLAlchemy; `advisoros_db.errors` re-exports them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exc as sa_exc

from advisoros_db.errors import AdvisorOSError


class IntegrityViolation(AdvisorOSError, sa_exc.IntegrityError):
    """The database refused a write because it would break a constraint.

    `constraint` names the constraint, `table` the table, `sqlstate` the PostgreSQL error code,
    `orig` the driver's error (also the `__cause__`). A `sqlalchemy.exc.IntegrityError` too.
    """

    def __init__(
        self,
        message: str,
        *,
        constraint: str | None,
        table: str | None,
        sqlstate: str | None,
        orig: BaseException | None = None,
        statement: str | None = None,
    ) -> None:
        sa_exc.IntegrityError.__init__(self, statement, None, orig)  # type: ignore[arg-type]
        self.message = message
        self.constraint = constraint
        self.table = table
        self.sqlstate = sqlstate

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> Any:
        # SQLAlchemy's own __reduce__ passes (statement, params, orig) positionally.
        return (
            _rebuild_integrity,
            (type(self), self.message, self.constraint, self.table, self.sqlstate),
        )


def _rebuild_integrity(
    cls: type[IntegrityViolation],
    message: str,
    constraint: str | None,
    table: str | None,
    sqlstate: str | None,
) -> IntegrityViolation:
    return cls(message, constraint=constraint, table=table, sqlstate=sqlstate)


class ForeignKeyViolation(IntegrityViolation):
    """A row references a row that does not exist (or belongs to another tenant)."""


class UniqueViolation(IntegrityViolation):
    """A row duplicates a unique key."""


class CheckViolation(IntegrityViolation):
    """A value is outside what a CHECK constraint or enum allows."""


class NotNullViolation(IntegrityViolation):
    """A required value is missing."""


BY_SQLSTATE: dict[str, type[IntegrityViolation]] = {
    "23503": ForeignKeyViolation,
    "23001": ForeignKeyViolation,  # restrict_violation: ON DELETE RESTRICT refused a delete
    "23505": UniqueViolation,
    "23514": CheckViolation,
    "23502": NotNullViolation,
    "22P02": CheckViolation,  # invalid input for an enum type
}


__all__ = [
    "BY_SQLSTATE",
    "CheckViolation",
    "ForeignKeyViolation",
    "IntegrityViolation",
    "NotNullViolation",
    "UniqueViolation",
]
