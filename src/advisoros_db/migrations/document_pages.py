"""Revision 0024's work: the catalog's per-column document searches return one keyset page.

`documents.file_name_search` and `documents.description_search` called
`search_tenant_document_field(field, query, max_rows)` for up to 1,000 rows with no `before`:
for a word in 7 % of a large firm's descriptions the 1,000 newest matches lie among some 15,000
documents, which neither the walk nor the index reach without touching thousands of rows
(docs/search.md, revision 0023). Every other per-column search returns a page of 50 ids below
`before`, newest first; `search_tenant_document_field(field, query, before, max_rows)` does the
same for documents, with the same guard (the tenant only from the session's setting, `max_rows`
between 1 and 1000), the same match expressions as revision 0021's function (the file name's
`simple` vector; the stored vector's B positions for a non-NULL description) and the same rows
(every document of the tenant, deleted ones too).

How a page is found, in static statements (one generic plan per session, as revision 0023 made
of the three-argument function):

1. `edge`: the id of the caller's `walk`-th newest document below `before`, read on the
   tenant-leading B-tree `uq_documents_organization_id_id (organization_id, id, tax_year)`; each
   tax-year partition's index is ordered by id inside the tenant, so a Merge Append of the
   partitions walks the firm newest first. `walk` is `WALK_PER_ROW` rows per row asked for (up to
   `WALK_MAX`); NULL for a negation or a phrase, whose index lookup is the tenant's all-rows key
   (every document a candidate): then there is no edge and the walk alone answers.
2. The matches among the documents from `before` down to `edge`, newest first, at most
   `max_rows`: the same walk, with the match rechecked per row. If they are some but too few, and
   at their rate the page would fill within half of `WALK_MAX` documents (a margin: at 1 % a walk
   of 5,000 fills a page of 50 only half the time, then paying the lookup too, and the catalog's
   plan test keeps its 1 % sample on the index), the walk goes on once more
   (steps 1 and 2 below the first `edge`, up to `WALK_MAX` documents in all): a word in 2-3 % of
   the descriptions then costs a longer walk instead of a lookup of all its matches.
3. Only if the page is not full and the walk stopped at `edge`: the rest of the page, below
   `edge`, from the tenant-keyed GIN index (the caller's keys, as revision 0021's lookup). The
   walk's rows are kept, not dropped (unlike `search_tenant_text`'s walk): the page is the walk's
   matches followed by the lookup's, both in id order, split at `edge`, which is the plain page.

The lookup spells its tenant filter and its id bound with `IS TRUE`, so no B-tree can serve them
(PostgreSQL 18's skip scan could otherwise read other tenants' entries of the tenant-leading
B-tree for `id < edge`); with sequential scans off, the GIN lookup of the caller's keys is the
plan (document_vectors.TENANT_ONLY_BY_KEYS explains the tenant filter).

Why this leaks nothing revision 0021's function did not: the walk reads a range of the caller's
organization in a B-tree that the application's own queries read under row-level security; the
edge and the page's split depend only on the caller's rows; the lookup reads only the caller's
keys; a generic plan is made without the caller's words or ids.

The three-argument function stays as revision 0023 left it (callers outside the catalog).
"""

from __future__ import annotations

from typing import LiteralString

from advisoros_db.migrations import document_vectors
from advisoros_db.migrations.tenant_search import guard

WALK_PER_ROW = 20
WALK_MAX = 5000
PAGE_FUNCTION: LiteralString = "search_tenant_document_field(text, tsquery, uuid, integer)"

_D_KEYS = document_vectors.D_KEYS
_LAST = "ffffffff-ffff-ffff-ffff-ffffffffffff"
_FIRST = "00000000-0000-0000-0000-000000000000"


