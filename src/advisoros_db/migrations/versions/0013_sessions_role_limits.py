"""Limit what the application role sees of other sessions and what it can change about itself.

- Other sessions' query texts: `pg_stat_activity` and the functions behind it are revoked from
  PUBLIC (so from the application role, which every tenant shares) and granted to
  `pg_read_all_stats`, which monitoring roles hold.
- Its own per-role settings: PostgreSQL lets every role run `ALTER ROLE <itself> SET ...` (and
  change its own password); no privilege removes that. A login event trigger refuses every login
  of the application role while it has per-role settings, so a tenant or timeout planted that way
  can never reach a session: isolation fails closed, with a message naming the fix.

Both need a superuser (the catalog's grants, CREATE EVENT TRIGGER); run by another role the
revision warns and changes nothing, like 0007. docs/security.md has the details and what remains.

Revision ID: 0013_sessions_role_limits
Revises: 0012_keys_audit_chain
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from advisoros_db.migrations import op
from advisoros_db.migrations.login_guard import GUARD, settings_guard

revision: str = "0013_sessions_role_limits"
down_revision: str | None = "0012_keys_audit_chain"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The catalog objects that show another session's query text to whoever may read them.
_ACTIVITY = (
    ("SELECT", "pg_catalog.pg_stat_activity"),
    ("EXECUTE", "FUNCTION pg_catalog.pg_stat_get_activity(integer)"),
    ("EXECUTE", "FUNCTION pg_catalog.pg_stat_get_backend_activity(integer)"),
)


def _grants(verb: str, preposition: str, grantee: str) -> str:
    return "\n".join(
        f"    {verb} {privilege} ON {what} {preposition} {grantee};"
        for privilege, what in _ACTIVITY
    )


# Every interpolated name is a module constant, never input.
UPGRADE = f"""
DO $limits$ BEGIN
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    RAISE WARNING '0008: the migrating role is not a superuser; pg_stat_activity stays '
      'readable by every role and per-role settings of the application role are not guarded '
      '(docs/security.md)';
  ELSE
{_grants("REVOKE", "FROM", "PUBLIC")}
{_grants("GRANT", "TO", "pg_read_all_stats")}
{settings_guard()}
    CREATE EVENT TRIGGER {GUARD} ON login EXECUTE FUNCTION {GUARD}();
  END IF;
END $limits$
"""  # noqa: S608

DOWNGRADE = f"""
DO $limits$ BEGIN
  IF to_regprocedure('{GUARD}()') IS NOT NULL THEN
    DROP EVENT TRIGGER IF EXISTS {GUARD};
    DROP FUNCTION {GUARD}();
{_grants("REVOKE", "FROM", "pg_read_all_stats")}
{_grants("GRANT", "TO", "PUBLIC")}
  END IF;
END $limits$
"""


def upgrade() -> None:
    op.set_lock_timeout()
    op.execute(UPGRADE)


def downgrade() -> None:
    op.set_lock_timeout()
    op.execute(DOWNGRADE)
