"""Revision 0022's work: the catalog's per-column full-text and trigram queries (`tasks.title_search`,
`clients.name_contains`, ...) on tenant-keyed indexes, through two SECURITY DEFINER functions that
take the tenant only from the transaction's setting and return one keyset page of ids.

- `search_tenant_text(field, words, before, max_rows)`: the rows of one column matching a tsquery.
  Clients, tasks and notes look the query up in revision 0015's `idx_<table>_tenant_fts` (their
  stored `search_vector` holds every column searched here); advisor bios, engagement names and
  descriptions and document comments get tenant-keyed indexes of their own, on the same key
  function (`advisoros_tenant_tsvector`, revision 0010): engagements put the name's lexemes in the
  key function's first slot and the description's in the second, so one index serves both.
- `search_tenant_contains(field, pattern, before, max_rows)`: `ILIKE pattern` on a client's business
  name, looked up in `idx_clients_tenant_trgm`: the name's trigrams of letters and digits, each
  prefixed with the organization (`advisoros_tenant_trigrams`).

Why this cannot leak what the catalog's old plain predicates leaked with LEAKPROOF operators:
every index key carries its row's organization, and each lookup is built from the *caller's*
tenant, so the index scan touches only the caller's keys, whose posting lists hold only the
caller's rows. The match itself (the catalog's old predicate, so results are exactly the old
query's) is rechecked on those rows, written as a function call (`ts_match_vq`, `texticlike` on
`name || ''`): the planner can neither match it to an index of all tenants nor estimate it from the
column's statistics of all tenants, so neither the plan nor the buffers of the call depend on
another firm's rows. What the keys cannot decide falls back to the tenant's all-rows key (`'a'`
and the tenant): a tsquery with a negation or a phrase operator (the keys have no positions, and
a key set holding a word says nothing about a column lacking it), a pattern with no run of three
letters or digits. The trigram lookup asks for at most three of the pattern's trigrams (the first,
middle and last), so its work does not grow with the fragment's length.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, LiteralString

from advisoros_db.migrations.tenant_search import PREFIX, guard
from advisoros_db.migrations.tenant_text_search import VECTORS

TEXT_FUNCTION: LiteralString = "search_tenant_text(text, tsquery, uuid, integer)"
CONTAINS_FUNCTION: LiteralString = "search_tenant_contains(text, text, uuid, integer)"
HELPERS: tuple[LiteralString, ...] = (
    "advisoros_tenant_lookup(uuid, text, tsquery)",
    "advisoros_tenant_trigram_lookup(uuid, text)",
    "advisoros_tenant_trigrams(uuid, text)",
)

Slot = Literal["english", "simple"]
"""Which argument of advisoros_tenant_tsvector holds a column's lexemes (keys prefixed `e` or `s`)."""


@dataclass(frozen=True)
class KeyedIndex:
    """A tenant-keyed GIN index: `advisoros_tenant_tsvector(organization_id, english, simple)`,
    each slot a template with `{t}` for the table alias (empty in the index definition)."""

    name: str
    table: LiteralString
    english: LiteralString
    simple: LiteralString
    built_here: bool
    """False for revision 0015's indexes, which this revision reuses and never drops."""

    def keys(self, t: LiteralString = "") -> LiteralString:
        function: LiteralString = "advisoros_tenant_tsvector"
        if t:
            function = "public." + function
        english = self.english.replace("{t}", t)
        simple = self.simple.replace("{t}", t)
        return function + "(" + t + "organization_id, " + english + ", " + simple + ")"


def _vector(config: LiteralString, column: LiteralString) -> LiteralString:
    return "to_tsvector('" + config + "'::regconfig, {t}" + column + ")"


_EMPTY: LiteralString = "''::tsvector"
_STORED: dict[str, KeyedIndex] = {
    v.table: KeyedIndex(
        v.index,
        v.table,
        "{t}search_vector" if v.config == "english" else _EMPTY,
        "{t}search_vector" if v.config == "simple" else _EMPTY,
        built_here=False,
    )
    for v in VECTORS
}
ADVISORS = KeyedIndex(
    "idx_advisor_profiles_tenant_fts",
    "advisor_profiles",
    _vector("english", "bio"),
    _EMPTY,
    built_here=True,
)
ENGAGEMENTS = KeyedIndex(
    "idx_engagements_tenant_fts",
    "engagements",
    _vector("english", "name"),
    _vector("english", "description"),
    built_here=True,
)
COMMENTS = KeyedIndex(
    "idx_document_comments_tenant_fts",
    "document_comments",
    _vector("english", "content"),
    _EMPTY,
    built_here=True,
)
KEYED_INDEXES: tuple[KeyedIndex, ...] = (*_STORED.values(), ADVISORS, ENGAGEMENTS, COMMENTS)


