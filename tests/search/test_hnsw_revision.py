"""Revision 0014_search_hnsw_graph on a populated database: down to the old graph and up to the
new one, every chunk and every search still there, and the index the library would build."""

from __future__ import annotations

from advisoros_db import migrations
from advisoros_db.bench import search_cases
from advisoros_db.search import indexes, semantic
from advisoros_db.search.connections import connect
from advisoros_db.search.embedders import DEFAULT_MODEL
from tests.support import PgDatabase

HNSW = indexes.index_name(DEFAULT_MODEL)


def _state(db: PgDatabase) -> tuple[str, int, int]:
    with connect(db.admin_url) as conn:
        row = conn.execute(
            "SELECT pg_get_indexdef(to_regclass(%s)), (SELECT count(*) FROM document_embeddings),"
            " (SELECT count(*) FROM pg_class WHERE relname LIKE %s)",
            (HNSW, HNSW + "%"),
        ).fetchone()
    assert row is not None
    return str(row[0]), int(row[1]), int(row[2])


def test_down_and_up_on_a_populated_database(search_db: PgDatabase) -> None:
    tenant = search_cases.load_corpus(search_db.admin_url, 1_500)[2]  # 450 chunks
    definition, chunks, copies = _state(search_db)
    assert "m='32'" in definition and "ef_construction='200'" in definition and copies == 1
    assert definition == _library_definition(search_db)

    migrations.downgrade(search_db.admin_url, "0013_sessions_role_limits")
    old, chunks_after_down, copies = _state(search_db)
    assert "m='16'" in old and "ef_construction='64'" in old and copies == 1
    assert chunks_after_down == chunks
    with connect(search_db.app_url) as conn:
        got = semantic.search_vector(conn, tenant.org, tenant.vectors[0], exact_threshold=0)
        assert got.path == "index" and len(got.hits) == 10

    migrations.upgrade(search_db.admin_url)
    assert _state(search_db) == (definition, chunks, 1)
    with connect(search_db.app_url) as conn:
        got = semantic.search_vector(conn, tenant.org, tenant.vectors[0], exact_threshold=0)
        assert got.path == "index" and got.hits[0].score > 0.99  # its own chunk, nearly


def _library_definition(db: PgDatabase) -> str:
    with connect(db.admin_url) as conn:
        sql_text = indexes.create_index_sql(DEFAULT_MODEL, concurrently=False).as_string(conn)
        conn.execute(sql_text.replace(HNSW, "idx_probe_copy"))  # type: ignore[arg-type]
        row = conn.execute("SELECT pg_get_indexdef('idx_probe_copy'::regclass)").fetchone()
        conn.rollback()
    assert row is not None
    return str(row[0]).replace("idx_probe_copy", HNSW)
