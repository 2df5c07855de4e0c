"""Revision 0023's work: the tenant search functions stop paying per match where they need not.

Measured before (EXPLAIN (ANALYZE, BUFFERS) on a firm of 75,000 tasks, 25,000 notes and 50,000
documents, docs/search.md): a page of 50 `tasks.title` matches for 'reconcile payroll' fetched
2,518 candidates from the tenant-keyed index and parsed each one's title again
(`to_tsvector('english', title)`, about 14 µs a row against about 1.4 µs to filter the stored
vector); the ranked document search for 'tax' computed `to_tsvector('simple', file_name)` for
each of its 34,366 matches to rank the file name, two thirds of its time.

`search_tenant_text(field, words, before, max_rows)`, same signature and answers:

- Columns held in a stored, weighted `search_vector` (clients' business and legal names, tasks'
  titles and descriptions, notes' content: revision 0015, title A, body B) are rechecked on that
  vector filtered to the column's weight (`ts_filter`) instead of parsing the column again. The A
  column comes first in the concatenation, so the filtered vector is the column's own vector with
  weight A: same lexemes, same positions; any query without a weight restriction matches them
  alike, phrases included. The B column's positions are shifted and PostgreSQL's `||` stops adding
  a lexeme's positions once that lexeme reached position 16,383 on the left (or 256 positions):
  its lexemes are all there, so a query with no phrase operator and no weight matches alike,
  unless the same row's A column is long enough for that (`SHORT_TITLE` bytes or more: such a row
  is parsed as before; tests/search/test_walked_search.py builds one). A NULL column never matched
  (`to_tsvector(NULL)` is NULL): it still does not. Weighted queries keep the parsed recheck; a
  phrase on a B column is parsed only on rows whose filtered vector holds all its lexemes (when
  the query has no negation and no OR, which makes that a necessary condition), else on every
  row it reads.
- Before the index lookup, the caller's newest rows below `before` are walked on the tenant-leading
  B-tree `(organization_id, id)`, at most `WALK_PER_ROW` rows per row asked for (up to
  `WALK_MAX`): when the page fills there, it is the answer (the first `max_rows` matches in id
  order are the page whichever way they were found); when it does not, the walk's result is
  dropped and the index lookup answers as before. A common word fills the page after a few dozen
  rows; a rare one costs the bounded walk on top of the lookup. A negation or a phrase (whose
  lookup is the tenant's all-rows key, every row of the firm a candidate) is walked without a
  bound, on every column, and the walk is the answer: reading the firm newest first and stopping
  at a full page never reads more than the lookup would. Otherwise columns without a stored vector
  (advisor bios, engagements, comments: small per firm, rechecked by parsing) are not walked, and
  neither are weighted queries.

`search_tenant_documents(english, simple, max_rows)`, same answers: the file name's `simple`
rank is computed only for documents whose file name holds one of the simple query's lexemes,
found in the same tenant-keyed index (its `s` keys, and the overflow key): for any other document
`ts_rank_cd` is 0 (it finds no query lexeme in the vector), so the sum is the stored vector's rank
alone. Every match is still ranked on the stored vector: that is what bounds a common word
(docs/search.md).

`search_tenant_document_field(field, query, max_rows)`, same answers: its statements are static
instead of EXECUTEd, under `plan_cache_mode = force_generic_plan`, so a session plans the twelve
tax-year partitions once instead of on every call.

Why this leaks nothing the 0021/0022 functions did not: the walk reads the caller's rows only,
by a range of the caller's organization in a B-tree that the application's own queries read under
row-level security; whether it fills the page depends only on the caller's rows; the added
lookup reads only the caller's `s` and `o` keys; a generic plan is made without the caller's
words at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import LiteralString

from advisoros_db.migrations import document_vectors, tenant_field_search
from advisoros_db.migrations.tenant_field_search import TEXT_FIELDS, TextField
from advisoros_db.migrations.tenant_search import PREFIX, guard
from advisoros_db.schema.search_vectors import VECTORS

WALK_PER_ROW = 20
WALK_MAX = 5000
SHORT_TITLE = 256
"""Bytes of a stored vector's A column below which its B column's lexemes are all in the vector:
each position needs a token of its own, at least two bytes apart, so such a column holds under
256 positions of any lexeme and never reaches position 16,383."""

FILE_NAME_LOOKUP: LiteralString = "advisoros_tenant_file_name_lookup(uuid, tsquery)"

# (A column, B column) of each stored vector, from revision 0015's expressions.
_WEIGHTED: dict[str, tuple[str, str]] = {
    table: (expression.split("COALESCE(", 2)[1].split(",", 1)[0],
            expression.split("COALESCE(", 2)[2].split(",", 1)[0])
    for table, (expression, _config) in VECTORS.items()
}  # fmt: skip


def stored_weight(field: TextField) -> str | None:
    """'a' or 'b': the weight of the field's column in its table's stored vector, if it has one
    in the field's own configuration."""
    columns = _WEIGHTED.get(field.index.table)
    if columns is None or VECTORS[field.index.table][1] != field.config:
        return None
    return "a" if field.column == columns[0] else "b" if field.column == columns[1] else None


