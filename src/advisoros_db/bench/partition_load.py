"""Scratch plain tables shaped like the schema's, and concurrent writers that record every failure
and every write's latency (the swap's write stall is read from them)."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, LiteralString

import psycopg
from psycopg import sql

from advisoros_db.tenancy.context import apply_tenant
from advisoros_db.urls import with_database

PLAIN_TABLES: LiteralString = """
CREATE TABLE audit_logs (
    id uuid PRIMARY KEY DEFAULT uuidv7(),
    organization_id uuid NOT NULL,
    entity_type text NOT NULL,
    entity_id uuid,
    action text NOT NULL CHECK (action IN ('create', 'update', 'delete')),
    new_values jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_audit_logs_organization_id_created_at ON audit_logs (organization_id, created_at);
CREATE TABLE documents (
    id uuid PRIMARY KEY DEFAULT uuidv7(),
    organization_id uuid NOT NULL,
    file_name text NOT NULL,
    tax_year smallint,
    status text NOT NULL DEFAULT 'uploaded',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT uq_documents_organization_id_id UNIQUE (organization_id, id)
);
CREATE INDEX ix_documents_organization_id_tax_year ON documents (organization_id, tax_year);
CREATE TABLE document_processing (
    id uuid PRIMARY KEY DEFAULT uuidv7(),
    organization_id uuid NOT NULL,
    document_id uuid NOT NULL,
    status text NOT NULL DEFAULT 'queued',
    CONSTRAINT fk_document_processing_document FOREIGN KEY (organization_id, document_id)
        REFERENCES documents (organization_id, id) ON DELETE CASCADE
);
CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
CREATE TRIGGER documents_touch BEFORE UPDATE ON documents
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
DO $$ DECLARE t text; BEGIN
  FOREACH t IN ARRAY ARRAY['audit_logs', 'documents', 'document_processing'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (organization_id = '
                   'current_setting(''app.organization_id'', true)::uuid)', t);
  END LOOP;
END $$;
GRANT SELECT, INSERT ON audit_logs TO advisoros_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON documents, document_processing TO advisoros_app;
"""

_FILL_AUDIT: LiteralString = """
INSERT INTO audit_logs (organization_id, entity_type, entity_id, action, new_values, created_at)
SELECT %(org)s, 'client', gen_random_uuid(), 'create', jsonb_build_object('n', g),
       date_trunc('month', now()) + interval '3 days' - make_interval(months => g %% %(months)s)
       + make_interval(secs => g)
FROM generate_series(1, %(rows)s) g
"""
_FILL_DOCUMENTS: LiteralString = """
INSERT INTO documents (organization_id, file_name, tax_year)
SELECT %(org)s, 'f' || g, CASE WHEN g %% 16 = 0 THEN NULL ELSE 2018 + g %% 15 END
FROM generate_series(1, %(rows)s) g
"""

ORG = uuid.UUID("0190a000-0000-7000-8000-000000000001")


def fill(
    conn: psycopg.Connection[Any], *, audit: int = 0, documents: int = 0, months: int = 6
) -> None:
    """Audit rows spread over the last `months` months; documents over tax years 2018..2032 and
    NULL, each with a document_processing row."""
    if audit:
        conn.execute(_FILL_AUDIT, {"org": ORG, "months": months, "rows": audit})
    if documents:
        conn.execute(_FILL_DOCUMENTS, {"org": ORG, "rows": documents})
        conn.execute(
            "INSERT INTO document_processing (organization_id, document_id)"
            " SELECT organization_id, id FROM documents"
        )


@contextmanager
def scratch_database(
    admin_url: str, prefix: str = "bench_partitions", *, plain: bool = True
) -> Iterator[str]:
    """A throwaway database (with the plain tables unless `plain` is False) on the server
    `admin_url` points at; dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    server = with_database(admin_url, "postgres")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(admin_url, name)
    try:
        if plain:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(PLAIN_TABLES)
        yield url
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@dataclass
class WriterStats:
    ops: int = 0
    failures: list[str] = field(default_factory=list)
    # (start, seconds) of every write, to find the longest one overlapping the swap.
    latencies: list[tuple[float, float]] = field(default_factory=list)


class Writers:
    """Threads that insert, update and delete documents and insert audit logs, as the application
    role scoped to one tenant, until stopped. Every failed write is recorded, never retried."""

    def __init__(
        self,
        app_url: str,
        *,
        threads: int = 4,
        organization_id: uuid.UUID = ORG,
        pause_s: float = 0.002,
    ) -> None:
        self.app_url = app_url
        self.org = organization_id
        self.pause_s = pause_s
        self.stop = threading.Event()
        self.stats = [WriterStats() for _ in range(threads)]
        self._threads = [
            threading.Thread(target=self._run, args=(s, i), daemon=True)
            for i, s in enumerate(self.stats)
        ]

    def __enter__(self) -> Writers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    @property
    def ops(self) -> int:
        return sum(s.ops for s in self.stats)

    @property
    def failures(self) -> list[str]:
        return [f for s in self.stats for f in s.failures]

    def longest_write_ms(self, start: float, end: float) -> float:
        """The longest write that overlapped [start, end] (perf_counter seconds)."""
        overlapping = [
            d for s in self.stats for (t, d) in s.latencies if t <= end and t + d >= start
        ]
        return max(overlapping, default=0.0) * 1000

    def median_write_ms(self) -> float:
        durations = sorted(d for s in self.stats for (_, d) in s.latencies)
        return durations[len(durations) // 2] * 1000 if durations else 0.0

    def _run(self, stats: WriterStats, seed: int) -> None:
        rng = random.Random(seed)
        mine: list[uuid.UUID] = []
        try:
            conn = psycopg.connect(self.app_url)
        except psycopg.Error as exc:  # a writer that cannot even connect is a failed write
            stats.failures.append(f"connect: {type(exc).__name__}: {exc}")
            return
        with conn:
            while not self.stop.is_set():
                started = time.perf_counter()
                try:
                    with conn.transaction():
                        apply_tenant(conn, self.org)
                        self._one_write(conn, rng, mine)
                    stats.ops += 1
                except psycopg.Error as exc:
                    stats.failures.append(f"{type(exc).__name__}: {exc}")
                stats.latencies.append((started, time.perf_counter() - started))
                time.sleep(self.pause_s)

    def _one_write(
        self, conn: psycopg.Connection[Any], rng: random.Random, mine: list[uuid.UUID]
    ) -> None:
        choice = rng.random()
        if choice < 0.3 or not mine:
            row = conn.execute(
                "INSERT INTO documents (organization_id, file_name, tax_year) VALUES (%s, %s, %s)"
                " RETURNING id",
                (self.org, f"w{rng.random()}", rng.choice([2019, 2022, 2024, 2026, 2031, None])),
            ).fetchone()
            assert row is not None
            mine.append(row[0])
            conn.execute(
                "INSERT INTO document_processing (organization_id, document_id) VALUES (%s, %s)",
                (self.org, row[0]),
            )
        elif choice < 0.5:
            conn.execute(
                "UPDATE documents SET status = 'processed', tax_year = %s WHERE id = %s",
                (rng.choice([2021, 2025, None]), rng.choice(mine)),
            )
        elif choice < 0.6:
            conn.execute(
                "DELETE FROM documents WHERE id = %s", (mine.pop(rng.randrange(len(mine))),)
            )
        else:
            conn.execute(
                "INSERT INTO audit_logs (organization_id, entity_type, entity_id, action)"
                " VALUES (%s, 'document', %s, 'update')",
                (self.org, rng.choice(mine)),
            )
