"""The login guard of revisions 0013 and 0025: the function behind the login event trigger
`advisoros_login_guard`, which refuses logins of the application role while it carries something
it may have given itself (PostgreSQL lets every role change its own settings and password).

- 0013's guard: per-role settings (`ALTER ROLE advisoros_app [IN DATABASE d] SET ...`).
- 0025's guard: the same, and a password other than the one an operator recorded
  (`tenancy.password_guard`). It reads `pg_authid` and the record, which only superusers may, so
  it is SECURITY DEFINER, owned by the superuser who migrated, with a pinned search_path.

Both bodies come from here so that 0025's downgrade puts back 0013's function exactly. Every
interpolated name is a module constant, never input.
"""

from __future__ import annotations

from advisoros_db.tenancy.password_guard import RECORD_COMMAND, RECORD_FUNCTION, SCHEMA, TABLE
from advisoros_db.tenancy.roles import APP_ROLE

GUARD = "advisoros_login_guard"

_SETTINGS_CHECK = f"""      IF session_user = '{APP_ROLE}' AND EXISTS (
          SELECT FROM pg_db_role_setting s
          WHERE s.setrole = (SELECT oid FROM pg_roles WHERE rolname = session_user)
            AND s.setdatabase IN (0, (SELECT oid FROM pg_database
                                      WHERE datname = current_database()))) THEN
        RAISE EXCEPTION 'logins of {APP_ROLE} are refused: it has per-role settings '
          '(ALTER ROLE {APP_ROLE} SET ...), which could carry a tenant or timeouts into '
          'every session'
          USING ERRCODE = 'insufficient_privilege',
                HINT = 'the schema owner must run ALTER ROLE {APP_ROLE} RESET ALL (and '
                       'ALTER ROLE {APP_ROLE} IN DATABASE <db> RESET ALL), see docs/security.md';
      END IF;
"""  # noqa: S608

# One query, only for logins of the application role: the record by its primary key and the
# role's pg_authid row. Other roles return before it is planned, so a superuser logs in even if
# the record's table were gone (or the function handed to a role that cannot read pg_authid).
_PASSWORD_CHECK = f"""      IF NOT EXISTS (
          SELECT FROM {TABLE} p
          WHERE p.role_name = session_user
            AND p.verifier IS NOT DISTINCT FROM (SELECT a.rolpassword FROM pg_authid a
                                                 WHERE a.rolname = session_user)) THEN
        RAISE EXCEPTION 'logins of {APP_ROLE} are refused: {APP_ROLE}''s password was changed '
          'since an operator recorded it (a password the role sets for itself opens nothing); '
          'if an operator changed it, run `{RECORD_COMMAND}` as a superuser'
          USING ERRCODE = 'insufficient_privilege',
                HINT = 'a superuser records the current password with `{RECORD_COMMAND}` (or '
                       'SELECT * FROM {RECORD_FUNCTION} in this database); if no operator '
                       'changed it, SQL run as {APP_ROLE} did: set a new password, record it, '
                       'and find how (docs/security.md)';
      END IF;
"""  # noqa: S608


def settings_guard(verb: str = "CREATE") -> str:
    """0013's function: per-role settings only, run with the caller's rights."""
    return f"""    {verb} FUNCTION {GUARD}() RETURNS event_trigger
    LANGUAGE plpgsql SET search_path = pg_catalog AS $guard$
    BEGIN
{_SETTINGS_CHECK}    END
    $guard$;"""


def password_guard() -> str:
    """0025's function: per-role settings and the recorded password."""
    return f"""    CREATE OR REPLACE FUNCTION {GUARD}() RETURNS event_trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $guard$
    BEGIN
      IF session_user <> '{APP_ROLE}' THEN
        RETURN;
      END IF;
{_SETTINGS_CHECK}{_PASSWORD_CHECK}    END
    $guard$;"""


# The record and the one function that writes it, reachable by superusers only: a new schema
# grants PUBLIC nothing, and the REVOKEs say so. The function runs with the caller's rights, so
# even a role given EXECUTE could not read pg_authid through it.
RECORD = f"""    CREATE SCHEMA {SCHEMA};
    REVOKE ALL ON SCHEMA {SCHEMA} FROM PUBLIC;
    CREATE TABLE {TABLE} (
      role_name name PRIMARY KEY,
      verifier text,
      recorded_at timestamptz NOT NULL DEFAULT now(),
      recorded_by name NOT NULL DEFAULT session_user
    );
    REVOKE ALL ON TABLE {TABLE} FROM PUBLIC;
    COMMENT ON TABLE {TABLE} IS 'The password verifier (pg_authid.rolpassword; NULL: no '
      'password) of the application role as an operator last set or accepted it. A secret: '
      'superusers only. The login guard refuses the role''s logins when they differ.';
    CREATE FUNCTION {RECORD_FUNCTION.removesuffix("()")}(
        OUT has_password boolean, OUT changed boolean)
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $record$
    DECLARE
      verifier_now text;
      verifier_before text;
      had_record boolean;
    BEGIN
      IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        RAISE EXCEPTION 'recording the password of {APP_ROLE} needs a superuser (it reads '
          'pg_authid); % is not one', current_user
          USING ERRCODE = 'insufficient_privilege';
      END IF;
      SELECT a.rolpassword INTO verifier_now FROM pg_authid a WHERE a.rolname = '{APP_ROLE}';
      IF NOT FOUND THEN
        RAISE EXCEPTION 'role {APP_ROLE} does not exist: create it first (docs/security.md)'
          USING ERRCODE = 'undefined_object';
      END IF;
      SELECT p.verifier INTO verifier_before FROM {TABLE} p
      WHERE p.role_name = '{APP_ROLE}' FOR UPDATE;
      had_record := FOUND;
      INSERT INTO {TABLE} AS p (role_name, verifier) VALUES ('{APP_ROLE}', verifier_now)
      ON CONFLICT (role_name) DO UPDATE
        SET verifier = EXCLUDED.verifier, recorded_at = now(), recorded_by = session_user;
      has_password := verifier_now IS NOT NULL;
      changed := NOT had_record OR verifier_before IS DISTINCT FROM verifier_now;
    END
    $record$;
    REVOKE ALL ON FUNCTION {RECORD_FUNCTION} FROM PUBLIC;"""  # noqa: S608

DROP_RECORD = f"""    DROP FUNCTION {RECORD_FUNCTION};
    DROP TABLE {TABLE};
    DROP SCHEMA {SCHEMA};"""