@dataclass(frozen=True)
class TextField:
    """One searchable column: the catalog's old predicate (`config`, `column`), the index whose
    `slot` holds its lexemes."""

    column: LiteralString
    config: Literal["english", "simple"]
    index: KeyedIndex
    slot: Slot

    @property
    def name(self) -> str:
        return f"{self.index.table}.{self.column}"

    def match(self, t: LiteralString = "") -> LiteralString:
        """The catalog's old predicate on the query `$2`, as a function call."""
        return "ts_match_vq(" + _vector(self.config, self.column).replace("{t}", t) + ", $2)"


TEXT_FIELDS: tuple[TextField, ...] = (
    TextField("business_name", "simple", _STORED["clients"], "simple"),
    TextField("legal_name", "simple", _STORED["clients"], "simple"),
    TextField("title", "english", _STORED["tasks"], "english"),
    TextField("description", "english", _STORED["tasks"], "english"),
    TextField("content", "english", _STORED["notes"], "english"),
    TextField("bio", "english", ADVISORS, "english"),
    TextField("name", "english", ENGAGEMENTS, "english"),
    TextField("description", "english", ENGAGEMENTS, "simple"),
    TextField("content", "english", COMMENTS, "english"),
)

TRIGRAM_INDEX: LiteralString = "idx_clients_tenant_trgm"
TRIGRAM_TABLE: LiteralString = "clients"
TRIGRAM_COLUMN: LiteralString = "business_name"
TRIGRAM_KEYS: LiteralString = "advisoros_tenant_trigrams(organization_id, business_name)"
CONTAINS_FIELDS: tuple[str, ...] = (f"{TRIGRAM_TABLE}.{TRIGRAM_COLUMN}",)


def _trigrams(value: LiteralString) -> LiteralString:
    """Each run of letters and digits of lower(value), cut into its trigrams, in order. ILIKE
    compares lower(row) with lower(pattern), so every such trigram of a pattern's literal text
    (wildcards, escapes and other characters end a run) is one of a matching row's."""
    return f"""SELECT 'g' || {PREFIX} || substr(w, i, 3) AS k
    FROM regexp_split_to_table(lower({value}), '[^a-z0-9]+') WITH ORDINALITY r(w, n),
         generate_series(1, length(w) - 2) i
    ORDER BY n, i"""  # noqa: S608


# Every interpolation below is a module constant, never input.
TRIGRAMS_SQL = f"""
CREATE OR REPLACE FUNCTION advisoros_tenant_trigrams(tenant uuid, value text)
RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $fn$
  SELECT ARRAY(SELECT DISTINCT t.k FROM ({_trigrams("value")}) t) || ('a' || {PREFIX})
$fn$
"""  # noqa: S608

# At most three trigrams (first, middle, last): a longer fragment does not read more posting
# lists. None at all: the tenant's all-rows key (every client of the tenant is a candidate).
TRIGRAM_LOOKUP_SQL = f"""
CREATE OR REPLACE FUNCTION advisoros_tenant_trigram_lookup(tenant uuid, pattern text)
RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $fn$
  SELECT CASE WHEN cardinality(g) = 0 THEN ARRAY['a' || {PREFIX}]
    ELSE ARRAY(SELECT DISTINCT g[i] FROM unnest(ARRAY[1, (cardinality(g) + 1) / 2,
                                                      cardinality(g)]) i)
  END
  FROM (SELECT ARRAY({_trigrams("pattern")}) AS g) s
$fn$
"""  # noqa: S608

# A query's lexemes prefixed for one slot (`e` or `s`) and the caller's tenant, as revision 0010's
# advisoros_tenant_tsquery does for both slots at once, ORed with the tenant's overflow key. The
# keys hold which lexemes a row has, not which it lacks nor where: a negation or a phrase asks for
# the tenant's all-rows key instead, and the recheck decides (a tenant-sized candidate set). An
# empty query (stop words only) asks for the overflow key alone: it is never cast from empty text,
# which would raise a NOTICE on every call.
LOOKUP_SQL = f"""
CREATE OR REPLACE FUNCTION advisoros_tenant_lookup(tenant uuid, slot text, words tsquery)
RETURNS tsquery LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $fn$
  SELECT CASE
    WHEN numnode(words) = 0 THEN ('''o' || {PREFIX} || '''')::tsquery
    WHEN words::text ~ '[!<]' THEN ('''a' || {PREFIX} || '''')::tsquery
    ELSE regexp_replace(words::text, '''((?:[^'']|'''')*)''',
                        '''' || slot || {PREFIX} || '\\1''', 'g')::tsquery
      || ('''o' || {PREFIX} || '''')::tsquery
  END
$fn$
"""

