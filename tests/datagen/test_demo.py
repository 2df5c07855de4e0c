"""`up --demo`: the demo data set loads once, with a few documents embedded for semantic search."""

from __future__ import annotations

import psycopg
import pytest

from advisoros_db import datagen
from tests.support import PgDatabase


def test_demo_loads_once_and_leaves_existing_data_alone(db: PgDatabase) -> None:
    first = datagen.load_demo(db.admin_url, embed=0)
    assert first is not None
    assert first.seeded.scale == "tiny" and first.embedded == 0
    with psycopg.connect(db.admin_url) as conn:
        before = conn.execute("SELECT count(*) FROM documents").fetchone()
    assert datagen.load_demo(db.admin_url, embed=0) is None
    with psycopg.connect(db.admin_url) as conn:
        assert conn.execute("SELECT count(*) FROM documents").fetchone() == before


@pytest.mark.slow
def test_demo_embeds_documents_of_the_busiest_firm(db: PgDatabase) -> None:
    report = datagen.load_demo(db.admin_url, embed=2)
    assert report is not None and report.embedded == 2
    with psycopg.connect(db.admin_url) as conn:
        rows = conn.execute(
            "SELECT DISTINCT organization_id, document_id FROM document_embeddings"
        ).fetchall()
    assert len(rows) == 2
    assert {org for org, _ in rows} == {report.organization_id}
