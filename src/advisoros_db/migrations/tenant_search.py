"""Revision 0010's work: document full-text search on a GIN index that never reads another
tenant's entries or rows, through a SECURITY DEFINER function that takes the tenant only from the
transaction's tenant setting.

Why not LEAKPROOF operators or a definer function over the plain GIN index: either way the index
returns every tenant's matching rows before the tenant filter, and `EXPLAIN (ANALYZE, BUFFERS)`
(open to every role, and counting the buffers a function reads inside a Function Scan) shows the
extra heap pages or filtered rows: a one-bit answer to "does another firm's document hold this
word?". So the index keys themselves carry the tenant. `advisoros_tenant_tsvector` turns a row's
vectors into lexemes prefixed with its organization (`e`/`s` for the english and simple
configurations, then the organization id in base64), and `advisoros_tenant_tsquery` prefixes a
query's lexemes the same way with the *caller's* tenant: the index lookup only ever touches the
caller's keys, whose posting lists hold only the caller's rows. The real match (`@@` on the row's
own vectors) is rechecked on those rows, so results are exact; positions and weights are not in
the keys, so phrase and weight conditions are left to that recheck.

A tsvector holds at most 1 MB of lexemes; the prefix adds 23 bytes to each. A document with more
than `MAX_LEXEMES` distinct lexemes or `MAX_LEXEME_BYTES` of them gets one overflow key instead,
and every query also asks for its tenant's overflow key: such documents are always candidates
(and rechecked), never missed, and the index expression can never raise on a write.
"""

from __future__ import annotations

from typing import LiteralString

from sqlalchemy import Connection, text

from advisoros_db.tenancy.context import TENANT_SETTING

MAX_LEXEMES = 20_000
MAX_LEXEME_BYTES = 500_000

INDEX: LiteralString = "idx_documents_tenant_fts"
SEARCH_FUNCTION: LiteralString = "search_tenant_documents(tsquery, tsquery, integer)"
HELPERS: tuple[LiteralString, ...] = (
    "advisoros_tenant_tsquery(uuid, tsquery, tsquery)",
    "advisoros_tenant_tsvector(uuid, tsvector, tsvector)",
)

# Frozen copy of revision 0006's document index expression, which this function matched until
# revision 0021 (a stored vector since); the search tests compare the frozen copies.
ENGLISH: LiteralString = (
    "(setweight(to_tsvector('english'::regconfig, translate(d.file_name, '._', '  ')), 'A')"
    " || setweight(to_tsvector('english'::regconfig, COALESCE(d.extracted_text, '')), 'B'))"
)
SIMPLE: LiteralString = "to_tsvector('simple'::regconfig, d.file_name)"
KEYS: LiteralString = (
    "public.advisoros_tenant_tsvector(d.organization_id, " + ENGLISH + ", " + SIMPLE + ")"
)

# A tenant's key prefix (the organization id in base64), from a `tenant uuid` argument; revision
# 0021's key functions (advisoros_db.migrations.tenant_field_search) prefix theirs the same way.
PREFIX: LiteralString = "rtrim(encode(uuid_send(tenant), 'base64'), '=')"

# Every interpolation below is a module constant, never input: hence the noqa.
TSVECTOR_SQL = f"""
CREATE OR REPLACE FUNCTION advisoros_tenant_tsvector(tenant uuid, english tsvector, simple tsvector)
RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $fn$
  SELECT CASE
    WHEN (SELECT count(*) > {MAX_LEXEMES} OR coalesce(sum(octet_length(w)), 0) > {MAX_LEXEME_BYTES}
          FROM (SELECT lexeme FROM unnest(english) UNION ALL SELECT lexeme FROM unnest(simple)) l(w))
    THEN array_to_tsvector(ARRAY['o' || {PREFIX}, 'a' || {PREFIX}])
    ELSE array_to_tsvector(ARRAY(
      SELECT 'e' || {PREFIX} || lexeme FROM unnest(english)
      UNION ALL
      SELECT 's' || {PREFIX} || lexeme FROM unnest(simple)
      UNION ALL
      SELECT 'a' || {PREFIX}))
  END
$fn$
"""  # noqa: S608

