"""The catalog and the 0003 index declarations agree: no index without a query, no query without
an index, the report's counts per kind (less what revisions 0015 and 0021 replaced), and the report's
names."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import UniqueConstraint

from advisoros_db.schema import catalog, indexes, search_indexes
from advisoros_db.schema.base import Base

REPORT_NAMES = {
    "idx_documents_org_client_status", "idx_tasks_org_assignee_status",
    "idx_invoices_org_status_due", "idx_clients_org_status_risk", "idx_engagements_org_status_due",
    "idx_audit_logs_entity_time", "idx_documents_needs_review", "idx_documents_ocr_pending",
    "idx_tasks_overdue", "idx_invoices_overdue", "idx_engagements_active",
    "idx_job_executions_failed", "idx_documents_metadata_gin", "idx_documents_extracted_data_gin",
    "idx_documents_tags_gin", "idx_clients_custom_fields_gin", "idx_audit_logs_old_values_gin",
    "idx_advisor_profiles_industries_gin", "idx_documents_filename_fts",
    "idx_clients_business_name_fts", "idx_tasks_title_fts", "idx_notes_content_fts",
    "idx_advisor_profiles_bio_fts", "idx_documents_list_covering", "idx_tasks_dashboard_covering",
    "idx_invoices_ar_covering", "idx_subscriptions_active_unique", "idx_document_sessions_unique",
}  # fmt: skip


def test_every_index_is_named_by_a_catalog_query() -> None:
    used = {q.index for q in catalog.QUERIES}
    unused = sorted(set(indexes.by_name()) - used)
    assert not unused, f"indexes no catalog query relies on: {unused}"


def _tenant_keys() -> set[str]:
    """The models' unique keys that start with organization_id, which serve the filter pages."""
    return {
        str(c.name)
        for t in Base.metadata.tables.values()
        for c in t.constraints
        if isinstance(c, UniqueConstraint) and c.columns.keys()[:1] == ["organization_id"]
    }


def _search_indexes() -> set[str]:
    """The tenant-keyed search indexes (schema.search_indexes) the search pages use."""
    return {
        str(ix.name) for ix in (*search_indexes.TENANT_TEXT_INDEXES, *search_indexes.FIELD_INDEXES)
    }


def test_every_catalog_query_names_a_0003_index_a_tenant_key_or_a_search_index() -> None:
    known = (
        set(indexes.by_name())
        | _tenant_keys()
        | _search_indexes()
        | set(indexes.REPLACED_BY_DOCUMENT_VECTOR.values())
    )
    assert sorted({q.index for q in catalog.QUERIES} - known) == []
    # A search page (revision 0022) names the tenant-keyed index its function uses.
    assert all(q.index in _search_indexes() for q in catalog.QUERIES if catalog.is_search(q))


def test_every_replaced_index_has_its_replacement_in_the_catalog() -> None:
    assert set(indexes.REPLACED_BY_PAGES) & set(indexes.by_name()) == set()
    assert set(indexes.REPLACED_BY_PAGES.values()) <= {q.index for q in catalog.QUERIES}
    assert set(indexes.REPLACED_BY_PAGES.values()) <= _tenant_keys()
    replaced = indexes.REPLACED_BY_DOCUMENT_VECTOR
    assert set(replaced) & set(indexes.by_name()) == set()
    assert set(replaced.values()) == {search_indexes.DOCUMENTS_TENANT_FTS.name}
    assert {q.index for q in catalog.QUERIES if q.name.startswith("documents.")} >= set(
        replaced.values()
    )
    assert set(indexes.REPLACED_BY_TENANT_SEARCH) & set(indexes.by_name()) == set()
    assert set(indexes.REPLACED_BY_TENANT_SEARCH.values()) <= {q.index for q in catalog.QUERIES}
    assert set(indexes.REPLACED_BY_TENANT_SEARCH.values()) <= _search_indexes()


def test_catalog_names_are_unique() -> None:
    names = [q.name for q in catalog.QUERIES]
    assert len(names) == len(set(names))


def test_counts_per_kind_are_at_least_the_reports() -> None:
    counts = Counter(indexes.kind_of(ix) for ix in indexes.INDEXES)
    replaced_gin = len(indexes.REPLACED_BY_PAGES) + 1  # and the trigram index, in 0022
    replaced_full_text = len(indexes.REPLACED_BY_TENANT_SEARCH) - 1
    assert counts[indexes.IndexKind.COMPOSITE] >= 12
    assert counts[indexes.IndexKind.PARTIAL] >= 14
    assert counts[indexes.IndexKind.GIN] + replaced_gin >= 18
    assert (
        counts[indexes.IndexKind.FULL_TEXT]
        + replaced_full_text
        + len(indexes.REPLACED_BY_DOCUMENT_VECTOR)
        >= 11
    )
    assert counts[indexes.IndexKind.COVERING] >= 3
    assert counts[indexes.IndexKind.UNIQUE_PARTIAL] >= 2


def test_the_reports_names_are_all_declared_or_replaced() -> None:
    replaced = {
        *indexes.REPLACED_BY_PAGES,
        *indexes.REPLACED_BY_TENANT_SEARCH,
        *indexes.REPLACED_BY_DOCUMENT_VECTOR,
    }
    assert sorted(REPORT_NAMES - set(indexes.by_name()) - replaced) == []


def test_unknown_query_name_is_a_clear_error() -> None:
    with pytest.raises(catalog.UnknownQuery, match=r"no catalog query 'nope'.*documents\.list"):
        catalog.get("nope")
    assert catalog.get("documents.list").index == "idx_documents_list_covering"


DOCS = Path(__file__).parents[2] / "docs" / "indexes.md"
# A row of the per-kind tables: | `index` (note) | `on` | `query`: purpose |
_ROW = re.compile(r"^\| `(\w+)`[^|]* \| `([^`]+)` \| `([\w.]+)`: (.+) \|$")


def test_docs_list_every_index() -> None:
    docs = DOCS.read_text()
    names = [
        *indexes.by_name(),
        *indexes.REPLACED_BY_PAGES,
        *indexes.REPLACED_BY_TENANT_SEARCH,
        *indexes.REPLACED_BY_TENANT_SEARCH.values(),
        *indexes.REPLACED_BY_DOCUMENT_VECTOR,
    ]
    missing = [name for name in names if f"`{name}`" not in docs]
    assert missing == []


def test_the_docs_index_tables_say_what_the_catalog_says() -> None:
    """docs/indexes.md's tables: one row per catalog query, with its index (or, for an index
    revision 0015 or 0021 replaced, the one it was), the table it is on, and its purpose word for word."""
    tables = DOCS.read_text().split("## The indexes", 1)[1]
    rows = [m.groups() for m in map(_ROW.match, tables.splitlines()) if m]
    assert sorted(query for _, _, query, _ in rows) == sorted(q.name for q in catalog.QUERIES)
    declared = indexes.by_name()
    for index, on, name, purpose in rows:
        query = catalog.get(name)
        assert purpose == query.purpose, name
        replaced = {
            **indexes.REPLACED_BY_PAGES,
            **indexes.REPLACED_BY_TENANT_SEARCH,
            **indexes.REPLACED_BY_DOCUMENT_VECTOR,
        }
        assert query.index == replaced.get(index, index), name
        if index in declared:
            table = declared[index].table
            assert on.removeprefix("UNIQUE ").split(" ")[0] == getattr(table, "name", None), index
