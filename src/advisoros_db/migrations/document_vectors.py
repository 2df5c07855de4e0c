"""Revision 0021's work: documents get a stored, weighted `search_vector` kept by the database,
a tenant-keyed GIN index on it, and their search functions read it instead of computing each
candidate's vector from its text.

The vector: file name A (dots and underscores split, as before), description B, extracted text C,
all `english`; the extracted text only up to `TEXT_CHARS` characters, so a long OCR result costs a
bounded vector on every write and a bounded vector to rank (the semantic search's chunks cover the
whole text); a huge OCR result can no longer exceed the 1 MB a tsvector holds (only a file name
and a description near their 512 KiB bounds of revision 0007, both of distinct words, still
could: that write fails with PostgreSQL's own error, on the writer's row alone).
`advisoros_document_vector(file_name, description, extracted_text)` is the one
definition: an IMMUTABLE SQL-standard function (parsed when created, so no caller's search_path
can change what it calls, and inlined where it is used).

Why a trigger and not a generated column (what clients, tasks and notes have): the partition
machinery copies documents rows with `INSERT ... SELECT *` (moving default-partition rows into a
new partition, the online conversion's backfill and repair, the 0005 swap), which a generated
column refuses. A plain column is copied verbatim there, and the BEFORE trigger
`documents_search_vector` fills it on every insert and on every update of the text columns (or of
the vector itself: the application cannot store a vector of its own). It fires ALWAYS, also under
`session_replication_role = replica` (the data generator's bulk load, the mirrors), and a row
trigger on the partitioned parent is cloned onto every partition, those `partitions create` makes
later included. The column is filled once by the upgrade in one table rewrite (added as a stored
generated column, whose expression is then dropped: no dead rows, no trigger runs, ACCESS
EXCLUSIVE on documents for the rewrite).

During a conversion's rollback window the plain side (`documents_old`, or the twin
`documents_partitioned` before the swap) gets the same column, trigger and index (its index named
with the `_old`/`_p` suffix the swap renames), and the mirror is re-created with the new column.

Indexes: `idx_documents_tenant_fts` is rebuilt over the stored vector (and the `simple` file-name
vector, as before: revision 0010's keys). Dropped, with nothing the application role could use
them for: revision 0006's all-tenant `idx_documents_search_fts` (an `english` vector computed from
the whole extracted text on every write; RLS keeps it from the application role) and revision
0003's `idx_documents_filename_fts` and `idx_documents_description_fts` (their catalog queries,
`documents.file_name_search` and `documents.description_search`, run through
`search_tenant_document_field` now). Downgrade builds all four again as they were.
"""

from __future__ import annotations

from typing import LiteralString

from psycopg import sql

from advisoros_db.migrations.tenant_search import INDEX, INDEX_SQL, SEARCH_SQL, guard
from advisoros_db.partitioning import ddl, revision_steps
from advisoros_db.partitioning.layout import DOCUMENTS

COLUMN: LiteralString = "search_vector"
# How much of the extracted text the vector holds (SQL text: it is spliced into SQL).
TEXT_CHARS: LiteralString = "20000"
VECTOR_FUNCTION: LiteralString = "advisoros_document_vector(text, text, text)"
TRIGGER_FUNCTION: LiteralString = "advisoros_document_search_vector()"
TRIGGER: LiteralString = "documents_search_vector"
FIELD_FUNCTION: LiteralString = "search_tenant_document_field(text, tsquery, integer)"
FIELDS: tuple[LiteralString, ...] = ("file_name", "description")

VECTOR_SQL: LiteralString = f"""
CREATE OR REPLACE FUNCTION advisoros_document_vector(
  file_name text, description text, extracted_text text)
RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN setweight(to_tsvector('english'::regconfig,
                             translate(COALESCE(file_name, ''), '._', '  ')), 'A')
    || setweight(to_tsvector('english'::regconfig, COALESCE(description, '')), 'B')
    || setweight(to_tsvector('english'::regconfig,
                             "left"(COALESCE(extracted_text, ''), {TEXT_CHARS})), 'C')
"""

# Qualified call: a trigger runs with the writer's search_path.
TRIGGER_FUNCTION_SQL: LiteralString = """
CREATE OR REPLACE FUNCTION advisoros_document_search_vector() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
  NEW.search_vector := public.advisoros_document_vector(
    NEW.file_name, NEW.description, NEW.extracted_text);
  RETURN NEW;
END
$fn$
"""

SIMPLE: LiteralString = "to_tsvector('simple'::regconfig, file_name)"
KEYS: LiteralString = "advisoros_tenant_tsvector(organization_id, " + COLUMN + ", " + SIMPLE + ")"


