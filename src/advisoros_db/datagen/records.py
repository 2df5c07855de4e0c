"""Row models of the high-volume records: documents, their processing, and the audit log."""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import Any

import numpy as np

from advisoros_db.datagen.binary import Fixed, Micros, Numbers, Pooled, Uuids
from advisoros_db.datagen.buckets import Bucket, month_times
from advisoros_db.datagen.context import Context
from advisoros_db.datagen.pools import PRACTICE_PHRASES
from advisoros_db.datagen.sampling import Columns, created, pooled, tag_pool
from advisoros_db.datagen.texts import KIND_WEIGHTS, KINDS, render
from advisoros_db.datagen.values import DAY_US, jsonb_bytes, text_column, uuid7_bytes, uuid_text

ENTITY_TABLES = {
    "client": "clients",
    "document": "documents",
    "task": "tasks",
    "invoice": "invoices",
    "engagement": "engagements",
}
ACTIONS = [
    "create",
    "update",
    "update",
    "update",
    "view",
    "view",
    "delete",
    "export",
    "approve",
    "share",
]
DOC_TAGS = ["urgent", "signed", "original", "amended", "q1", "q2", "q3", "q4", "payroll", "state"]
OCR_TO_PROCESSING = {
    "completed": "done",
    "manual_review": "done",
    "pending": "queued",
    "processing": "running",
    "failed": "failed",
}


# Document status by (OCR status, needs review, r): as `_status` decided per row before.
OCR = ("completed", "manual_review", "pending", "processing", "failed")
DOCUMENT_STATUSES = (
    "rejected",
    "uploaded",
    "processing",
    "in_review",
    "approved",
    "ready",
    "archived",
)
PROCESSING = ("done", "queued", "running", "failed")
OCR_TO_PROCESSING_INDEX = np.array([PROCESSING.index(OCR_TO_PROCESSING[o]) for o in OCR])


