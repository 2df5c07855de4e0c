"""Document full-text cases as the application runs them, next to what an untuned schema runs.

The optimized side searches through revision 0021's SECURITY DEFINER functions on the
tenant-keyed index of the stored vector: ranked search is `search_text`'s own statement
(`search_tenant_documents`, then a snippet for each of the top 20 only), the catalog's per-column
searches are `search_tenant_document_field`. The naive side computes the same answers from each of
the tenant's documents' text. The two sides run different SQL, so each case also compares their
answers (ids, scores and snippets, in order) and records whether they are identical."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, LiteralString

import psycopg

from advisoros_db.bench import plans
from advisoros_db.bench.cases import (
    Budget,
    CaseResult,
    CustomCase,
    Sides,
    scoped,
    session_facts,
    time_query,
)
from advisoros_db.bench.sampling import Sample
from advisoros_db.errors import AdvisorOSError
from advisoros_db.migrations import document_vectors, tenant_search
from advisoros_db.schema import catalog
from advisoros_db.search import fulltext
from advisoros_db.tenancy import owner_maintenance

TOP = 20
INDEX = tenant_search.INDEX

# The stored vector's own definition computed per row, and the same snippet as search_text.
_SNIPPET = (
    fulltext.DOCUMENT_SNIPPET.replace("description", "d.description")
    .replace("extracted_text", "d.extracted_text")
    .replace("file_name", "d.file_name")
)
NAIVE_RANKED: LiteralString = (
    "SELECT d.id, d.file_name, ts_rank_cd(v.vector, q.english)"  # noqa: S608 (constants only)
    " + ts_rank_cd(to_tsvector('simple'::regconfig, d.file_name), q.simple) AS score,"
    " ts_headline('english'::regconfig, " + _SNIPPET + ", q.english || q.simple, "
    "'" + fulltext.HEADLINE + "')"
    " FROM documents d"
    " CROSS JOIN LATERAL (SELECT public.advisoros_document_vector(d.file_name, d.description,"
    " d.extracted_text)) v(vector)"
    " CROSS JOIN (SELECT websearch_to_tsquery('english'::regconfig, %(q)s),"
    " websearch_to_tsquery('simple'::regconfig, %(q)s)) q(english, simple)"
    " WHERE d.organization_id = %(org)s AND d.deleted_at IS NULL"
    " AND (v.vector @@ q.english OR to_tsvector('simple'::regconfig, d.file_name) @@ q.simple)"
    " ORDER BY score DESC, d.id LIMIT %(k)s"
)

# How many of the tenant's documents a ranked search scores before it knows its top 20: every
# match of the stored vector or the file name's simple vector (`search_tenant_documents` scores
# inside its fence and drops deleted documents after it, so they are counted too).
RANKED_MATCHES: LiteralString = (
    "SELECT count(*) FROM documents d"  # noqa: S608 (constants only)
    " CROSS JOIN (SELECT websearch_to_tsquery('english'::regconfig, %(q)s),"
    " websearch_to_tsquery('simple'::regconfig, %(q)s)) q(english, simple)"
    " WHERE d.organization_id = %(org)s"
    " AND (d." + document_vectors.COLUMN + " @@ q.english"
    " OR to_tsvector('simple'::regconfig, d.file_name) @@ q.simple)"
)

# What the catalog's per-column document searches were before revision 0021, as the page the
# function answers (revision 0024: 50 below `before`, newest first).
NAIVE_FIELDS: dict[str, LiteralString] = {
    "documents.file_name_search": (
        "SELECT id, file_name FROM documents WHERE organization_id = %(organization_id)s"
        " AND to_tsvector('simple'::regconfig, file_name)"
        " @@ plainto_tsquery('simple'::regconfig, %(q)s)"
        " AND id < %(before)s ORDER BY id DESC LIMIT 50"
    ),
    "documents.description_search": (
        "SELECT id, file_name FROM documents WHERE organization_id = %(organization_id)s"
        " AND to_tsvector('english'::regconfig, description)"
        " @@ websearch_to_tsquery('english'::regconfig, %(q)s)"
        " AND id < %(before)s ORDER BY id DESC LIMIT 50"
    ),
}


_INDEX_NAME = re.compile(
    r"(?:Index Scan (?:Backward )?using|Index Only Scan using|Index Scan on) (\S+)"
)


def inner_indexes(
    owner: psycopg.Connection[Any], query: str, params: Mapping[str, Any], tenant: Any
) -> list[str] | None:
    """The indexes the statements inside a search function's call used (auto_explain of nested
    statements, as notices), by their partitioned parent's name; None where the owner may not
    load auto_explain (an external server's ordinary owner)."""
    notices: list[str] = []

    def keep(diag: psycopg.errors.Diagnostic) -> None:
        notices.append(diag.message_primary or "")

    owner.add_notice_handler(keep)
    try:
        with scoped(owner, tenant):
            owner.execute("LOAD 'auto_explain'")
            for setting, value in (
                ("auto_explain.log_min_duration", "0"),
                ("auto_explain.log_nested_statements", "on"),
                ("auto_explain.log_level", "warning"),
            ):
                owner.execute("SELECT set_config(%s, %s, true)", (setting, value))
            owner.execute(query, params).fetchall()
    except (psycopg.Error, AdvisorOSError):
        return None
    finally:
        owner.remove_notice_handler(keep)
    return plans.roots(owner, sorted({m for n in notices for m in _INDEX_NAME.findall(n)}))


@dataclass(frozen=True)
class TwoPathCase:
    """Both sides as the application role in the sampled firm's tenant transaction, and the
    owner's column in the same tenant."""

    name: str
    description: str
    naive_sql: str
    params: Mapping[str, Any]
    optimized_sql: str | None = None
    """None: `search_text`'s own statement for documents."""

    def measure(self, sides: Sides, budget: Budget) -> CaseResult:
        result = CaseResult(self.name, "full text", self.description)
        optimized_sql = self.optimized_sql or fulltext.statement(
            "documents", "websearch"
        ).as_string(sides.optimized)
        params = {**self.params, "org": str(sides.organization_id)}
        # The owner's column runs in a tenant transaction too (the search functions take the
        # tenant from it); the owner's maintenance connection may open one.
        owner_maintenance(sides.owner_optimized)
        owner_maintenance(sides.owner_naive)
        pairs = (
            ("", sides.optimized, sides.naive, budget),
            ("owner_", sides.owner_optimized, sides.owner_naive, budget.owner()),
        )
        for prefix, optimized, naive, spend in pairs:
            answers = []
            for side, conn, query in (
                ("optimized", optimized, optimized_sql),
                ("naive", naive, self.naive_sql),
            ):
                with scoped(conn, sides.organization_id):
                    if not prefix:
                        result.notes.setdefault("session", {})[side] = session_facts(conn)
                    setattr(result, prefix + side, time_query(conn, query, params, spend))
                    answers.append(conn.execute(query, params).fetchall())
                    result.notes[f"{prefix}{side}_plan"] = plans.summary(conn, query, params)
            result.notes[f"{prefix}answers_match"] = answers[0] == answers[1]
        # The application role's plan is a Function Scan; what the function's own query used,
        # seen by the owner through auto_explain in the same tenant, is the index it relies on.
        inner = inner_indexes(sides.owner_optimized, optimized_sql, params, sides.organization_id)
        if inner is not None:
            result.notes["optimized_plan"] = {**result.notes["optimized_plan"], "indexes": inner}
            result.notes["expected_index"] = INDEX
            result.notes["uses_expected_index"] = INDEX in inner
        if self.optimized_sql is None:
            with scoped(sides.owner_optimized, sides.organization_id):
                row = sides.owner_optimized.execute(RANKED_MATCHES, params).fetchone()
            result.notes["ranked_matches"] = None if row is None else row[0]
        result.notes["optimized_sql"] = optimized_sql
        result.notes["naive_sql"] = self.naive_sql
        return result

    def case(self) -> CustomCase:
        return CustomCase(self.name, "full text", self.description, self.measure)


def field_case(query: catalog.CatalogQuery, sample: Sample) -> CustomCase:
    """A catalog query that answers through `search_tenant_document_field`."""
    return TwoPathCase(
        query.name,
        query.purpose,
        NAIVE_FIELDS[query.name],
        # The function takes the tenant from the transaction; the per-row SQL names it.
        {**query.bind(sample), "organization_id": sample.organization_id},
        query.sql,
    ).case()


def cases() -> list[CustomCase]:
    """Ranked top 20 with snippets: a phrase a twelfth of the documents hold, and a common word."""
    return [
        TwoPathCase(
            "documents.extracted_text_search",
            f'Top {TOP} documents ranked for a phrase ("nonemployee compensation"), with snippets.',
            NAIVE_RANKED,
            {"q": "nonemployee compensation", "k": TOP},
        ).case(),
        TwoPathCase(
            "documents.common_word_search",
            f"Top {TOP} documents ranked for a word most of the firm's documents hold ('tax'),"
            " with snippets.",
            NAIVE_RANKED,
            {"q": "tax", "k": TOP},
        ).case(),
    ]
