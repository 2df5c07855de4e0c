"""The embedding pipeline: document text -> chunks -> vectors in document_embeddings, with
provenance, atomic replacement, reuse of unchanged chunks, and state in document_processing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import psycopg
from psycopg.types.json import Jsonb

from advisoros_db.errors import AdvisorOSError, translated
from advisoros_db.search import chunking, queries
from advisoros_db.search.connections import Connection, connect, tenant_transaction
from advisoros_db.search.embedders import Embedder, get_embedder
from advisoros_db.search.errors import DocumentNotFound, EmbedderError
from advisoros_db.tenancy import owner_maintenance, tenant_id

Progress = Callable[[int, int], None]
"""Called with (documents done, documents to do) after each document."""

# The chunk size E5 was tuned on (its limit is 512); the overlap keeps a sentence cut at a window
# edge whole in one of the two windows.
CHUNK_TOKENS = 256
OVERLAP_TOKENS = 32

_DOCUMENT = """
SELECT file_name, extracted_text FROM documents
WHERE organization_id = %(org)s AND id = %(id)s AND deleted_at IS NULL
"""

_EXISTING = """
SELECT content_hash, embedding FROM document_embeddings
WHERE organization_id = %(org)s AND document_id = %(id)s AND model = %(model)s
"""

_DELETE = """
DELETE FROM document_embeddings
WHERE organization_id = %(org)s AND document_id = %(id)s AND model = %(model)s
"""

_INSERT = """
INSERT INTO document_embeddings
  (organization_id, document_id, chunk_index, content, content_hash, embedding, model,
   dimensions, token_count, metadata)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
"""

# Serialises two embedders of the same document: the second waits, then replaces atomically.
_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))"

_MARK = """
WITH updated AS (
  UPDATE document_processing SET
    status = %(status)s,
    last_error = %(error)s,
    retry_count = retry_count + %(retry)s,
    started_at = CASE WHEN %(status)s = 'running' THEN now() ELSE started_at END,
    completed_at = CASE WHEN %(status)s IN ('done', 'failed') THEN now() ELSE NULL END,
    updated_at = now()
  WHERE organization_id = %(org)s AND document_id = %(id)s
  RETURNING 1
)
INSERT INTO document_processing
  (organization_id, document_id, status, last_error, retry_count, started_at, completed_at)
SELECT %(org)s, %(id)s, %(status)s, %(error)s, %(retry)s,
       CASE WHEN %(status)s = 'running' THEN now() END,
       CASE WHEN %(status)s IN ('done', 'failed') THEN now() END
WHERE NOT EXISTS (SELECT 1 FROM updated)
"""

_PENDING = """
SELECT d.organization_id, d.id FROM documents d
WHERE (%(org)s::uuid IS NULL OR d.organization_id = %(org)s::uuid)
  AND d.deleted_at IS NULL AND d.extracted_text IS NOT NULL
  AND (%(all)s OR NOT EXISTS (
    SELECT 1 FROM document_embeddings e
    WHERE e.organization_id = d.organization_id AND e.document_id = d.id
      AND e.model = %(model)s AND e.created_at >= d.updated_at))