_PAGE: LiteralString = "        AND t.id < $3\n      ORDER BY t.id DESC\n      LIMIT $4\n"


def _text_branch(field: TextField) -> str:
    # $1 tenant, $2 the words (a tsquery), $3 before, $4 max_rows.
    slot = "e" if field.slot == "english" else "s"
    return f"""IF field = '{field.name}' THEN
    RETURN QUERY EXECUTE $q$
      SELECT t.id FROM public.{field.index.table} t
      WHERE t.organization_id = $1
        AND {field.index.keys("t.")}
            @@ public.advisoros_tenant_lookup($1, '{slot}', $2)
        AND {field.match("t.")}
{_PAGE}    $q$ USING tenant, words, before, max_rows;
    RETURN;
  END IF;
  """  # noqa: S608


_FIRST_PAGE = "  before := coalesce(before, 'ffffffff-ffff-ffff-ffff-ffffffffffff');\n  "

TEXT_SQL = f"""
CREATE OR REPLACE FUNCTION search_tenant_text(
  field text, words tsquery, before uuid, max_rows integer)
RETURNS SETOF uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER ROWS 50
SET search_path = pg_catalog, pg_temp
AS $fn$
{guard("search")}{_FIRST_PAGE}{"".join(_text_branch(f) for f in TEXT_FIELDS)}RAISE EXCEPTION 'cannot search %: choose one of {", ".join(f.name for f in TEXT_FIELDS)}', field
    USING ERRCODE = 'invalid_parameter_value';
END
$fn$
"""

# `|| ''` keeps the column's statistics (every tenant's names) out of the recheck's estimate.
CONTAINS_SQL = f"""
CREATE OR REPLACE FUNCTION search_tenant_contains(
  field text, pattern text, before uuid, max_rows integer)
RETURNS SETOF uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER ROWS 50
SET search_path = pg_catalog, pg_temp
AS $fn$
{guard("search")}{_FIRST_PAGE}IF (length(pattern) - length(rtrim(pattern, '\\'))) % 2 = 1 THEN
    RAISE EXCEPTION 'LIKE pattern must not end with escape character'
      USING ERRCODE = 'invalid_escape_sequence',
            HINT = 'a literal backslash is written \\\\ in a LIKE pattern';
  END IF;
  IF field = '{CONTAINS_FIELDS[0]}' THEN
    RETURN QUERY EXECUTE $q$
      SELECT t.id FROM public.{TRIGRAM_TABLE} t
      WHERE t.organization_id = $1
        AND public.advisoros_tenant_trigrams(t.organization_id, t.{TRIGRAM_COLUMN})
            @> public.advisoros_tenant_trigram_lookup($1, $2)
        AND texticlike(t.{TRIGRAM_COLUMN} || '', $2)
{_PAGE}    $q$ USING tenant, pattern, before, max_rows;
    RETURN;
  END IF;
  RAISE EXCEPTION 'cannot search %: choose {CONTAINS_FIELDS[0]}', field
    USING ERRCODE = 'invalid_parameter_value';
END
$fn$
"""  # noqa: S608


def index_sql() -> list[tuple[str, str, str]]:
    """(index, table, key expression) of each index this revision builds."""
    built = [(ix.name, ix.table, ix.keys()) for ix in KEYED_INDEXES if ix.built_here]
    return [*built, (TRIGRAM_INDEX, TRIGRAM_TABLE, TRIGRAM_KEYS)]


def create_functions_sql() -> list[str]:
    statements = [TRIGRAMS_SQL, TRIGRAM_LOOKUP_SQL, LOOKUP_SQL, TEXT_SQL, CONTAINS_SQL]
    for function in (TEXT_FUNCTION, CONTAINS_FUNCTION):
        statements += [
            f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC",
            f"GRANT EXECUTE ON FUNCTION {function} TO advisoros_app",
        ]
    return statements


def drop_functions_sql() -> list[str]:
    """The search functions first, then the key functions (the indexes must be gone by then)."""
    return [f"DROP FUNCTION IF EXISTS {f}" for f in (TEXT_FUNCTION, CONTAINS_FUNCTION, *HELPERS)]
