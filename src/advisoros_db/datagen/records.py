"""Row models of the high-volume records: documents, their processing, and the audit log."""

from __future__ import annotations

from datetime import timedelta
from ipaddress import IPv4Address
from typing import Any

import numpy as np

from advisoros_db.datagen.binary import Micros, Pooled, Uuids
from advisoros_db.datagen.context import Context
from advisoros_db.datagen.pools import PRACTICE_PHRASES
from advisoros_db.datagen.sampling import Columns, choice, created, pooled, sample, tag_sets
from advisoros_db.datagen.texts import KIND_WEIGHTS, KINDS
from advisoros_db.datagen.values import jsonb_bytes, timestamps, uuid7, uuid7_bytes

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


def _tax_years(ctx: Context, rng: np.random.Generator, n: int) -> list[int | None]:
    """Mostly recent years within 2020-2030, a few far-future filings, some not yet known."""
    years = np.clip(ctx.anchor.year + 1 - rng.geometric(0.45, n), 2020, 2030)
    years = np.where(rng.random(n) < 0.01, rng.integers(2027, 2031, n), years)
    out: list[int | None] = [int(y) for y in years]
    for i in np.flatnonzero(rng.random(n) < 0.03):
        out[i] = None
    return out


def _status(ocr: str, review: bool, r: float) -> str:
    if ocr == "failed":
        return "rejected" if r < 0.3 else "uploaded"
    if ocr in ("pending", "processing"):
        return "processing" if ocr == "processing" or r < 0.5 else "uploaded"
    if review:
        return "in_review"
    return "approved" if r < 0.55 else "ready" if r < 0.9 else "archived"