def _qualified(expression: str) -> str:
    return (
        expression.replace("organization_id", "d.organization_id")
        .replace(COLUMN, "d." + COLUMN)
        .replace("file_name", "d.file_name")
        .replace("advisoros_tenant_tsvector", "public.advisoros_tenant_tsvector")
    )


D_KEYS = _qualified(KEYS)
D_SIMPLE = _qualified(SIMPLE)

# Why `(d.organization_id = $1) IS TRUE` and `SET enable_seqscan = off` (TENANT_ONLY_BY_KEYS): the
# key expression is meant for the index only. Where a word is common the planner would rather read
# the tenant through its organization_id index and evaluate the key expression on every row, which
# rebuilds each row's prefixed lexemes (measured: 223 ms for 'receipt upload' in the plan data's
# busiest firm). Spelled so no B-tree can serve it, and with sequential scans off, the tenant
# filter leaves the GIN lookup of this tenant's keys as the plan, which reads the same rows with
# no key expression evaluated (only a lossy bitmap page would recheck it). The result is the same.
#
# $1 tenant, $2 english query, $3 simple query, $4 max_rows. Match and rank read the stored vector;
# only the file name's short `simple` vector is computed per candidate.
SEARCH_SQL_0021 = f"""
CREATE OR REPLACE FUNCTION search_tenant_documents(english tsquery, simple tsquery, max_rows integer)
RETURNS TABLE (id uuid, score real)
LANGUAGE plpgsql STABLE SECURITY DEFINER ROWS 20
SET search_path = pg_catalog, pg_temp
SET enable_seqscan = off
AS $fn$
{guard("document search")}  -- EXECUTE plans with this call's values; the plan is a lookup in this tenant's keys of the
  -- tenant-keyed GIN index (TENANT_ONLY_BY_KEYS).
  -- The deleted filter stays outside the OFFSET 0 fence: inside, it would let the planner read a
  -- partial index on live documents (every tenant's) instead.
  RETURN QUERY EXECUTE $q$
    SELECT m.id, m.score FROM (
      SELECT d.id, d.deleted_at,
             ts_rank_cd(d.{COLUMN}, $2) + ts_rank_cd({D_SIMPLE}, $3) AS score
      FROM public.documents d
      WHERE (d.organization_id = $1) IS TRUE
        AND {D_KEYS} @@ public.advisoros_tenant_tsquery($1, $2, $3)
        AND (d.{COLUMN} @@ $2 OR {D_SIMPLE} @@ $3)
      OFFSET 0) m
    WHERE m.deleted_at IS NULL
    ORDER BY m.score DESC, m.id
    LIMIT $4
  $q$ USING tenant, english, simple, max_rows;
END
$fn$
"""  # noqa: S608


def _field_branch(field: str, keys_query: str, match: str) -> str:
    return (
        f"IF field = '{field}' THEN\n"  # noqa: S608 (module constants only)
        "    RETURN QUERY EXECUTE $q$\n"
        "      SELECT d.id, d.file_name FROM public.documents d\n"
        "      WHERE (d.organization_id = $1) IS TRUE\n"
        f"        AND {D_KEYS} @@ {keys_query}\n"
        f"        AND {match}\n"
        "      ORDER BY d.id DESC LIMIT $3\n"
        "    $q$ USING tenant, query, max_rows;\n"
        "    RETURN;\n"
        "  END IF;\n  "
    )


# The catalog's per-column document searches (all of the tenant's documents, deleted ones too, as
# the catalog's queries always were), newest first. The file name is matched on its `simple`
# vector (its own keys), the description on the stored vector's B positions (`ts_filter`; a NULL
# description never matched, not even `-word`), looked up in the english keys. An empty half of the
# key query only raises a NOTICE: silenced.
_FILE_NAME = _field_branch(
    "file_name", "public.advisoros_tenant_tsquery($1, ''::tsquery, $2)", D_SIMPLE + " @@ $2"
)
_DESCRIPTION = _field_branch(
    "description",
    "public.advisoros_tenant_tsquery($1, $2, ''::tsquery)",
    "d.description IS NOT NULL AND ts_filter(d." + COLUMN + ", '{b}') @@ $2",
)
FIELD_SQL = f"""
CREATE OR REPLACE FUNCTION search_tenant_document_field(field text, query tsquery, max_rows integer)
RETURNS TABLE (id uuid, file_name text)
LANGUAGE plpgsql STABLE SECURITY DEFINER ROWS 50
SET search_path = pg_catalog, pg_temp
SET enable_seqscan = off
SET client_min_messages = warning
AS $fn$
{guard("document search")}  {_FILE_NAME}{_DESCRIPTION}RAISE EXCEPTION 'cannot search documents by %: choose file_name or description', field
    USING ERRCODE = 'invalid_parameter_value';
END
$fn$
"""