# Quoted lexemes in a tsquery's text form are '...' with quotes doubled: prefix each one. The keys
# carry no positions, so a query with a phrase operator (<->, <N>: "1040-ES", quoted words) asks
# for the tenant's all-documents key instead: every document of the tenant is a candidate and the
# recheck decides (a superset, which rewriting the phrase as AND would not be under a NOT).
TSQUERY_SQL = f"""
CREATE OR REPLACE FUNCTION advisoros_tenant_tsquery(tenant uuid, english tsquery, simple tsquery)
RETURNS tsquery LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $fn$
  SELECT CASE WHEN position('<' IN english::text || simple::text) > 0
    THEN ('''a' || {PREFIX} || '''')::tsquery
    ELSE regexp_replace(english::text, '''((?:[^'']|'''')*)''', '''e' || {PREFIX} || '\\1''', 'g')::tsquery
      || regexp_replace(simple::text, '''((?:[^'']|'''')*)''', '''s' || {PREFIX} || '\\1''', 'g')::tsquery
      || ('''o' || {PREFIX} || '''')::tsquery
  END
$fn$
"""


def guard(what: str) -> str:
    """The start of a tenant search function: the tenant only from the session's setting (an
    error naming it when empty) and `max_rows` bounded."""
    return f"""DECLARE
  tenant uuid := nullif(current_setting('{TENANT_SETTING}', true), '')::uuid;
BEGIN
  IF tenant IS NULL THEN
    RAISE EXCEPTION 'no tenant is set: {what} runs only inside one organization''s '
                    'transaction (the setting {TENANT_SETTING} is empty)'
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'search through advisoros_db.search, or first SELECT '
                   'set_config(''{TENANT_SETTING}'', <organization id>, true)';
  END IF;
  IF max_rows IS NULL OR max_rows < 1 OR max_rows > 1000 THEN
    RAISE EXCEPTION 'max_rows must be between 1 and 1000, not %', max_rows
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
"""


SEARCH_SQL = f"""
CREATE OR REPLACE FUNCTION search_tenant_documents(english tsquery, simple tsquery, max_rows integer)
RETURNS TABLE (id uuid, score real)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
{guard("document search")}  -- EXECUTE plans with this call's values. Whatever the plan, it reads only this tenant: the
  -- organization_id index, or the tenant-keyed GIN index whose keys this tenant's query hits.
  RETURN QUERY EXECUTE $q$
    SELECT d.id,
           ts_rank_cd({ENGLISH}, $2) + ts_rank_cd({SIMPLE}, $3) AS score
    FROM public.documents d
    WHERE d.organization_id = $1
      AND d.deleted_at IS NULL
      AND {KEYS} @@ public.advisoros_tenant_tsquery($1, $2, $3)
      AND ({ENGLISH} @@ $2 OR {SIMPLE} @@ $3)
    ORDER BY score DESC, d.id
    LIMIT $4
  $q$ USING tenant, english, simple, max_rows;
END
$fn$
"""  # noqa: S608

INDEX_SQL: LiteralString = (
    "CREATE INDEX IF NOT EXISTS "
    + INDEX
    + " ON documents USING gin ("
    + KEYS.replace("d.", "").replace("public.", "")
    + ")"
)

_BYPASSES = text("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")


def bypasses_row_security(connection: Connection) -> bool:
    """Whether the migrating role (which will own the search function) reads past FORCE RLS."""
    return bool(connection.execute(_BYPASSES).scalar())


def create_functions_sql() -> list[str]:
    return [
        TSVECTOR_SQL,
        TSQUERY_SQL,
        SEARCH_SQL,
        f"REVOKE ALL ON FUNCTION {SEARCH_FUNCTION} FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION {SEARCH_FUNCTION} TO advisoros_app",
    ]


def drop_functions_sql() -> list[str]:
    return [f"DROP FUNCTION IF EXISTS {f}" for f in (SEARCH_FUNCTION, *HELPERS)]
