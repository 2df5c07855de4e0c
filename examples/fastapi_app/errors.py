"""The library's errors as HTTP statuses: one table, one handler."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from advisoros_db.errors import (
    AdvisorOSError,
    CheckViolation,
    ForeignKeyViolation,
    LockTimeout,
    NotNullViolation,
    PermissionDenied,
    ReadOnlyViolation,
    TenantError,
    UniqueViolation,
)
from advisoros_db.routing import InvalidToken, RoutingError

# First match wins: subclasses before their bases.
STATUSES: tuple[tuple[type[AdvisorOSError], int], ...] = (
    (UniqueViolation, 409),  # it exists already
    (ForeignKeyViolation, 422),  # it points at nothing (or at another tenant's row)
    (CheckViolation, 422),
    (NotNullViolation, 422),
    (InvalidToken, 400),  # a malformed X-Consistency-Token
    (TenantError, 400),
    (PermissionDenied, 403),
    (LockTimeout, 503),  # retry later
    (RoutingError, 503),  # no node can serve the request now
    (ReadOnlyViolation, 500),  # a bug: a write in a read session
)


def status_for(error: AdvisorOSError) -> int:
    return next((status for kind, status in STATUSES if isinstance(error, kind)), 500)


async def _handle(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, AdvisorOSError)
    status = status_for(error)
    headers = {"Retry-After": "1"} if status == 503 else None
    body = {"error": type(error).__name__, "detail": str(error)}
    return JSONResponse(body, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(AdvisorOSError, _handle)
