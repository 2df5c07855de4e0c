"""Row models for the tables the generator knows: realistic columns, tenant-consistent references.

Each model returns column -> values for `n` rows of one organization; columns the live table lacks
are dropped and columns it needs but the model lacks are filled generically (see `assemble`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from ipaddress import IPv4Address
from typing import Any

import numpy as np

from advisoros_db.datagen.context import Context
from advisoros_db.datagen.pools import pick
from advisoros_db.datagen.texts import KIND_WEIGHTS, KINDS
from advisoros_db.datagen.values import DAY_US, jsonb_bytes, timestamps, to_us, uuid7

Columns = dict[str, list[Any]]
Model = Callable[[Context, int, int], Columns]

INDUSTRIES = (
    "construction", "healthcare", "retail", "real_estate", "restaurants", "technology",
    "manufacturing", "professional_services", "nonprofit", "agriculture", "transportation",
)  # fmt: skip
ROLES = ("owner", "admin", "cpa", "staff", "staff", "staff", "client")
ACTIONS = ("create", "update", "update", "update", "view", "delete", "export", "login")
ENTITY_TABLES = {
    "client": "clients",
    "document": "documents",
    "task": "tasks",
    "invoice": "invoices",
    "engagement": "engagements",
}


def _created(ctx: Context, rng: np.random.Generator, n: int, days: int) -> np.ndarray:
    """Creation times in the last `days`, denser towards now (a growing business)."""
    now = to_us(ctx.anchor)
    ages = (1.0 - np.sqrt(rng.random(n))) * days * DAY_US
    return np.sort(now - ages.astype(np.int64))


def _choice(
    rng: np.random.Generator, options: tuple[str, ...], n: int, p: list[float]
) -> list[str]:
    idx = rng.choice(len(options), size=n, p=np.array(p) / sum(p))
    return [options[i] for i in idx]


def _sample(rng: np.random.Generator, values: list[Any], n: int) -> list[Any]:
    return [values[i] for i in rng.integers(0, len(values), n)] if values else [None] * n


def organizations(ctx: Context, _org: int, n: int) -> Columns:
    rng = ctx.rng("organizations")
    ms = _created(ctx, rng, n, 1500) // 1000
    ids = uuid7(ms, rng)
    names = [
        f"{c} CPAs" if i % 3 else f"{c} & Associates"
        for i, c in enumerate(pick(rng, ctx.pools.companies, n))
    ]
    ctx.org_ids = ids
    ctx.remember("organizations", 0, [])
    return {
        "id": ids,
        "name": names,
        "slug": [
            f"{''.join(ch if ch.isalnum() else '-' for ch in nm.lower())}-{i}"
            for i, nm in enumerate(names)
        ],
        "plan": _choice(rng, ("starter", "professional", "enterprise"), n, [6, 3, 1]),
        "created_at": timestamps(ms * 1000),
        "updated_at": timestamps(ms * 1000),
    }


def users(ctx: Context, org: int, n: int) -> Columns:
    rng = ctx.rng("users", org)
    us = _created(ctx, rng, n, 1400)
    ids = uuid7(us // 1000, rng)
    first = pick(rng, ctx.pools.first_names, n)
    last = pick(rng, ctx.pools.last_names, n)
    roles = ["owner", *_sample(rng, list(ROLES[1:]), n - 1)] if n else []
    ctx.remember("users", org, ids, role=roles)
    return {
        "id": ids,
        "organization_id": [ctx.org_ids[org]] * n,
        "email": [
            f"{f.lower()}.{s.lower()}.{i}@firm{org}.example.com"
            for i, (f, s) in enumerate(zip(first, last, strict=True))
        ],
        "name": [f"{f} {s}" for f, s in zip(first, last, strict=True)],
        "role": roles,
        "is_active": (rng.random(n) < 0.95).tolist(),
        "created_at": timestamps(us),
        "updated_at": timestamps(us),
    }


def clients(ctx: Context, org: int, n: int) -> Columns:
    rng = ctx.rng("clients", org)
    us = _created(ctx, rng, n, 1300)
    ids = uuid7(us // 1000, rng)
    names = pick(rng, ctx.pools.companies, n)
    industry = _sample(rng, list(INDUSTRIES), n)
    revenue = np.round(rng.lognormal(13.5, 1.3, n), 2)
    tags = [
        list(
            dict.fromkeys(
                _sample(
                    rng,
                    ["vip", "monthly", "quarterly", "payroll", "s-corp", "llc", "audit", "new"],
                    int(k),
                )
            )
        )
        for k in rng.integers(0, 4, n)
    ]
    ctx.remember("clients", org, ids, name=names)
    return {
        "id": ids,
        "organization_id": [ctx.org_ids[org]] * n,
        "business_name": names,
        "legal_name": [f"{nm}, LLC" if i % 2 else f"{nm} Inc." for i, nm in enumerate(names)],
        "tax_id": [
            f"{a:02d}-{b:07d}"
            for a, b in zip(rng.integers(10, 99, n), rng.integers(0, 9_999_999, n), strict=True)
        ],
        "status": _choice(rng, ("active", "inactive", "prospect", "archived"), n, [80, 8, 8, 4]),
        "risk_level": _choice(rng, ("low", "medium", "high"), n, [60, 30, 10]),
        "industry": industry,
        "custom_fields": [
            {
                "fiscal_year_end": f"{int(m):02d}-{28 if m == 2 else 30}",
                "entity_type": et,
                "employees": int(e),
            }
            for m, et, e in zip(
                rng.choice([12, 12, 12, 3, 6, 9], n),
                _sample(rng, ["LLC", "S-Corp", "C-Corp", "Partnership", "Sole Prop"], n),
                rng.integers(1, 400, n),
                strict=True,
            )
        ],
        "tags": tags,
        "annual_revenue": revenue.tolist(),
        "currency": ["USD"] * n,
        "email": [
            f"billing@{nm.split()[0].lower().strip(',')}{i}.example.com"
            for i, nm in enumerate(names)
        ],
        "created_at": timestamps(us),
        "updated_at": timestamps(us),
    }


def engagements(ctx: Context, org: int, n: int) -> Columns:
    rng = ctx.rng("engagements", org)
    us = _created(ctx, rng, n, 900)
    ids = uuid7(us // 1000, rng)
    client = _sample(rng, ctx.parents("clients", org), n)
    kind = _choice(
        rng, ("tax_return", "bookkeeping", "audit", "advisory", "payroll"), n, [40, 25, 8, 12, 15]
    )
    status = _choice(
        rng, ("planning", "in_progress", "review", "completed", "cancelled"), n, [15, 35, 10, 35, 5]
    )
    start = us + rng.integers(0, 20, n) * DAY_US
    due = start + rng.integers(20, 180, n) * DAY_US
    years = [ctx.anchor.year - int(k) for k in rng.integers(0, 4, n)]
    ctx.remember("engagements", org, ids, client=client)
    return {
        "id": ids,
        "organization_id": [ctx.org_ids[org]] * n,
        "client_id": client,
        "name": [f"{y} {k.replace('_', ' ').title()}" for y, k in zip(years, kind, strict=True)],
        "type": kind,
        "status": status,
        "tax_year": years,
        "start_date": [t.date() for t in timestamps(start)],
        "due_date": [t.date() for t in timestamps(due)],
        "created_at": timestamps(us),
        "updated_at": timestamps(us),
    }


def tasks(ctx: Context, org: int, n: int) -> Columns:
    rng = ctx.rng("tasks", org)
    us = _created(ctx, rng, n, 700)
    ids = uuid7(us // 1000, rng)
    staff = ctx.parents("users", org)
    now = to_us(ctx.anchor)
    due = us + rng.integers(3, 60, n) * DAY_US
    status = [
        ("completed" if r < 0.75 else "in_progress") if d < now else ("todo" if r < 0.6 else "in_progress" if r < 0.9 else "completed")
        for d, r in zip(due, rng.random(n), strict=True)
    ]  # fmt: skip
    completed = [
        t + timedelta(days=int(k)) if s == "completed" else None
        for s, t, k in zip(status, timestamps(us), rng.integers(1, 40, n), strict=True)
    ]
    return {
        "id": ids,
        "organization_id": [ctx.org_ids[org]] * n,
        "engagement_id": _sample(rng, ctx.parents("engagements", org), n),
        "assignee_id": _sample(rng, staff, n),
        "created_by": _sample(rng, staff, n),
        "title": [s[:-1] for s in pick(rng, ctx.pools.sentences, n)],
        "description": pick(rng, ctx.pools.sentences, n),
        "status": status,
        "priority": _choice(rng, ("low", "medium", "high", "urgent"), n, [25, 45, 22, 8]),
        "due_date": timestamps(due),
        "completed_at": completed,
        "created_at": timestamps(us),
        "updated_at": timestamps(us),
    }


def invoices(ctx: Context, org: int, n: int) -> Columns:
    rng = ctx.rng("invoices", org)
    us = _created(ctx, rng, n, 720)
    ids = uuid7(us // 1000, rng)
    eng_ids = ctx.parents("engagements", org)
    eng_client = ctx.attr("engagements", org, "client")
    pick_idx = rng.integers(0, len(eng_ids), n)
    now = to_us(ctx.anchor)
    issue = us
    due = issue + rng.choice([15, 30, 30, 45, 60], n) * DAY_US
    status = [
        ("paid" if r < 0.85 else "overdue") if d < now else ("sent" if r < 0.7 else "paid" if r < 0.9 else "draft")
        for d, r in zip(due, rng.random(n), strict=True)
    ]  # fmt: skip
    paid = [
        t + timedelta(days=int(k)) if s == "paid" else None
        for s, t, k in zip(status, timestamps(issue), rng.integers(2, 50, n), strict=True)
    ]
    amount = np.round(rng.lognormal(7.6, 0.9, n), 2)
    return {
        "id": ids,
        "organization_id": [ctx.org_ids[org]] * n,
        "client_id": [eng_client[i] for i in pick_idx],
        "engagement_id": [eng_ids[i] for i in pick_idx],
        "invoice_number": [f"INV-{ctx.anchor.year - 2}-{i + 1:07d}" for i in range(n)],
        "status": status,
        "amount": amount.tolist(),
        "amount_paid": [
            a if s == "paid" else 0.0 for a, s in zip(amount.tolist(), status, strict=True)
        ],
        "currency": ["USD"] * n,
        "issue_date": [t.date() for t in timestamps(issue)],
        "due_date": [t.date() for t in timestamps(due)],
        "paid_at": paid,
        "created_at": timestamps(us),
        "updated_at": timestamps(us),
    }


def notes(ctx: Context, org: int, n: int) -> Columns:
    rng = ctx.rng("notes", org)
    us = _created(ctx, rng, n, 900)
    s = ctx.pools.sentences
    return {
        "id": uuid7(us // 1000, rng),
        "organization_id": [ctx.org_ids[org]] * n,
        "client_id": _sample(rng, ctx.parents("clients", org), n),
        "author_id": _sample(rng, ctx.parents("users", org), n),
        "title": [x[:40] for x in pick(rng, s, n)],
        "content": [" ".join(pick(rng, s, int(k))) for k in rng.integers(1, 5, n)],
        "is_private": (rng.random(n) < 0.2).tolist(),
        "created_at": timestamps(us),
        "updated_at": timestamps(us),
    }


def advisor_profiles(ctx: Context, org: int, n: int) -> Columns:
    rng = ctx.rng("advisor_profiles", org)
    staff = ctx.parents("users", org)
    n = min(n, len(staff))
    chosen = [staff[i] for i in sorted(rng.choice(len(staff), n, replace=False))] if n else []
    us = _created(ctx, rng, n, 1000)
    return {
        "id": uuid7(us // 1000, rng),
        "organization_id": [ctx.org_ids[org]] * n,
        "user_id": chosen,
        "bio": [" ".join(pick(rng, ctx.pools.sentences, 2)) for _ in range(n)],
        "industries": [
            list(dict.fromkeys(_sample(rng, list(INDUSTRIES), int(k))))
            for k in rng.integers(1, 4, n)
        ],
        "certifications": [
            list(dict.fromkeys(_sample(rng, ["CPA", "EA", "CFP", "CMA", "CIA"], int(k))))
            for k in rng.integers(1, 3, n)
        ],
        "years_experience": rng.integers(1, 35, n).tolist(),
        "created_at": timestamps(us),
        "updated_at": timestamps(us),
    }


def documents(ctx: Context, org: int, n: int) -> Columns:
    rng = ctx.rng("documents", org)
    us = _created(ctx, rng, n, 730)
    ids = uuid7(us // 1000, rng)
    client_ids = ctx.parents("clients", org)
    client_names = ctx.attr("clients", org, "name")
    ci = rng.integers(0, len(client_ids), n)
    kind_idx = rng.choice(len(KINDS), size=n, p=KIND_WEIGHTS)
    # Mostly recent tax years within 2020-2030, a few far-future filings, some not yet known.
    years = np.clip(ctx.anchor.year + 1 - rng.geometric(0.45, n), 2020, 2030)
    years = np.where(rng.random(n) < 0.01, rng.integers(2027, 2031, n), years)
    tax_year: list[int | None] = [int(y) for y in years]
    for i in np.flatnonzero(rng.random(n) < 0.03):
        tax_year[i] = None
    ocr = _choice(rng, ("completed", "pending", "processing", "failed"), n, [82, 10, 4, 4])
    conf = np.round(rng.beta(12, 1.5, n), 3)
    review = [
        (o == "completed" and c < 0.8) or (r < 0.03)
        for o, c, r in zip(ocr, conf, rng.random(n), strict=True)
    ]
    status = [
        "failed" if o == "failed" else "processing" if o in ("pending", "processing") else ("review" if rv else ("processed" if r < 0.9 else "archived"))
        for o, rv, r in zip(ocr, review, rng.random(n), strict=True)
    ]  # fmt: skip
    text: list[str | None] = []
    extracted: list[Any] = []
    for k, c, y, o in zip(kind_idx, ci, tax_year, ocr, strict=True):
        if o != "completed":
            text.append(None)
            extracted.append(None)
            continue
        body, data = KINDS[k].render(rng, ctx.pools, client_names[c], y or ctx.anchor.year)
        text.append(body)
        extracted.append(jsonb_bytes(data))
    size = rng.lognormal(11.5, 1.2, n).astype(np.int64) + 1024
    tags = [
        list(
            dict.fromkeys(
                _sample(
                    rng,
                    [
                        "urgent",
                        "signed",
                        "original",
                        "copy",
                        "amended",
                        "q1",
                        "q2",
                        "q3",
                        "q4",
                        "payroll",
                        "state",
                    ],
                    int(k),
                )
            )
        )
        for k in rng.integers(0, 4, n)
    ]
    files = [
        f"{KINDS[k].form}_{(y or ctx.anchor.year)}_{client_names[c].split()[0].strip(',')}_{i}.pdf".replace(
            " ", "_"
        )
        for i, (k, c, y) in enumerate(zip(kind_idx, ci, tax_year, strict=True))
    ]
    deleted = [
        ts if r < 0.02 else None
        for ts, r in zip(timestamps(us + DAY_US * 30), rng.random(n), strict=True)
    ]
    ctx.remember("documents", org, ids, ocr=ocr)
    return {
        "id": ids,
        "organization_id": [ctx.org_ids[org]] * n,
        "client_id": [client_ids[c] for c in ci],
        "uploaded_by": _sample(rng, ctx.parents("users", org), n),
        "file_name": files,
        "file_type": ["pdf"] * n,
        "mime_type": ["application/pdf"] * n,
        "file_size": size.tolist(),
        "file_url": [f"s3://advisoros-docs/{ctx.org_ids[org]}/{i}" for i in ids],
        "category": [KINDS[k].category for k in kind_idx],
        "document_type": [KINDS[k].form for k in kind_idx],
        "tax_year": tax_year,
        "status": status,
        "ocr_status": ocr,
        "ocr_confidence": [
            float(c) if o == "completed" else None for c, o in zip(conf, ocr, strict=True)
        ],
        "needs_review": review,
        "metadata": [
            jsonb_bytes({"source": s, "pages": int(p), "uploaded_via": v})
            for s, p, v in zip(
                _sample(rng, ["portal", "email", "scanner", "api"], n),
                rng.integers(1, 30, n),
                _sample(rng, ["web", "mobile", "integration"], n),
                strict=True,
            )
        ],
        "extracted_data": extracted,
        "extracted_text": text,
        "tags": tags,
        "created_at": timestamps(us),
        "updated_at": timestamps(us),
        "deleted_at": deleted,
    }


def document_processing(ctx: Context, org: int, n: int) -> Columns:
    rng = ctx.rng("document_processing", org)
    docs = ctx.parents("documents", org)
    ocr = ctx.attr("documents", org, "ocr")
    n = len(docs)
    state = {"completed": "done", "pending": "queued", "processing": "running", "failed": "failed"}
    status = [state[o] for o in ocr]
    us = _created(ctx, rng, n, 730)
    started = timestamps(us)
    return {
        "id": uuid7(us // 1000, rng),
        "organization_id": [ctx.org_ids[org]] * n,
        "document_id": docs,
        "status": status,
        "ocr_confidence": np.round(rng.beta(12, 1.5, n), 3).tolist(),
        "classification": _sample(rng, [k.form for k in KINDS], n),
        "retry_count": [
            int(k) if s == "failed" else 0
            for k, s in zip(rng.integers(1, 4, n), status, strict=True)
        ],
        "last_error": ["OCR engine timeout after 120 s" if s == "failed" else None for s in status],
        "started_at": [t if s != "queued" else None for t, s in zip(started, status, strict=True)],
        "completed_at": [
            t + timedelta(seconds=int(k)) if s == "done" else None
            for t, s, k in zip(started, status, rng.integers(5, 300, n), strict=True)
        ],
        "created_at": started,
        "updated_at": started,
    }


def audit_logs(ctx: Context, org: int, n: int) -> Columns:
    rng = ctx.rng("audit_logs", org)
    us = _created(ctx, rng, n, 730)
    kinds = [k for k in ENTITY_TABLES if ctx.parents(ENTITY_TABLES[k], org)]
    kind = _sample(rng, kinds, n)
    pools = {k: ctx.parents(ENTITY_TABLES[k], org) for k in kinds}
    entity = [
        pools[k][j % len(pools[k])] for k, j in zip(kind, rng.integers(0, 1 << 30, n), strict=True)
    ]
    action = _sample(rng, list(ACTIONS), n)
    changes = [
        jsonb_bytes({"status": s})
        for s in ("active", "pending", "completed", "review", "paid", "sent")
    ]
    fields = [
        jsonb_bytes({"field": f, "value": int(v)})
        for f in ("amount", "priority", "due_in_days")
        for v in range(20)
    ]
    ips = [IPv4Address(bytes(int(x) for x in row)) for row in rng.integers(1, 255, (64, 4))]
    return {
        "id": uuid7(us // 1000, rng),
        "organization_id": [ctx.org_ids[org]] * n,
        "user_id": _sample(rng, [*ctx.parents("users", org), None], n),
        "entity_type": kind,
        "entity_id": entity,
        "action": action,
        "old_values": [_sample_one(rng, changes) if a == "update" else None for a in action],
        "new_values": [
            _sample_one(rng, fields) if a in ("update", "create") else None for a in action
        ],
        "ip_address": _sample(rng, ips, n),
        "user_agent": _sample(rng, list(ctx.pools.user_agents), n),
        "created_at": timestamps(us),
    }


def _sample_one(rng: np.random.Generator, values: list[Any]) -> Any:
    return values[int(rng.integers(len(values)))]


# Table -> (model, how many rows the scale asks for in total). Order is decided by foreign keys.
MODELS: dict[str, tuple[Model, Callable[[Context], int]]] = {
    "organizations": (organizations, lambda c: c.scale.organizations),
    "users": (users, lambda c: c.scale.users),
    "clients": (clients, lambda c: c.scale.clients),
    "engagements": (engagements, lambda c: c.scale.engagements),
    "tasks": (tasks, lambda c: c.scale.tasks),
    "invoices": (invoices, lambda c: c.scale.invoices),
    "notes": (notes, lambda c: c.scale.notes),
    "advisor_profiles": (advisor_profiles, lambda c: c.scale.users // 3),
    "documents": (documents, lambda c: c.scale.documents),
    "document_processing": (document_processing, lambda c: c.scale.documents),
    "audit_logs": (audit_logs, lambda c: c.scale.audit_logs),
}
