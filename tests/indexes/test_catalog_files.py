"""The catalog as data: the `.sql` files hold the queries the Python catalog held (the same names,
order, index and flags; a one-off check at the conversion compared every query's SQL text and
parameters with the old module, byte for byte), and a malformed file is a clear error."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from advisoros_db.bench.sampling import Sample
from advisoros_db.schema import catalog

# Frozen at the conversion from schema/catalog.py (commit a88babb): name, index, flags.
FROZEN: list[tuple[str, ...]] = [
    ("documents.client_documents", "idx_documents_org_client_status"),
    ("documents.tax_year_binder", "idx_documents_org_category_year"),
    ("tasks.assigned_by_status", "idx_tasks_org_assignee_status"),
    ("tasks.engagement_board", "idx_tasks_org_engagement_status"),
    ("invoices.by_status", "idx_invoices_org_status_due"),
    ("invoices.client_history", "idx_invoices_org_client_issue"),
    ("clients.risk_review", "idx_clients_org_status_risk"),
    ("engagements.by_status_due", "idx_engagements_org_status_due"),
    ("engagements.assigned_by_status", "idx_engagements_org_assignee_status"),
    ("audit.entity_trail", "idx_audit_logs_entity_time", "custom_plan"),
    ("audit.user_activity", "idx_audit_logs_org_user_time"),
    ("notes.client_timeline", "idx_notes_org_client_time"),
    ("documents.review_queue", "idx_documents_needs_review"),
    ("documents.ocr_queue", "idx_documents_ocr_pending"),
    ("tasks.overdue", "idx_tasks_overdue"),
    ("tasks.unassigned", "idx_tasks_unassigned"),
    ("invoices.collections", "idx_invoices_overdue"),
    ("invoices.drafts", "idx_invoices_drafts"),
    ("engagements.work_queue", "idx_engagements_active"),
    ("jobs.failed", "idx_job_executions_failed", "system"),
    ("clients.active_directory", "idx_clients_active_name"),
    ("users.advisor_directory", "idx_users_advisors"),
    ("notes.reminders_due", "idx_notes_reminders_due"),
    ("reports.generation_queue", "idx_reports_queued", "system"),
    ("report_schedules.due", "idx_report_schedules_due", "system"),
    ("task_queue.claim", "idx_task_queue_items_ready", "system"),
    ("documents.metadata_match", "uq_documents_organization_id_id"),
    ("documents.extracted_field_match", "uq_documents_organization_id_id"),
    ("documents.tagged", "uq_documents_organization_id_id"),
    ("clients.custom_field_match", "uq_clients_organization_id_id"),
    ("clients.financial_data_match", "uq_clients_organization_id_id"),
    ("clients.tagged", "uq_clients_organization_id_id"),
    ("clients.name_contains", "idx_clients_tenant_trgm"),
    ("audit.old_value_investigation", "uq_audit_logs_organization_id_id"),
    ("audit.new_value_investigation", "uq_audit_logs_organization_id_id"),
    ("advisors.by_industry", "uq_advisor_profiles_organization_id_user_id"),
    ("engagements.custom_field_match", "uq_engagements_organization_id_id"),
    ("tasks.tagged", "uq_tasks_organization_id_id"),
    ("notes.tagged", "uq_notes_organization_id_id"),
    ("invoices.metadata_match", "uq_invoices_organization_id_id"),
    ("reports.by_parameters", "uq_reports_organization_id_id"),
    ("report_schedules.by_recipient", "idx_report_schedules_recipients_gin", "system"),
    ("jobs.for_document", "idx_job_executions_payload_gin", "system"),
    ("task_queue.payload_match", "idx_task_queue_items_payload_gin", "system"),
    ("documents.file_name_search", "idx_documents_tenant_fts"),  # revision 0021
    ("documents.description_search", "idx_documents_tenant_fts"),
    ("clients.business_name_search", "idx_clients_tenant_fts"),
    ("clients.legal_name_search", "idx_clients_tenant_fts"),
    ("tasks.title_search", "idx_tasks_tenant_fts"),
    ("tasks.description_search", "idx_tasks_tenant_fts"),
    ("notes.content_search", "idx_notes_tenant_fts"),
    ("advisors.bio_search", "idx_advisor_profiles_tenant_fts"),
    ("engagements.name_search", "idx_engagements_tenant_fts"),
    ("document_comments.content_search", "idx_document_comments_tenant_fts"),
    ("engagements.description_search", "idx_engagements_tenant_fts"),
    ("documents.list", "idx_documents_list_covering"),
    ("tasks.dashboard", "idx_tasks_dashboard_covering"),
    ("invoices.ar_aging", "idx_invoices_ar_covering"),
    ("subscriptions.active", "idx_subscriptions_active_unique"),
    ("document_sessions.active_on_document", "idx_document_sessions_unique"),
]


def test_the_files_hold_the_frozen_queries_in_order() -> None:
    loaded = [
        (q.name, q.index, *(f for f in catalog.FLAGS if getattr(q, f))) for q in catalog.QUERIES
    ]
    assert loaded == FROZEN


def test_a_query_reads_as_declared() -> None:
    query = catalog.get("documents.tax_year_binder")
    assert query.sql == (
        "SELECT id, client_id, file_name FROM documents"
        " WHERE organization_id = %(organization_id)s AND category = %(category)s"
        " AND tax_year = %(tax_year)s AND deleted_at IS NULL"
    )
    assert query.purpose == "Every document of one category for one tax year (the W-2s of 2024)."
    assert query.sampled == ("organization_id",)
    assert dict(query.fixed) == {"category": "w2", "tax_year": 2024}
    assert not query.system and not query.custom_plan
    assert catalog.get("audit.entity_trail").custom_plan
    assert catalog.get("task_queue.claim").system


def test_every_value_a_query_needs_is_one_the_sampler_supplies() -> None:
    ids = iter(uuid.UUID(int=i) for i in range(1, 100))
    sample = Sample(next(ids), next(ids), next(ids), next(ids), next(ids), "client", next(ids), "q")
    assert set(sample) == {*Sample.__dataclass_fields__, "before"}
    assert sample["before"] == catalog.PAGE_START
    for query in catalog.QUERIES:
        assert set(query.needs) <= set(sample), query.name
        bound = query.bind(sample)
        assert set(bound) == {*query.sampled, *query.fixed}, query.name
    jobs = catalog.get("jobs.for_document").bind(sample)
    assert jobs == {"match": f'{{"document_id": "{sample.document_id}"}}'}
    page = catalog.get("clients.tagged").bind(sample)
    assert page == {
        "organization_id": sample.organization_id,
        "before": catalog.PAGE_START,
        "tags": ["vip"],
    }


def test_a_missing_value_is_named() -> None:
    query = catalog.get("documents.client_documents")
    with pytest.raises(
        catalog.MissingValue, match=r"'documents.client_documents' needs a value for client_id"
    ):
        query.bind({"organization_id": uuid.uuid4()})


GOOD = """-- a file comment
-- name: things.one
-- purpose: One thing.
-- index: idx_one
-- params: organization_id, before, tags=['a'], n=3, match='{"id": "$organization_id"}'
-- flags: system, custom_plan
-- why this query looks the way it does
SELECT id FROM things
WHERE organization_id = %(organization_id)s AND tags && %(tags)s AND n = %(n)s
AND payload @> %(match)s::jsonb AND id < %(before)s