# Frozen definitions of what the upgrade drops, for the downgrade: revision 0006's index and
# revision 0003's two (0010's is tenant_search.INDEX_SQL).
DROPPED: tuple[tuple[LiteralString, LiteralString], ...] = (
    (
        "idx_documents_search_fts",
        "USING gin ((setweight(to_tsvector('english'::regconfig, translate(file_name, '._', '  '))"
        ", 'A') || setweight(to_tsvector('english'::regconfig, COALESCE(extracted_text, '')), 'B')))",
    ),
    ("idx_documents_filename_fts", "USING gin (to_tsvector('simple'::regconfig, file_name))"),
    ("idx_documents_description_fts", "USING gin (to_tsvector('english'::regconfig, description))"),
)


def sides(conn: ddl.Conn) -> list[tuple[str, str]]:
    """(table, index-name suffix) of documents and, in a conversion, its plain copy or twin: each
    may become the live table, so each carries the column, the trigger and the index."""
    named = (
        (DOCUMENTS.table, ""),
        (DOCUMENTS.old_name, "_old"),
        (DOCUMENTS.partitioned_name, "_p"),
    )
    return [(table, suffix) for table, suffix in named if ddl.exists(conn, table)]


def _index(conn: ddl.Conn, name: str, table: str, suffix: str, definition: str) -> None:
    conn.execute(
        sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ").format(
            sql.Identifier(ddl.short(name, suffix)), sql.Identifier(table)
        )
        + ddl.deparsed(definition)
    )


def _drop_index(conn: ddl.Conn, name: str, suffix: str) -> None:
    conn.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(sql.Identifier(ddl.short(name, suffix))))


def install(conn: ddl.Conn) -> None:
    """The upgrade, on the migration's connection and in its transaction."""
    conn.execute(ddl.deparsed(VECTOR_SQL))
    conn.execute(ddl.deparsed(TRIGGER_FUNCTION_SQL))
    for table, suffix in sides(conn):
        t, column = sql.Identifier(table), sql.Identifier(COLUMN)
        conn.execute(
            sql.SQL(
                "ALTER TABLE {} ADD COLUMN {} tsvector GENERATED ALWAYS AS"
                " (public.advisoros_document_vector(file_name, description, extracted_text))"
                " STORED"
            ).format(t, column)
        )
        conn.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN {} DROP EXPRESSION").format(t, column))
        conn.execute(
            sql.SQL(
                "CREATE TRIGGER {} BEFORE INSERT OR UPDATE OF file_name, description,"
                " extracted_text, {} ON {} FOR EACH ROW EXECUTE FUNCTION {}()"
            ).format(
                sql.Identifier(TRIGGER),
                column,
                t,
                sql.Identifier(TRIGGER_FUNCTION.removesuffix("()")),
            )
        )
        conn.execute(
            sql.SQL("ALTER TABLE {} ENABLE ALWAYS TRIGGER {}").format(t, sql.Identifier(TRIGGER))
        )
        for name, _definition in ((INDEX, ""), *DROPPED):
            _drop_index(conn, name, suffix)
        _index(conn, INDEX, table, suffix, "USING gin (" + KEYS + ")")
    revision_steps.refresh_mirror(conn, DOCUMENTS.table)
    for statement in (
        SEARCH_SQL_0021,
        FIELD_SQL,
        f"REVOKE ALL ON FUNCTION {FIELD_FUNCTION} FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION {FIELD_FUNCTION} TO advisoros_app",
    ):
        conn.execute(ddl.deparsed(statement))


def uninstall(conn: ddl.Conn) -> None:
    """The downgrade: revision 0010's search function and index, 0006's and 0003's indexes."""
    conn.execute(ddl.deparsed(f"DROP FUNCTION IF EXISTS {FIELD_FUNCTION}"))
    conn.execute(ddl.deparsed(SEARCH_SQL))  # 0010's body (and its default ROWS)
    old_keys = INDEX_SQL.split(" USING ", 1)[1]
    for table, suffix in sides(conn):
        t = sql.Identifier(table)
        _drop_index(conn, INDEX, suffix)
        conn.execute(sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(sql.Identifier(TRIGGER), t))
        conn.execute(
            sql.SQL("ALTER TABLE {} DROP COLUMN IF EXISTS {}").format(t, sql.Identifier(COLUMN))
        )
        if not suffix:  # 0010 built its index on documents only; its downgrade drops only that
            _index(conn, INDEX, table, suffix, "USING " + old_keys)
        for name, definition in DROPPED:
            _index(conn, name, table, suffix, definition)
    revision_steps.refresh_mirror(conn, DOCUMENTS.table)
    conn.execute(ddl.deparsed(f"DROP FUNCTION IF EXISTS {TRIGGER_FUNCTION}"))
    conn.execute(ddl.deparsed(f"DROP FUNCTION IF EXISTS {VECTOR_FUNCTION}"))
