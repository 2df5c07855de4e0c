"""Every query of the hot-path catalog as a side-by-side case, with parameters drawn from the data."""

from __future__ import annotations

from advisoros_db.bench import text_cases
from advisoros_db.bench.cases import CustomCase, QueryCase
from advisoros_db.bench.sampling import Sample
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
    if "@@" in query.sql or query.name in text_cases.NAIVE_FIELDS:
        return "full text"
    if catalog.is_page(query) or "@>" in query.sql or "&&" in query.sql:
        return "jsonb / tags"
    return "catalog"


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
            params=q.bind(sample),
            index=q.index,
            hot_path=q.name in HOT_PATHS,
            prepare=False if q.custom_plan else None,
            system=q.system,
            analyze=q.name in HOT_PATHS,
        )
        for q in catalog.QUERIES
    ]