-- name: things.two
-- purpose: Two.
-- index: idx_two
-- params:
SELECT 1
"""


def test_parse_a_file() -> None:
    one, two = catalog.parse(GOOD, "good.sql")
    assert one.name == "things.one" and one.index == "idx_one" and one.purpose == "One thing."
    assert one.sql == (
        "SELECT id FROM things WHERE organization_id = %(organization_id)s AND tags && %(tags)s"
        " AND n = %(n)s AND payload @> %(match)s::jsonb AND id < %(before)s"
    )
    assert one.sampled == ("organization_id", "before")
    assert dict(one.fixed) == {"tags": ["a"], "n": 3, "match": '{"id": "$organization_id"}'}
    assert one.system and one.custom_plan
    assert one.needs == ("organization_id", "before")
    org = uuid.uuid4()
    assert one.bind({"organization_id": org, "before": 7})["match"] == f'{{"id": "{org}"}}'
    assert (two.sql, two.sampled, dict(two.fixed), two.system) == ("SELECT 1", (), {}, False)


_HEAD = "-- name: q\n-- purpose: p\n-- index: i\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SELECT 1\n", r"bad.sql line 1: SQL before the first `-- name:`"),
        (
            "-- name: q\n-- purpose: p\n-- params:\nSELECT 1\n",
            r"line 1: the query has no `-- index:`",
        ),
        (_HEAD + "-- params:\n", r"query 'q' has no SQL"),
        (_HEAD + "-- params:\n-- colour: red\nSELECT 1\n", r"line 5: unknown header `-- colour:`"),
        (_HEAD + "-- params:\n-- index: j\nSELECT 1\n", r"line 5: `-- index:` must come once"),
        (
            _HEAD + "-- params:\n-- note\n-- flags: system\nSELECT 1\n",
            r"line 6: `-- flags:` must come once, in the headers",
        ),
        (
            _HEAD + "-- params:\n-- flags: sytem\nSELECT 1\n",
            r"unknown flag 'sytem'; known flags: system, custom_plan",
        ),
        (
            _HEAD + "-- params: a\nSELECT %(b)s\n",
            r"uses parameters \['b'\] but `-- params:` declares \['a'\]",
        ),
        (
            _HEAD + "-- params: a=1, a=2\nSELECT %(a)s\n",
            r"bad `-- params: a=1, a=2` \(a name is given twice\)",
        ),
        (_HEAD + "-- params: a, a=1\nSELECT %(a)s\n", r"\(a name is given twice\)"),
        (_HEAD + "-- params: a=b\nSELECT %(a)s\n", r"bad `-- params: a=b`"),
        (_HEAD + "-- params: a)(b\nSELECT %(a)s\n", r"\(not a list of parameters\)"),
        (_HEAD + "-- params: a) + (b\nSELECT %(a)s\n", r"\(not a list of parameters\)"),
        (_HEAD + "-- params: 'a'\nSELECT %(a)s\n", r"bad `-- params: 'a'` \('a' is not a name\)"),
        (_HEAD + "-- params: a, **b\nSELECT %(a)s\n", r"bad `-- params: a, \*\*b`"),
        (_HEAD + "-- params: a='$ 1'\nSELECT %(a)s\n", r"a='\$ 1' has a bad \$name"),
        (
            _HEAD + "-- params:\nSELECT 1 -- one\n",
            r"has `--` or `;` in its SQL line 'SELECT 1 -- one'",
        ),
        (_HEAD + "-- params:\nSELECT 1;\n", r"has `--` or `;` in its SQL line"),
    ],
)
def test_a_malformed_file_is_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(catalog.CatalogError, match=message):
        catalog.parse(text, "bad.sql")


def _folder(tmp_path: Path, **files: str) -> Path:
    for name in catalog.FILES:
        (tmp_path / f"{name}.sql").write_text(files.pop(name, ""))
    for name, text in files.items():
        (tmp_path / f"{name}.sql").write_text(text)
    return tmp_path


def test_load_reads_the_files_in_order(tmp_path: Path) -> None:
    one = _HEAD.replace("name: q", "name: one") + "-- params:\nSELECT 1\n"
    two = _HEAD.replace("name: q", "name: two") + "-- params:\nSELECT 2\n"
    queries = catalog.load(_folder(tmp_path, unique=one, composite=two))
    assert [q.name for q in queries] == ["two", "one"]


def test_a_file_not_listed_is_an_error_not_ignored(tmp_path: Path) -> None:
    with pytest.raises(
        catalog.CatalogError, match=r"not in catalog.FILES, so never read: \['extra.sql'\]"
    ):
        catalog.load(_folder(tmp_path, extra=""))


def test_a_name_declared_twice_is_an_error(tmp_path: Path) -> None:
    query = _HEAD + "-- params:\nSELECT 1\n"
    with pytest.raises(catalog.CatalogError, match=r"'q' is declared twice"):
        catalog.load(_folder(tmp_path, partial=query, covering=query))