def fast_match(field: TextField, t: LiteralString, query: str = "$2") -> str:
    """The field's predicate on `query` read from the stored vector (exact for queries without a
    weight, and for a B column without a phrase either: the module's docstring)."""
    weight = stored_weight(field)
    assert weight is not None
    filtered = f"ts_match_vq(ts_filter({t}search_vector, '{{{weight}}}'), {query})"
    column = f"{t}{field.column}"
    if weight == "a":
        return f"{column} IS NOT NULL AND {filtered}"
    title = _WEIGHTED[field.index.table][0]
    return (
        f"{column} IS NOT NULL AND CASE WHEN octet_length({t}{title}) < {SHORT_TITLE}"
        f" THEN {filtered} ELSE {field.match(t).replace('$2', query)} END"
    )


def _walk(field: TextField, match: str) -> str:
    # $1 tenant, $2 words, $3 before, $4 max_rows, $5 how many rows to walk (NULL: all), $6 the
    # words' lexemes ANDed (`loose`).
    # The alias `w` names the walk (the lookup's own query reads `t`).
    return f"""EXECUTE $q$
      SELECT ARRAY(
        SELECT w.id FROM (
          SELECT w.* FROM public.{field.index.table} w
          WHERE w.organization_id = $1 AND w.id < $3
          ORDER BY w.id DESC LIMIT $5) w
        WHERE {match}
        ORDER BY w.id DESC LIMIT $4)
    $q$ INTO hits USING tenant, words, before, max_rows, walk, loose;"""  # noqa: S608


def _lookup(field: TextField, match: str) -> str:
    slot = "e" if field.slot == "english" else "s"
    return f"""RETURN QUERY EXECUTE $q$
      SELECT t.id FROM public.{field.index.table} t
      WHERE t.organization_id = $1
        AND {field.index.keys("t.")}
            @@ public.advisoros_tenant_lookup($1, '{slot}', $2)
        AND {match}
        AND t.id < $3
      ORDER BY t.id DESC
      LIMIT $4
    $q$ USING tenant, words, before, max_rows;"""  # noqa: S608


def _either(field: TextField, build: Callable[[TextField, str], str], t: LiteralString) -> str:
    """`build` with the stored-vector predicate where the query allows it, else the parsed one.
    A phrase on a B column, walked, is parsed only where the stored vector holds all its lexemes
    (`loose`: a necessary condition when the query has no negation and no OR; CASE, so the
    planner cannot put the parse first)."""
    weight = stored_weight(field)
    if weight is None:
        return build(field, field.match(t))
    if weight == "a":
        return f"""IF NOT weighted THEN
      {build(field, fast_match(field, t))}
    ELSE
      {build(field, field.match(t))}
    END IF;"""
    prefiltered = ""
    if build is _walk:
        prefiltered = f"""
    ELSIF loose IS NOT NULL THEN
      {build(field, f"CASE WHEN {fast_match(field, t, '$6')} THEN {field.match(t)} ELSE false END")}"""
    return f"""IF NOT weighted AND NOT phrase THEN
      {build(field, fast_match(field, t))}{prefiltered}
    ELSE
      {build(field, field.match(t))}
    END IF;"""