def _statuses(ocr: np.ndarray, review: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Positions in DOCUMENT_STATUSES: what review a document's OCR outcome leads to."""
    s = DOCUMENT_STATUSES.index
    failed = np.where(r < 0.3, s("rejected"), s("uploaded"))
    running = np.where((ocr == OCR.index("processing")) | (r < 0.5), s("processing"), s("uploaded"))
    done = np.where(
        review,
        s("in_review"),
        np.where(r < 0.55, s("approved"), np.where(r < 0.9, s("ready"), s("archived"))),
    )
    return np.select(
        [ocr == OCR.index("failed"), np.isin(ocr, [OCR.index("pending"), OCR.index("processing")])],
        [failed, running],
        done,
    )


def _pooled_json(values: list[dict[str, Any]], index: np.ndarray) -> Pooled:
    return Pooled(index, [jsonb_bytes(v) for v in values])


SOURCES = ("portal", "email", "scanner", "api")
VIA = ("web", "mobile", "integration")
METADATA = [
    {"source": s, "pages": p, "uploaded_via": v} for s in SOURCES for p in range(1, 30) for v in VIA
]


def _first_words(names: list[str]) -> list[str]:
    return [nm.split()[0].strip(",") for nm in names]


def documents(ctx: Context, org: int, n: int, bucket: Bucket, offset: int) -> Columns:
    """One bucket (tax year) of an organization's documents; `offset` numbers its file names
    after the organization's earlier buckets."""
    rng = ctx.rng(f"documents@{bucket.label}", org)
    us = created(ctx, rng, n, 730)
    ids = Uuids(uuid7_bytes(us // 1000, rng))
    client_names = ctx.attr("clients", org, "name")
    words = ctx.memo.get(("clients:words", org))
    if words is None:
        words = ctx.memo[("clients:words", org)] = _first_words(client_names)
    ci = rng.integers(0, len(client_names), n)
    kind = rng.choice(len(KINDS), size=n, p=KIND_WEIGHTS)
    # What file names show (an unknown tax year: the current one).
    year = bucket.key if isinstance(bucket.key, int) else ctx.anchor.year
    ocr = rng.choice(len(OCR), size=n, p=np.array([80, 3, 10, 3, 4]) / 100)
    conf = np.round(rng.beta(12, 1.5, n), 3)
    read = ocr <= OCR.index("manual_review")  # completed or manual review: text extracted
    review = (
        (ocr == OCR.index("manual_review")) | ((ocr == 0) & (conf < 0.8)) | (rng.random(n) < 0.02)
    )
    clients = [client_names[c] for c in ci.tolist()]
    texts, extracted = render(rng, ctx.pools, np.where(read, kind, -1), clients, [year] * n)
    created_at = Micros(us)
    ctx.keep("documents", org, ocr=ocr.tolist())
    forms = [k.form for k in KINDS]
    phrase = rng.integers(0, len(PRACTICE_PHRASES), n).tolist()
    quarter = rng.integers(1, 5, n)
    no_quarter = rng.random(n) >= 0.3
    source, pages, via = rng.integers(0, 4, n), rng.integers(1, 30, n), rng.integers(0, 3, n)
    status = _statuses(ocr, review, rng.random(n))
    tags = tag_pool(rng, DOC_TAGS, n)
    deleted = rng.random(n) >= 0.02
    prefix = f"s3://advisoros-documents/{ctx.org_ids[org]}/"
    return {
        "id": ids,
        "organization_id": Pooled(np.zeros(n, dtype=np.int64), [ctx.org_ids[org]]),
        "client_id": Uuids(ctx.parent_bytes("clients", org)[ci]),
        "uploaded_by": pooled(rng, ctx.parents("users", org), n),
        "file_name": [
            f"{forms[k]}_{year}_{words[c]}_{offset + i}.pdf"
            for i, (k, c) in enumerate(zip(kind.tolist(), ci.tolist(), strict=True))
        ],
        "file_url": Fixed(text_column(prefix, uuid_text(ids.data), ".pdf")),
        "file_type": Pooled(np.zeros(n, dtype=np.int64), ["pdf"]),
        "mime_type": Pooled(np.zeros(n, dtype=np.int64), ["application/pdf"]),
        "file_size": Numbers(rng.lognormal(11.5, 1.2, n).astype(np.int64) + 1024),
        "category": Pooled(kind, [k.category for k in KINDS]),
        "subcategory": Pooled(kind, forms),
        "tax_year": Numbers(np.full(n, year), np.full(n, bucket.key is None)),
        "quarter": Numbers(quarter, no_quarter),
        "description": [
            f"{forms[k]} for {c}. {PRACTICE_PHRASES[p]}"
            for k, c, p in zip(kind.tolist(), clients, phrase, strict=True)
        ],
        "status": Pooled(status, DOCUMENT_STATUSES),
        "ocr_status": Pooled(ocr, OCR),
        "ocr_confidence": Numbers(conf, ~read),
        "ocr_processed_at": Micros(us + 3 * 60_000_000, ~read),
        "needs_review": Numbers(review),
        "metadata": _pooled_json(METADATA, (source * 29 + pages - 1) * 3 + via),
        "extracted_data": extracted,
        "extracted_text": texts,
        "tags": tags,
        "created_at": created_at,
        "updated_at": created_at,
        "deleted_at": Micros(us + 30 * DAY_US, deleted),
    }  # fmt: skip


def document_processing(ctx: Context, org: int, _n: int) -> Columns:
    """One processing record per document, its state following the document's OCR status."""
    rng = ctx.rng("document_processing", org)
    docs = ctx.parent_bytes("documents", org)
    n = len(docs)
    status = OCR_TO_PROCESSING_INDEX[np.asarray(ctx.attr("documents", org, "ocr"), dtype=np.int64)]
    us = created(ctx, rng, n, 730)
    done, failed = status == PROCESSING.index("done"), status == PROCESSING.index("failed")
    queued = status == PROCESSING.index("queued")
    started = Micros(us)
    return {
        "id": Uuids(uuid7_bytes(us // 1000, rng)),
        "organization_id": Pooled(np.zeros(n, dtype=np.int64), [ctx.org_ids[org]]),
        "document_id": Uuids(docs),
        "status": Pooled(status, PROCESSING),
        "ocr_provider": pooled(rng, ["azure-form-recognizer", "textract"], n),
        "ocr_confidence": Numbers(np.round(rng.beta(12, 1.5, n), 3)),
        "classification": pooled(rng, [k.form for k in KINDS], n),
        "retry_count": Numbers(np.where(failed, rng.integers(1, 4, n), 0)),
        "last_error": Pooled(np.where(failed, 0, 1), ["OCR engine timeout after 120 s", None]),
        "queued_at": started,
        "started_at": Micros(us, queued),
        "completed_at": Micros(us + rng.integers(5, 300, n) * 1_000_000, ~done),
        "processing_ms": Numbers(rng.integers(800, 90_000, n), ~done),
        "created_at": started,
        "updated_at": started,
    }


def _entities(ctx: Context, org: int) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """The organization's audit entity kinds, all their ids (one (n, 16) array), and where each
    kind's ids start and how many it has; made once for all of its month buckets."""
    key = ("audit_logs:entities", org)
    known = ctx.memo.get(key)
    if known is None:
        kinds = [k for k in ENTITY_TABLES if ctx.count(ENTITY_TABLES[k], org)]
        groups = [ctx.parent_bytes(ENTITY_TABLES[k], org) for k in kinds]
        sizes = np.array([len(g) for g in groups], dtype=np.int64)
        offsets = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
        known = ctx.memo[key] = (kinds, np.concatenate(groups), offsets, sizes)
    return known


def audit_logs(ctx: Context, org: int, n: int, bucket: Bucket, _offset: int) -> Columns:
    """One month of an organization's audit trail, column-wise (vocabulary positions, arrays):
    the largest table is never turned into Python objects row by row."""
    rng = ctx.rng(f"audit_logs@{bucket.label}", org)
    us = month_times(ctx, rng, bucket, n)
    kinds, ids_of, offsets, sizes = _entities(ctx, org)
    kind = rng.integers(0, len(kinds), n)
    # Skewed towards a hot set of entities, as real audit trails are.
    hot = rng.zipf(1.3, n)
    entity = offsets[kind] + hot % sizes[kind]
    action = rng.integers(0, len(ACTIONS), n)
    before = [
        jsonb_bytes({"status": s}) for s in ("draft", "pending", "in_review", "approved", "sent")
    ]
    after = [jsonb_bytes({"status": s}) for s in ("approved", "rejected", "completed", "paid")]
    fields = [
        jsonb_bytes({"field": f, "value": int(v)})
        for f in ("amount", "priority", "due_in_days")
        for v in range(20)
    ]
    ips = [IPv4Address(bytes(int(x) for x in row)) for row in rng.integers(1, 255, (64, 4))]
    ids = Uuids(uuid7_bytes(us // 1000, rng))
    users = pooled(rng, [*ctx.parents("users", org), None], n)
    old_at = rng.integers(0, len(before), n)
    changed = np.isin(action, [i for i, a in enumerate(ACTIONS) if a in ("update", "approve")])
    r, k = rng.random(n), rng.integers(0, 1 << 20, n)
    new_at = np.where(r < 0.5, k % len(after), len(after) + k % len(fields))
    written = np.isin(
        action, [i for i, a in enumerate(ACTIONS) if a in ("update", "create", "approve")]
    )
    return {
        "id": ids,
        "organization_id": Pooled(np.zeros(n, dtype=np.int64), [ctx.org_ids[org]]),
        "user_id": users,
        "entity_type": Pooled(kind, kinds),
        "entity_id": Uuids(ids_of[entity]),
        "action": Pooled(action, ACTIONS),
        "old_values": Pooled(np.where(changed, old_at, len(before)), [*before, None]),
        "new_values": Pooled(np.where(written, new_at, len(after) + len(fields)), [*after, *fields, None]),
        "ip_address": pooled(rng, ips, n),
        "user_agent": pooled(rng, ctx.pools.user_agents, n),
        "created_at": Micros(us),
    }  # fmt: skip
