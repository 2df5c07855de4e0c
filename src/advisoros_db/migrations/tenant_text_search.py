"""Revision 0015's full-text work: a stored, weighted `search_vector` on clients, tasks and notes
(the title weighs A, the body B), a tenant-keyed GIN index on each, and
`search_tenant_rows(kind, english, simple, max_rows)`, a SECURITY DEFINER function that searches
one kind inside the transaction's tenant only.

It reuses revision 0010's key functions (advisoros_db.migrations.tenant_search): the index keys
are the vector's lexemes prefixed with the row's organization, and the function builds its lookup
from the *caller's* tenant, so the GIN lookup touches only that tenant's keys and posting lists and
`EXPLAIN (ANALYZE, BUFFERS)` of the call reads the same pages whether or not another firm holds the
word. The match and the rank are computed on the stored vector of the candidate rows, never
recomputed from text. A plain or `btree_gin` composite GIN would not do: the application role
cannot use either under row-level security (`@@` is not LEAKPROOF), and inside a definer function
both intersect posting lists that hold other tenants' rows (the word's list spans all tenants),
which the buffers of the call would count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import LiteralString

from advisoros_db.migrations.tenant_search import TSQUERY_SQL, TSVECTOR_SQL, guard
from advisoros_db.schema import search_vectors

SEARCH_FUNCTION: LiteralString = "search_tenant_rows(text, tsquery, tsquery, integer)"
COLUMN = search_vectors.COLUMN


@dataclass(frozen=True)
class Vector:
    """One table's stored vector: its expression (the generated column's), its configuration
    ('simple' keeps names verbatim, 'english' stems prose) and its tenant-keyed index."""

    table: LiteralString
    expression: LiteralString
    config: search_vectors.Config

    @property
    def index(self) -> str:
        return f"idx_{self.table}_tenant_fts"

    @property
    def keys(self) -> LiteralString:
        """The index expression: the vector in its configuration's slot, an empty one in the other."""
        empty: LiteralString = "''::tsvector"
        english, simple = (COLUMN, empty) if self.config == "english" else (empty, COLUMN)
        return "advisoros_tenant_tsvector(organization_id, " + english + ", " + simple + ")"


VECTORS: tuple[Vector, ...] = tuple(
    Vector(table, expression, config)
    for table, (expression, config) in search_vectors.VECTORS.items()
)


def _branch(vector: Vector) -> LiteralString:
    # $1 tenant, $2 the english query, $3 the simple one, $4 max_rows. Every interpolation is a
    # module constant, never input.
    query: LiteralString = "$2" if vector.config == "english" else "$3"
    keys = vector.keys.replace("organization_id", "t.organization_id").replace(
        COLUMN, "t." + COLUMN
    )
    return (
        "IF kind = '" + vector.table + "' THEN\n"  # noqa: S608
        "    RETURN QUERY EXECUTE $q$\n"
        "      SELECT t.id, ts_rank_cd(t." + COLUMN + ", " + query + ") AS score\n"
        "      FROM public." + vector.table + " t\n"
        "      WHERE t.organization_id = $1 AND t.deleted_at IS NULL\n"
        "        AND public." + keys + "\n"
        "            @@ public.advisoros_tenant_tsquery($1, " + query + ", " + query + ")\n"
        "        AND t." + COLUMN + " @@ " + query + "\n"
        "      ORDER BY score DESC, t.id\n"
        "      LIMIT $4\n"
        "    $q$ USING tenant, english, simple, max_rows;\n"
        "    RETURN;\n"
        "  END IF;\n  "
    )


SEARCH_SQL = f"""
CREATE OR REPLACE FUNCTION search_tenant_rows(
  kind text, english tsquery, simple tsquery, max_rows integer)
RETURNS TABLE (id uuid, score real)
LANGUAGE plpgsql STABLE SECURITY DEFINER ROWS 20
SET search_path = pg_catalog, pg_temp
AS $fn$
{guard("search")}  {"".join(_branch(v) for v in VECTORS)}RAISE EXCEPTION 'cannot search %: choose clients, tasks or notes', kind
    USING ERRCODE = 'invalid_parameter_value';
END
$fn$
"""


def add_column_sql(vector: Vector) -> str:
    return (
        f"ALTER TABLE {vector.table} ADD COLUMN IF NOT EXISTS {COLUMN} tsvector"
        f" GENERATED ALWAYS AS ({vector.expression}) STORED"
    )


def index_sql(vector: Vector) -> str:
    return f"CREATE INDEX IF NOT EXISTS {vector.index} ON {vector.table} USING gin ({vector.keys})"


def create_sql() -> list[str]:
    """Everything, in order; the key functions are 0010's (CREATE OR REPLACE: unchanged)."""
    statements = [TSVECTOR_SQL, TSQUERY_SQL]
    for vector in VECTORS:
        statements += [add_column_sql(vector), index_sql(vector)]
    return [
        *statements,
        SEARCH_SQL,
        f"REVOKE ALL ON FUNCTION {SEARCH_FUNCTION} FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION {SEARCH_FUNCTION} TO advisoros_app",
    ]


def drop_sql() -> list[str]:
    statements = [f"DROP FUNCTION IF EXISTS {SEARCH_FUNCTION}"]
    for vector in VECTORS:
        statements += [
            f"DROP INDEX IF EXISTS {vector.index}",
            f"ALTER TABLE {vector.table} DROP COLUMN IF EXISTS {COLUMN}",
        ]
    return statements