ORDER BY d.organization_id, d.id
"""


@dataclass(frozen=True)
class EmbedOutcome:
    """What embedding one document did."""

    document_id: uuid.UUID
    chunks: int
    computed: int
    """Chunks whose vectors were computed; the rest were reused (same hash, same model)."""


@dataclass
class EmbedReport:
    """What `embed_pending` did, document by document."""

    embedded: list[EmbedOutcome] = field(default_factory=list)
    failed: dict[uuid.UUID, str] = field(default_factory=dict)

    @property
    def chunks(self) -> int:
        return sum(o.chunks for o in self.embedded)

    @property
    def computed(self) -> int:
        return sum(o.computed for o in self.embedded)


def _mark(
    conn: Connection, org: str, doc: uuid.UUID, status: str, error: str | None = None
) -> None:
    with tenant_transaction(conn, org):
        conn.execute(
            _MARK,
            {
                "org": org,
                "id": doc,
                "status": status,
                "error": error,
                "retry": int(status == "failed"),
            },
        )


def document_text(file_name: str, extracted_text: str | None) -> str:
    """What gets embedded: the file name carries meaning too ("2023_W2_Acme.pdf")."""
    return f"{file_name}\n{extracted_text or ''}".strip()


def embed_document(
    conn: Connection,
    organization_id: uuid.UUID | str,
    document_id: uuid.UUID | str,
    embedder: Embedder,
) -> EmbedOutcome:
    """Chunk and embed one document, replacing its chunks of this model in one transaction.

    A failure leaves the previous chunks intact and records `failed` (with the error and one more
    retry) in document_processing; the error is raised as the package's own.
    """
    org = tenant_id(organization_id)
    doc = queries.parse_id(document_id)
    with tenant_transaction(conn, org):
        row = conn.execute(_DOCUMENT, {"org": org, "id": doc}).fetchone()
    if row is None:
        raise DocumentNotFound(f"document {doc} does not exist in organization {org}")
    _mark(conn, org, doc, "running")
    try:
        chunks = chunking.chunk_text(
            document_text(row[0], row[1]),
            embedder.count_tokens,
            max_tokens=min(CHUNK_TOKENS, embedder.max_tokens),
            overlap_tokens=OVERLAP_TOKENS,
        )
        with tenant_transaction(conn, org):
            conn.execute(_LOCK, (f"{org}/{doc}/{embedder.model}",))
            known = {
                h: np.asarray(v.to_numpy(), dtype=np.float32)
                for h, v in conn.execute(
                    _EXISTING, {"org": org, "id": doc, "model": embedder.model}
                ).fetchall()
            }
            todo = [c for c in chunks if c.content_hash not in known]
            fresh = embedder.embed_passages([c.text for c in todo]) if todo else None
            if fresh is not None and fresh.shape != (len(todo), embedder.dimensions):
                raise EmbedderError(
                    f"{embedder.model} returned vectors of shape {fresh.shape}, "
                    f"expected ({len(todo)}, {embedder.dimensions})"
                )
            vectors = dict(known)
            for chunk, vector in zip(todo, fresh if fresh is not None else [], strict=True):
                vectors[chunk.content_hash] = vector
            conn.execute(_DELETE, {"org": org, "id": doc, "model": embedder.model})
            with conn.cursor() as cur:
                cur.executemany(
                    _INSERT,
                    [
                        (
                            org,
                            doc,
                            c.index,
                            c.text,
                            c.content_hash,
                            vectors[c.content_hash],
                            embedder.model,
                            embedder.dimensions,
                            c.token_count,
                            Jsonb(c.metadata()),
                        )
                        for c in chunks
                    ],
                )
    except (AdvisorOSError, psycopg.Error) as exc:
        _mark(conn, org, doc, "failed", str(exc)[:2000])
        if isinstance(exc, AdvisorOSError):
            raise
        raise EmbedderError(f"embedding document {doc} failed: {exc}") from exc
    _mark(conn, org, doc, "done")
    return EmbedOutcome(doc, len(chunks), len(todo))


def pending_documents(
    conn: Connection,
    model: str,
    organization_id: uuid.UUID | str | None = None,
    *,
    everything: bool = False,
) -> list[tuple[str, uuid.UUID]]:
    """(organization, document) pairs whose text changed since they were embedded with `model`."""
    params = {"org": None, "model": model, "all": everything}
    if organization_id is None:  # every tenant: needs a role that sees them all (the admin URL)
        with translated(), conn.transaction():
            rows = conn.execute(_PENDING, params).fetchall()
    else:
        with tenant_transaction(conn, organization_id) as org:
            rows = conn.execute(_PENDING, {**params, "org": org}).fetchall()
    return [(str(r[0]), r[1]) for r in rows]


def embed_pending(
    url: str,
    org: uuid.UUID | str | None = None,
    model: str | None = None,
    *,
    embedder: Embedder | None = None,
    everything: bool = False,
    progress: Progress | None = None,
) -> EmbedReport:
    """Embed every document (of one organization, or all) not yet embedded with `model`.

    `url` must see every organization it is asked to embed: the admin URL for all of them, or the
    app URL with `org`. Failures are recorded per document and do not stop the run.
    """
    embedder = embedder or get_embedder(model)
    report = EmbedReport()
    with connect(url) as conn:
        if org is None:  # every tenant: the owner's maintenance run, its queries name the org
            owner_maintenance(conn)
        todo = pending_documents(conn, embedder.model, org, everything=everything)
        if progress:
            progress(0, len(todo))
        for done, (tenant, doc) in enumerate(todo, start=1):
            try:
                report.embedded.append(embed_document(conn, tenant, doc, embedder))
            except AdvisorOSError as exc:
                report.failed[doc] = str(exc)
            if progress:
                progress(done, len(todo))
    return report