def _branch(field: TextField) -> str:
    # Only columns with a stored vector are walked with a bound; any column is walked without
    # one where the lookup would read every row of the firm anyway.
    bounded = "walk IS NULL OR walk > 0" if stored_weight(field) else "walk IS NULL"
    return f"""IF field = '{field.name}' THEN
    hits := '{{}}';
    IF {bounded} THEN
      {_either(field, _walk, "w.")}
    END IF;
    IF walk IS NULL OR cardinality(hits) = max_rows THEN
      RETURN QUERY SELECT unnest(hits);
      RETURN;
    END IF;
    {_either(field, _lookup, "t.")}
    RETURN;
  END IF;
  """


# `weighted`: a weight restriction in the query's text ('x':A, 'x':*AB); `phrase`: a phrase
# operator (a lexeme that merely contains such characters only takes the parsed recheck).
# `walk`: NULL (no bound, and the walk is the answer) where the lookup would be the tenant's
# all-rows key (a negation or a phrase, as advisoros_tenant_lookup decides), 0 for a weighted
# query, else WALK_PER_ROW per row asked for. Set after the guard has checked max_rows.
_DECLARE = """  weighted boolean;
  phrase boolean;
  loose tsquery;
  walk integer;
  hits uuid[];
"""
_SETUP = f"""  weighted := words::text ~ ':[*]?[ABCD]';
  phrase := words::text ~ '<';
  walk := CASE
    WHEN weighted THEN 0
    WHEN words::text ~ '[!<]' THEN NULL
    ELSE least(max_rows * {WALK_PER_ROW}, {WALK_MAX}) END;
  IF phrase AND NOT weighted AND words::text !~ '[!|]' THEN
    loose := (SELECT string_agg('''' || m[1] || '''' || CASE WHEN m[2] LIKE '%*%'
                                THEN ':*' ELSE '' END, ' & ')
              FROM regexp_matches(words::text, '''((?:[^'']|'''')*)''(:[*A-D]*)?', 'g') m)::tsquery;
  END IF;
"""  # noqa: S608 (module constants only)

TEXT_SQL = f"""
CREATE OR REPLACE FUNCTION search_tenant_text(
  field text, words tsquery, before uuid, max_rows integer)
RETURNS SETOF uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER ROWS 50
SET search_path = pg_catalog, pg_temp
AS $fn$
{guard("search").replace("BEGIN", _DECLARE + "BEGIN", 1)}{_SETUP}  before := coalesce(before, 'ffffffff-ffff-ffff-ffff-ffffffffffff');
  {"".join(_branch(f) for f in TEXT_FIELDS)}RAISE EXCEPTION 'cannot search %: choose one of {", ".join(f.name for f in TEXT_FIELDS)}', field
    USING ERRCODE = 'invalid_parameter_value';
END
$fn$
"""

# Every lexeme of the simple query (prefix marks kept, weights dropped: a superset), ORed, as
# the caller's `s` keys, with the tenant's overflow key: the documents whose file name can hold a
# query lexeme. No lexeme at all: the overflow key alone.
FILE_NAME_LOOKUP_SQL = f"""
CREATE OR REPLACE FUNCTION advisoros_tenant_file_name_lookup(tenant uuid, simple tsquery)
RETURNS tsquery LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $fn$
  SELECT (coalesce(
    (SELECT string_agg('''s' || {PREFIX} || m[1] || ''''
                       || CASE WHEN m[2] LIKE '%*%' THEN ':*' ELSE '' END, ' | ')
     FROM regexp_matches(simple::text, '''((?:[^'']|'''')*)''(:[*A-D]*)?', 'g') m)
    || ' | ', '') || '''o' || {PREFIX} || '''')::tsquery
$fn$
"""  # noqa: S608 (module constants only)

_D_KEYS = document_vectors.D_KEYS
_D_SIMPLE = document_vectors.D_SIMPLE
_COLUMN = document_vectors.COLUMN

