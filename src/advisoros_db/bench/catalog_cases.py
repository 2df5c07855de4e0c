"""Every query of the hot-path catalog as a side-by-side case, with parameters drawn from the data."""

from __future__ import annotations

import re

from advisoros_db.bench import text_cases
from advisoros_db.bench.cases import CustomCase, QueryCase
from advisoros_db.bench.sampling import Sample
from advisoros_db.migrations import tenant_field_search
from advisoros_db.schema import catalog

# The hot paths the issue names; the goals (p95, ratio) are judged on these.
HOT_PATHS = frozenset(
    {
        "documents.list",
        "documents.review_queue",
        "documents.ocr_queue",
        "tasks.overdue",
        "invoices.collections",
        "tasks.dashboard",
        "invoices.ar_aging",
        "engagements.work_queue",
        "audit.entity_trail",
    }
)


def group_of(query: catalog.CatalogQuery) -> str:
    if query.name in HOT_PATHS:
        return "hot path"
    if "@@" in query.sql or query.name in text_cases.NAIVE_FIELDS or catalog.is_search(query):
        return "full text"
    if catalog.is_page(query) or "@>" in query.sql or "&&" in query.sql:
        return "jsonb / tags"
    return "catalog"


_SEARCH = re.compile(
    r"(?P<head>SELECT .+? FROM \w+ WHERE organization_id = %\(organization_id\)s)"
    r" AND id = ANY \(ARRAY\(SELECT search_tenant_(?P<kind>text|contains)\('(?P<field>[\w.]+)',"
    r" (?P<arg>.+), %\(before\)s, 50\)\)\)(?P<tail> ORDER BY id DESC LIMIT 50)"
)
_CONFIGS = {field.name: field.config for field in tenant_field_search.TEXT_FIELDS}


def plain_sql(query: catalog.CatalogQuery) -> str | None:
    """A search page (`catalog.is_search`) with the plain predicate its function rechecks in
    place of the function: the same rows, read without a tenant-keyed index. The naive side runs
    it (schema `naive` has no search function of its own); None for every other query."""
    found = _SEARCH.fullmatch(query.sql)
    if found is None:
        return None
    column = found["field"].split(".")[1]
    if found["kind"] == "contains":
        predicate = f"{column} ILIKE {found['arg']}"
    else:
        config = _CONFIGS[found["field"]]
        predicate = f"to_tsvector('{config}'::regconfig, {column}) @@ {found['arg']}"
    return f"{found['head']} AND {predicate} AND id < %(before)s{found['tail']}"


def cases(sample: Sample) -> list[QueryCase | CustomCase]:
    return [
        # Revision 0021's document searches run through a search function on the optimized side
        # and as the per-row query they were on the naive side.
        text_cases.field_case(q, sample)
        if q.name in text_cases.NAIVE_FIELDS
        else QueryCase(
            name=q.name,
            group=group_of(q),
            description=q.purpose,
            sql=q.sql,
            naive_sql=plain_sql(q),
            params=dict(q.bind(sample)),
            index=q.index,
            hot_path=q.name in HOT_PATHS,
            prepare=False if q.custom_plan else None,
            system=q.system,
            analyze=q.name in HOT_PATHS,
        )
        for q in catalog.QUERIES
    ]
