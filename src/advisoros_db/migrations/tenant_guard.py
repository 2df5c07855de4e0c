"""Revision 0009's work: a query on a tenant table with no tenant set is an error for every role
the policy applies to except the table's owner, instead of an empty result.

The check is `advisoros_require_tenant(<table>)`, ANDed in front of each `tenant_isolation`
policy. It is declared IMMUTABLE on purpose: the planner folds an immutable call with constant
arguments while planning, so the error is raised before any row is read, the same way for an
empty table and a full one. A per-row check would be an oracle: it would fire only when the scan
reached a row, so `WHERE id = <guess>` would tell whether another tenant has that row. The result
depends only on the session (tenant setting and role), never on data, so folding it is sound;
a prepared plan made inside a tenant keeps `true` and, reused later without a tenant, returns no
rows as before rather than raising (docs/schema.md, 'Missing tenant').
"""

from __future__ import annotations

from typing import LiteralString

from sqlalchemy import Connection, text

from advisoros_db.tenancy.context import TENANT_SETTING

FUNCTION: LiteralString = "advisoros_require_tenant(regclass)"
POLICY: LiteralString = "tenant_isolation"

FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION advisoros_require_tenant(tbl regclass) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $fn$
BEGIN
  IF nullif(current_setting('@SETTING@', true), '') IS NULL
     AND NOT pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = tbl), 'USAGE')
  THEN
    RAISE EXCEPTION 'no tenant is set: % holds tenant data, and role % may read it only inside '
                    'one organization''s transaction (the setting @SETTING@ is empty)',
                    tbl, current_user
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'run the query in a tenant transaction (advisoros_db.tenancy.tenant_transaction)'
                   ' or first SELECT set_config(''@SETTING@'', <organization id>, true)';
  END IF;
  RETURN true;
END
$fn$
""".replace("@SETTING@", TENANT_SETTING)

# Every copy of the policy in public, partitions included (they carry copies of their parent's).
# The table name is regclass text: already quoted where it needs to be.
_POLICIES = text(
    "SELECT p.polrelid::regclass::text, pg_get_expr(p.polqual, p.polrelid),"
    " pg_get_expr(p.polwithcheck, p.polrelid)"
    " FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid"
    " JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE p.polname = :policy AND n.nspname = 'public' ORDER BY 1"
)


def _guard(table: str) -> str:
    return f"advisoros_require_tenant({_literal(table)}::regclass)"


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def upgrade(connection: Connection) -> list[str]:
    """Create the function and prefix every tenant policy with it; returns the tables changed."""
    connection.execute(text(FUNCTION_SQL))
    changed: list[str] = []
    for table, qual, check in connection.execute(_POLICIES, {"policy": POLICY}).all():
        guard = _guard(table)
        if qual is None or guard in qual:
            continue
        with_check = f" WITH CHECK ({guard} AND {check})" if check else ""
        connection.execute(
            text(f"ALTER POLICY {POLICY} ON {table} USING ({guard} AND {qual}){with_check}")
        )
        changed.append(table)
    return changed


def downgrade(connection: Connection) -> list[str]:
    """Remove the guard from every tenant policy, then the function; returns the tables changed."""
    changed: list[str] = []
    for table, qual, check in connection.execute(_POLICIES, {"policy": POLICY}).all():
        prefix = f"({_guard(table)} AND "
        if qual is None or not qual.startswith(prefix):
            continue
        using = qual[len(prefix) : -1]
        with_check = ""
        if check and check.startswith(prefix):
            with_check = f" WITH CHECK ({check[len(prefix) : -1]})"
        connection.execute(text(f"ALTER POLICY {POLICY} ON {table} USING ({using}){with_check}"))
        changed.append(table)
    connection.execute(text(f"DROP FUNCTION IF EXISTS {FUNCTION}"))
    return changed


# The same rewrite as one DO block for `migrate --sql`, deciding from the policies when it runs.
_OFFLINE = """
DO $guard$
DECLARE
  p record;
  guard text;
BEGIN
  FOR p IN SELECT c.oid::regclass::text AS tbl, pg_get_expr(pol.polqual, pol.polrelid) AS qual,
                  pg_get_expr(pol.polwithcheck, pol.polrelid) AS wcheck
           FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE pol.polname = '@POLICY@' AND n.nspname = 'public'
  LOOP
    guard := format('advisoros_require_tenant(%L::regclass)', p.tbl);
    @BODY@
  END LOOP;
END
$guard$
"""
_OFFLINE_UPGRADE = """CONTINUE WHEN p.qual IS NULL OR position(guard IN p.qual) > 0;
    EXECUTE format('ALTER POLICY @POLICY@ ON %s USING (%s AND %s)%s', p.tbl, guard, p.qual,
      CASE WHEN p.wcheck IS NULL THEN ''
           ELSE format(' WITH CHECK (%s AND %s)', guard, p.wcheck) END);"""
_OFFLINE_DOWNGRADE = """CONTINUE WHEN p.qual IS NULL OR left(p.qual, length(guard) + 6) <> '(' || guard || ' AND ';
    EXECUTE format('ALTER POLICY @POLICY@ ON %s USING (%s)%s', p.tbl,
      substr(p.qual, length(guard) + 7, length(p.qual) - length(guard) - 7),
      CASE WHEN p.wcheck IS NULL OR left(p.wcheck, length(guard) + 6) <> '(' || guard || ' AND '
           THEN ''
           ELSE format(' WITH CHECK (%s)',
                       substr(p.wcheck, length(guard) + 7, length(p.wcheck) - length(guard) - 7))
      END);"""


def offline_upgrade_sql() -> list[str]:
    """Revision 0009 for `migrate --sql`: the function, then the policies' rewrite."""
    body = _OFFLINE_UPGRADE.replace("@POLICY@", POLICY)
    return [FUNCTION_SQL, _OFFLINE.replace("@BODY@", body).replace("@POLICY@", POLICY)]


def offline_downgrade_sql() -> list[str]:
    """Revision 0009's downgrade for `migrate --sql`."""
    body = _OFFLINE_DOWNGRADE.replace("@POLICY@", POLICY)
    return [
        _OFFLINE.replace("@BODY@", body).replace("@POLICY@", POLICY),
        f"DROP FUNCTION IF EXISTS {FUNCTION}",
    ]