# As revision 0021's search_tenant_documents, with the file name's rank joined from the documents
# whose file name can hold a query lexeme. `m.score + coalesce(f.score, 0)` is the same real
# addition as before (0 where ts_rank_cd would have returned 0).
SEARCH_SQL = f"""
CREATE OR REPLACE FUNCTION search_tenant_documents(english tsquery, simple tsquery, max_rows integer)
RETURNS TABLE (id uuid, score real)
LANGUAGE plpgsql STABLE SECURITY DEFINER ROWS 20
SET search_path = pg_catalog, pg_temp
SET enable_seqscan = off
AS $fn$
{guard("document search")}  -- EXECUTE plans with this call's values; both reads are lookups in this tenant's keys of the
  -- tenant-keyed GIN index (document_vectors.TENANT_ONLY_BY_KEYS).
  RETURN QUERY EXECUTE $q$
    SELECT m.id, m.score + coalesce(f.score, 0) AS score FROM (
      SELECT d.id, d.deleted_at, ts_rank_cd(d.{_COLUMN}, $2) AS score
      FROM public.documents d
      WHERE (d.organization_id = $1) IS TRUE
        AND {_D_KEYS} @@ public.advisoros_tenant_tsquery($1, $2, $3)
        AND (d.{_COLUMN} @@ $2 OR {_D_SIMPLE} @@ $3)
      OFFSET 0) m
    LEFT JOIN (
      SELECT d.id, ts_rank_cd({_D_SIMPLE}, $3) AS score
      FROM public.documents d
      WHERE (d.organization_id = $1) IS TRUE
        AND {_D_KEYS} @@ public.advisoros_tenant_file_name_lookup($1, $3)
      OFFSET 0) f ON f.id = m.id
    WHERE m.deleted_at IS NULL
    ORDER BY 2 DESC, m.id
    LIMIT $4
  $q$ USING tenant, english, simple, max_rows;
END
$fn$
"""  # noqa: S608


def _field_branch(field: str, keys_query: str, match: str) -> str:
    return (
        f"IF field = '{field}' THEN\n"  # noqa: S608 (module constants only)
        "    RETURN QUERY\n"
        "      SELECT d.id, d.file_name FROM public.documents d\n"
        "      WHERE (d.organization_id = tenant) IS TRUE\n"
        f"        AND {_D_KEYS} @@ {keys_query}\n"
        f"        AND {match}\n"
        "      ORDER BY d.id DESC LIMIT max_rows;\n"
        "    RETURN;\n"
        "  END IF;\n  "
    )


# Revision 0021's search_tenant_document_field, its statements static instead of EXECUTEd: a
# statement of a plpgsql function keeps its plan for the session, and `force_generic_plan` makes
# that one plan for any words (the same lookup of the caller's keys in each tax-year partition's
# tenant-keyed index: the plan reads nothing the key query does not choose). EXECUTE planned the
# twelve partitions again on every call: 11-19 ms of planning here, more than the lookup itself
# for a rare word.
FIELD_SQL = f"""
CREATE OR REPLACE FUNCTION search_tenant_document_field(field text, query tsquery, max_rows integer)
RETURNS TABLE (id uuid, file_name text)
LANGUAGE plpgsql STABLE SECURITY DEFINER ROWS 50
SET search_path = pg_catalog, pg_temp
SET enable_seqscan = off
SET client_min_messages = warning
SET plan_cache_mode = force_generic_plan
AS $fn$
#variable_conflict use_column
{guard("document search")}  {
    _field_branch(
        "file_name",
        "public.advisoros_tenant_tsquery(tenant, ''::tsquery, query)",
        _D_SIMPLE + " @@ query",
    )
}{
    _field_branch(
        "description",
        "public.advisoros_tenant_tsquery(tenant, query, ''::tsquery)",
        "d.description IS NOT NULL AND ts_filter(d." + _COLUMN + ", '{b}') @@ query",
    )
}RAISE EXCEPTION 'cannot search documents by %: choose file_name or description', field
    USING ERRCODE = 'invalid_parameter_value';
END
$fn$
"""


def upgrade_sql() -> list[str]:
    return [
        TEXT_SQL,
        FILE_NAME_LOOKUP_SQL,
        SEARCH_SQL,
        FIELD_SQL,
        f"REVOKE ALL ON FUNCTION {FILE_NAME_LOOKUP} FROM PUBLIC",
    ]


def downgrade_sql() -> list[str]:
    """Revisions 0021's and 0022's bodies, exactly as they created them."""
    return [
        tenant_field_search.TEXT_SQL,
        document_vectors.SEARCH_SQL_0021,
        document_vectors.FIELD_SQL,
        f"DROP FUNCTION IF EXISTS {FILE_NAME_LOOKUP}",
    ]