def _branch(field: str, keys_query: str, match: str) -> str:
    # The walk reads `walk` documents below `top` (down to `edge`), adding their matches to the
    # page; once more, up to WALK_MAX documents in all, if the matches so far promise a full page
    # there; the lookup adds the rest of the page below `edge`.
    return f"""IF field = '{field}' THEN
    LOOP
      IF walk IS NOT NULL THEN
        edge := coalesce((SELECT d.id FROM public.documents d
                          WHERE d.organization_id = tenant AND d.id < top
                          ORDER BY d.id DESC OFFSET walk - 1 LIMIT 1), '{_FIRST}');
      END IF;
      RETURN QUERY
        SELECT d.id, d.file_name FROM public.documents d
        WHERE d.organization_id = tenant AND d.id < top AND d.id >= edge
          AND {match}
        ORDER BY d.id DESC LIMIT max_rows - walked;
      GET DIAGNOSTICS more = ROW_COUNT;
      walked := walked + more;
      seen := seen + walk;
      EXIT WHEN walked >= max_rows OR edge = '{_FIRST}' OR walked = 0 OR seen >= {WALK_MAX}
             OR seen * max_rows * 2 > walked * {WALK_MAX};
      top := edge;
      walk := {WALK_MAX} - seen;
    END LOOP;
    IF walked < max_rows AND edge > '{_FIRST}' THEN
      RETURN QUERY
        SELECT d.id, d.file_name FROM public.documents d
        WHERE (d.organization_id = tenant) IS TRUE
          AND {_D_KEYS} @@ {keys_query}
          AND {match}
          AND (d.id < edge) IS TRUE
        ORDER BY d.id DESC LIMIT max_rows - walked;
    END IF;
    RETURN;
  END IF;
  """  # noqa: S608 (module constants only)


# `walk`: how many of the caller's documents to read next (NULL: all, and no lookup); `top`: the
# walk's upper bound (exclusive); `edge`: the oldest document walked; `seen`: documents walked;
# `walked`: matches they gave; `more`: matches of the last step.
_GUARD = guard("document search").replace(
    "BEGIN",
    "  walk integer;\n  top uuid;\n  edge uuid;\n  seen integer := 0;\n"
    "  walked bigint := 0;\n  more bigint;\nBEGIN",
    1,
)

PAGE_SQL = f"""
CREATE OR REPLACE FUNCTION search_tenant_document_field(
  field text, query tsquery, before uuid, max_rows integer)
RETURNS TABLE (id uuid, file_name text)
LANGUAGE plpgsql STABLE SECURITY DEFINER ROWS 50
SET search_path = pg_catalog, pg_temp
SET enable_seqscan = off
SET client_min_messages = warning
SET plan_cache_mode = force_generic_plan
AS $fn$
#variable_conflict use_column
{_GUARD}  before := coalesce(before, '{_LAST}');
  walk := CASE WHEN query::text ~ '[!<]' THEN NULL
               ELSE least(max_rows * {WALK_PER_ROW}, {WALK_MAX}) END;
  top := before;
  edge := '{_FIRST}';
  {
    _branch(
        "file_name",
        "public.advisoros_tenant_tsquery(tenant, ''::tsquery, query)",
        document_vectors.D_SIMPLE + " @@ query",
    )
}{
    _branch(
        "description",
        "public.advisoros_tenant_tsquery(tenant, query, ''::tsquery)",
        "d.description IS NOT NULL AND ts_filter(d."
        + document_vectors.COLUMN
        + ", '{b}') @@ query",
    )
}RAISE EXCEPTION 'cannot search documents by %: choose file_name or description', field
    USING ERRCODE = 'invalid_parameter_value';
END
$fn$
"""


def upgrade_sql() -> list[str]:
    return [
        PAGE_SQL,
        f"REVOKE ALL ON FUNCTION {PAGE_FUNCTION} FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION {PAGE_FUNCTION} TO advisoros_app",
    ]


def downgrade_sql() -> list[str]:
    """Revision 0023's state: the three-argument function only (unchanged by the upgrade)."""
    return [f"DROP FUNCTION IF EXISTS {PAGE_FUNCTION}"]
