"""What the password attack tests share: the application role's URL with another password, a
SCRAM verifier computed the way a client hashes one before sending it, and the role's exact
verifier put back afterwards (roles are server-wide: every other database of the session's server
recorded that verifier)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from advisoros_db.tenancy import APP_ROLE
from tests.secret_scrub import register as register_secret
from tests.support import PgDatabase

RECORDED_SQL = (
    "SELECT p.verifier, a.rolpassword FROM pg_authid a"
    " LEFT JOIN advisoros_guard.role_passwords p ON p.role_name = a.rolname"
    " WHERE a.rolname = %s"
)


def login_url(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    netloc = f"{quote(user)}:{quote(password)}@{parts.hostname}:{parts.port or 5432}"
    return urlunsplit(parts._replace(netloc=netloc))


def with_password(url: str, password: str) -> str:
    return login_url(url, APP_ROLE, password)


def new_password() -> str:
    password = os.urandom(16).hex()
    register_secret(password)
    return password


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (RFC 5802/7677), which
    PostgreSQL stores as given: the server never sees the password, so no check on it can run."""
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    stored = hashlib.sha256(hmac.new(salted, b"Client Key", "sha256").digest()).digest()
    server = hmac.new(salted, b"Server Key", "sha256").digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored)}:{b64(server)}"


def verifiers(db: PgDatabase) -> tuple[str | None, str | None]:
    """(recorded, current) verifier of the application role in `db`, read as the superuser."""
    with psycopg.connect(db.admin_url) as admin:
        row = admin.execute(RECORDED_SQL, (APP_ROLE,)).fetchone()
    assert row is not None
    return row[0], row[1]


def set_password(conn: psycopg.Connection[object], verifier: str | None) -> None:
    """ALTER ROLE ... PASSWORD as `conn`'s role (a plain password or a verifier; None: none)."""
    conn.execute(
        sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(APP_ROLE), sql.Literal(verifier))
    )


@contextmanager
def password_put_back(db: PgDatabase) -> Iterator[None]:
    """Give the role back the exact verifier it had (not the same password hashed again, which
    would be a new verifier and lock every other database's application logins out)."""
    with psycopg.connect(db.admin_url) as admin:
        row = admin.execute(
            "SELECT rolpassword FROM pg_authid WHERE rolname = %s", (APP_ROLE,)
        ).fetchone()
    assert row is not None
    original = row[0]
    try:
        yield
    finally:
        with psycopg.connect(db.admin_url, autocommit=True) as admin:
            set_password(admin, original)
