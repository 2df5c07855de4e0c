"""The demo data set `up --demo` loads: the `tiny` scale, once, into an empty database, with a
few documents embedded by the search pipeline so semantic search has something to find."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import LiteralString

import psycopg
from rich.progress import Progress

from advisoros_db.datagen.seed import SeedReport, last_run, seed
from advisoros_db.search import pipeline
from advisoros_db.search.connections import connect
from advisoros_db.search.embedders import Embedder, get_embedder
from advisoros_db.tenancy import owner_maintenance

DEMO_SCALE = "tiny"
DEMO_SEED = 2024
# Embedding runs on the CPU at a few documents per second: enough to show, quick to load.
DEMO_EMBEDDED = 24

BUSIEST_FIRM: LiteralString = """
SELECT organization_id FROM documents WHERE extracted_text IS NOT NULL
GROUP BY organization_id ORDER BY count(*) DESC, organization_id LIMIT 1
"""


@dataclass
class DemoReport:
    seeded: SeedReport
    organization_id: uuid.UUID | None
    embedded: int


def load_demo(
    url: str,
    *,
    progress: Progress | None = None,
    embed: int = DEMO_EMBEDDED,
    embedder: Embedder | None = None,
) -> DemoReport | None:
    """Seed the demo data and embed `embed` documents of the busiest firm; None (and nothing
    changed) when the database already holds organizations."""
    if last_run(url) is not None or _has_organizations(url):
        return None
    seeded = seed(url, DEMO_SCALE, seed=DEMO_SEED, progress=progress)
    org, embedded = embed_sample(url, embed, embedder=embedder, progress=progress)
    return DemoReport(seeded, org, embedded)


def embed_sample(
    url: str,
    documents: int,
    *,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
) -> tuple[uuid.UUID | None, int]:
    """Embed up to `documents` not-yet-embedded documents of the busiest firm."""
    if documents <= 0:
        return None, 0
    with psycopg.connect(url) as conn:
        row = conn.execute(BUSIEST_FIRM).fetchone()
    if row is None:
        return None, 0
    org: uuid.UUID = row[0]
    model = embedder or get_embedder()
    # The owner loads the demo: a maintenance run whose queries name the organization.
    with connect(url) as conn:
        owner_maintenance(conn)
        todo = pipeline.pending_documents(conn, model.model, org)[:documents]
        task = progress.add_task("document_embeddings", total=len(todo)) if progress else None
        for tenant, doc in todo:
            pipeline.embed_document(conn, tenant, doc, model)
            if progress is not None and task is not None:
                progress.advance(task)
    return org, len(todo)


def _has_organizations(url: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        table = conn.execute("SELECT to_regclass('public.organizations')").fetchone()
        if table is None or table[0] is None:
            return False
        found = conn.execute("SELECT EXISTS (SELECT 1 FROM organizations)").fetchone()
        return bool(found and found[0])
