"""A password the application role sets for itself opens nothing.

PostgreSQL lets every role change its own password (`ALTER ROLE CURRENT_USER PASSWORD ...`, a
pre-hashed SCRAM verifier included) and nothing revokes that, so SQL run as the application role
could give itself a login of its own. This revision records the role's password verifier as it is
now (the operator who migrates accepts it) in `advisoros_guard.role_passwords`, which only
superusers reach, and extends 0013's login guard: a login of the application role is refused
while its verifier differs from the recorded one (no record, or a recorded NULL and a password
set since, count as different). The operator records a password they set with
`advisoros-db roles record-password` (`advisoros_guard.record_app_password()`).

Needs a superuser (it reads pg_authid, and replaces 0013's superuser-owned guard), and 0013's guard
in place; otherwise it warns and changes nothing, like 0013. The downgrade puts back 0013's
function exactly and drops the record. docs/security.md has the details.

Revision ID: 0025_keys_guard_app_password
Revises: 0024_search_s4_document_pages
Create Date: 2026-12-05
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from alembic import context
from sqlalchemy import text

from advisoros_db.migrations import op
from advisoros_db.migrations.login_guard import (
    DROP_RECORD,
    GUARD,
    RECORD,
    password_guard,
    settings_guard,
)
from advisoros_db.tenancy.password_guard import RECORD_FUNCTION, SCHEMA

revision: str = "0025_keys_guard_app_password"
down_revision: str | None = "0024_search_s4_document_pages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

_SUPERUSER = "(SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"
_STATE = f"SELECT {_SUPERUSER}, to_regprocedure('{GUARD}()') IS NOT NULL"

NOT_SUPERUSER = (
    "0025: the migrating role is not a superuser; the application role's own password "
    "changes are not guarded (docs/security.md)"
)
NO_GUARD = (
    "0025: revision 0013's login guard is missing (0013 ran as a role that is not a superuser), "
    "so the application role's own password changes are not guarded; as a superuser, step down "
    "to 0012_keys_audit_chain and migrate again (docs/security.md)"
)


def _sql_text(message: str) -> str:
    return "'" + message.replace("'", "''") + "'"


# The warnings are raised in SQL for offline scripts (psql shows them) and logged for online runs
# (psycopg drops server notices).
UPGRADE = f"""
DO $password$ BEGIN
  IF NOT {_SUPERUSER} THEN
    RAISE WARNING {_sql_text(NOT_SUPERUSER)};
  ELSIF to_regprocedure('{GUARD}()') IS NULL THEN
    RAISE WARNING {_sql_text(NO_GUARD)};
  ELSE
{RECORD}
{password_guard()}
    PERFORM * FROM {RECORD_FUNCTION};
  END IF;
END $password$
"""

DOWNGRADE = f"""
DO $password$ BEGIN
  IF to_regnamespace('{SCHEMA}') IS NOT NULL THEN
    IF NOT {_SUPERUSER} THEN
      RAISE EXCEPTION '0025: stepping down needs a superuser: it puts back revision 0013''s '
        'login guard, which a superuser owns'
        USING ERRCODE = 'insufficient_privilege';
    END IF;
{settings_guard("CREATE OR REPLACE")}
{DROP_RECORD}
  END IF;
END $password$
"""


def upgrade() -> None:
    op.set_lock_timeout()
    if not context.is_offline_mode():
        row = op.get_bind().execute(text(_STATE)).one()
        if not row[0]:
            log.warning(NOT_SUPERUSER)
        elif not row[1]:
            log.warning(NO_GUARD)
    op.execute(UPGRADE)


def downgrade() -> None:
    op.set_lock_timeout()
    op.execute(DOWNGRADE)
