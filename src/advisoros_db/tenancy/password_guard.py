"""The application role's recorded password (revision 0025): the verifier an operator last set or
accepted, which the login guard compares with the role's current one at every login of the role.

PostgreSQL lets every role change its own password and nothing revokes that, so a password the
application role set for itself (through SQL run as the role) must open nothing: the guard refuses
such logins until a superuser records the role's current verifier again (`record_app_password`,
`advisoros-db roles record-password`). The record is a secret: only superusers can reach it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, LiteralString

import psycopg

from advisoros_db.errors import MigrationError, PermissionDenied
from advisoros_db.tenancy.roles import APP_ROLE

SCHEMA: LiteralString = "advisoros_guard"
TABLE: LiteralString = "advisoros_guard.role_passwords"
RECORD_FUNCTION: LiteralString = "advisoros_guard.record_app_password()"
RECORD_COMMAND: LiteralString = "advisoros-db roles record-password"

# From the catalog, not to_regprocedure: that raises for a role the schema is closed to.
_STATE: LiteralString = """
SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),
       EXISTS (SELECT FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
               WHERE n.nspname = 'advisoros_guard' AND p.proname = 'record_app_password'),
       current_user, current_database()
"""


@dataclass(frozen=True)
class Recorded:
    """What `record_app_password` recorded in one database."""

    database: str
    has_password: bool
    changed: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "role": APP_ROLE,
            "database": self.database,
            "has_password": self.has_password,
            "changed": self.changed,
        }

    def describe(self) -> str:
        what = (
            f"recorded the current password of {APP_ROLE}"
            if self.has_password
            else f"recorded that {APP_ROLE} has no password (a password set later is refused "
            "until recorded)"
        )
        news = (
            "it differed from the record, so its logins were refused until now"
            if self.changed
            else "it was already the recorded one"
        )
        return f"{what} in database {self.database}; {news}"


def record_app_password(conn: psycopg.Connection[Any]) -> Recorded:
    """Record the application role's current password verifier in this database (a superuser's
    connection): from now on its logins are accepted again, until the password changes."""
    row = conn.execute(_STATE).fetchone()
    assert row is not None
    superuser, installed, user, database = row
    if not superuser:
        raise PermissionDenied(
            f"recording the password of {APP_ROLE} needs a superuser (it reads pg_authid); "
            f"role {user} is not one: run `{RECORD_COMMAND}` with ADVISOROS_DATABASE_URL naming "
            "a superuser"
        )
    if not installed:
        raise MigrationError(
            f"database {database} has no password guard ({RECORD_FUNCTION} is missing): migrate "
            "it to head as a superuser (`advisoros-db migrate`; revision 0025 installs the guard "
            "and records the password itself)"
        )
    with conn.transaction():
        done = conn.execute(
            "SELECT has_password, changed FROM advisoros_guard.record_app_password()"
        ).fetchone()
    assert done is not None
    return Recorded(database=str(database), has_password=bool(done[0]), changed=bool(done[1]))