def documents(ctx: Context, org: int, n: int) -> Columns:
    rng = ctx.rng("documents", org)
    us = created(ctx, rng, n, 730)
    ids = uuid7(us // 1000, rng)
    client_ids = ctx.parents("clients", org)
    client_names = ctx.attr("clients", org, "name")
    ci = rng.integers(0, len(client_ids), n)
    kind_idx = rng.choice(len(KINDS), size=n, p=KIND_WEIGHTS)
    tax_year = _tax_years(ctx, rng, n)
    ocr = choice(
        rng, ("completed", "manual_review", "pending", "processing", "failed"), n, [80, 3, 10, 3, 4]
    )
    conf = np.round(rng.beta(12, 1.5, n), 3)
    review = [
        o == "manual_review" or (o == "completed" and c < 0.8) or r < 0.02
        for o, c, r in zip(ocr, conf, rng.random(n), strict=True)
    ]
    text: list[str | None] = []
    extracted: list[Any] = []
    for k, c, y, o in zip(kind_idx, ci, tax_year, ocr, strict=True):
        if o not in ("completed", "manual_review"):
            text.append(None)
            extracted.append(None)
            continue
        body, data = KINDS[k].render(rng, ctx.pools, client_names[c], y or ctx.anchor.year)
        text.append(body)
        extracted.append(jsonb_bytes(data))
    created_at = timestamps(us)
    ctx.keep("documents", org, ocr=ocr)
    return {
        "id": ids,
        "organization_id": [ctx.org_ids[org]] * n,
        "client_id": [client_ids[c] for c in ci],
        "uploaded_by": sample(rng, ctx.parents("users", org), n),
        "file_name": [
            f"{KINDS[k].form}_{y or ctx.anchor.year}_{client_names[c].split()[0].strip(',')}_{i}.pdf"
            for i, (k, c, y) in enumerate(zip(kind_idx, ci, tax_year, strict=True))
        ],
        "file_url": [f"s3://advisoros-documents/{ctx.org_ids[org]}/{d}.pdf" for d in ids],
        "file_type": ["pdf"] * n,
        "mime_type": ["application/pdf"] * n,
        "file_size": (rng.lognormal(11.5, 1.2, n).astype(np.int64) + 1024).tolist(),
        "category": [KINDS[k].category for k in kind_idx],
        "subcategory": [KINDS[k].form for k in kind_idx],
        "tax_year": tax_year,
        "quarter": [int(q) if r < 0.3 else None for q, r in zip(rng.integers(1, 5, n), rng.random(n), strict=True)],
        "description": [f"{KINDS[k].form} for {client_names[c]}. {p}" for k, c, p in zip(kind_idx, ci, sample(rng, PRACTICE_PHRASES, n), strict=True)],
        "status": [_status(o, rv, r) for o, rv, r in zip(ocr, review, rng.random(n), strict=True)],
        "ocr_status": ocr,
        "ocr_confidence": [float(c) if o in ("completed", "manual_review") else None for c, o in zip(conf, ocr, strict=True)],
        "ocr_processed_at": [t + timedelta(minutes=3) if o in ("completed", "manual_review") else None for t, o in zip(created_at, ocr, strict=True)],
        "needs_review": review,
        "metadata": [
            jsonb_bytes({"source": s, "pages": int(p), "uploaded_via": v})
            for s, p, v in zip(sample(rng, ["portal", "email", "scanner", "api"], n), rng.integers(1, 30, n), sample(rng, ["web", "mobile", "integration"], n), strict=True)
        ],
        "extracted_data": extracted,
        "extracted_text": text,
        "tags": tag_sets(rng, DOC_TAGS, n),
        "created_at": created_at,
        "updated_at": created_at,
        "deleted_at": [t + timedelta(days=30) if r < 0.02 else None for t, r in zip(created_at, rng.random(n), strict=True)],
    }  # fmt: skip


def document_processing(ctx: Context, org: int, _n: int) -> Columns:
    """One processing record per document, its state following the document's OCR status."""
    rng = ctx.rng("document_processing", org)
    docs = ctx.parents("documents", org)
    n = len(docs)
    status = [OCR_TO_PROCESSING[o] for o in ctx.attr("documents", org, "ocr")]
    us = created(ctx, rng, n, 730)
    started = timestamps(us)
    return {
        "id": uuid7(us // 1000, rng),
        "organization_id": [ctx.org_ids[org]] * n,
        "document_id": docs,
        "status": status,
        "ocr_provider": sample(rng, ["azure-form-recognizer", "textract"], n),
        "ocr_confidence": np.round(rng.beta(12, 1.5, n), 3).tolist(),
        "classification": sample(rng, [k.form for k in KINDS], n),
        "retry_count": [int(k) if s == "failed" else 0 for k, s in zip(rng.integers(1, 4, n), status, strict=True)],
        "last_error": ["OCR engine timeout after 120 s" if s == "failed" else None for s in status],
        "queued_at": started,
        "started_at": [t if s != "queued" else None for t, s in zip(started, status, strict=True)],
        "completed_at": [t + timedelta(seconds=int(k)) if s == "done" else None for t, s, k in zip(started, status, rng.integers(5, 300, n), strict=True)],
        "processing_ms": [int(k) if s == "done" else None for k, s in zip(rng.integers(800, 90_000, n), status, strict=True)],
        "created_at": started,
        "updated_at": started,
    }  # fmt: skip


def audit_logs(ctx: Context, org: int, n: int) -> Columns:
    # Column-wise (vocabulary positions, arrays): the largest table is never turned into Python
    # objects row by row. The draws are those of the row-by-row model this replaced.
    rng = ctx.rng("audit_logs", org)
    us = created(ctx, rng, n, 730)
    kinds = [k for k in ENTITY_TABLES if ctx.parents(ENTITY_TABLES[k], org)]
    kind = rng.integers(0, len(kinds), n)
    # Skewed towards a hot set of entities, as real audit trails are.
    hot = rng.zipf(1.3, n)
    entities = [ctx.parents(ENTITY_TABLES[k], org) for k in kinds]
    sizes = np.array([len(e) for e in entities], dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(sizes)[:-1]))
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
        "entity_id": Pooled(entity, [e for group in entities for e in group]),
        "action": Pooled(action, ACTIONS),
        "old_values": Pooled(np.where(changed, old_at, len(before)), [*before, None]),
        "new_values": Pooled(np.where(written, new_at, len(after) + len(fields)), [*after, *fields, None]),
        "ip_address": pooled(rng, ips, n),
        "user_agent": pooled(rng, ctx.pools.user_agents, n),
        "created_at": Micros(us),
    }  # fmt: skip
