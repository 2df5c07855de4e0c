"""Row models of a firm's practice: organizations, people, clients, engagements, tasks, billing."""

from __future__ import annotations

import numpy as np

from advisoros_db.datagen.binary import Micros, Numbers, Pooled, Uuids
from advisoros_db.datagen.context import Context
from advisoros_db.datagen.pools import pick
from advisoros_db.datagen.sampling import (
    Columns,
    choice,
    chosen,
    created,
    parent_ids,
    pooled,
    sample,
    tag_pool,
    tag_sets,
    truncated,
)
from advisoros_db.datagen.values import DAY_US, timestamps, to_us, uuid7, uuid7_bytes

INDUSTRIES = [
    "construction", "healthcare", "retail", "real_estate", "restaurants", "technology",
    "manufacturing", "professional_services", "nonprofit", "agriculture", "transportation",
]  # fmt: skip
BUSINESS_TYPES = ["llc", "llc", "s_corp", "s_corp", "c_corp", "partnership", "sole_proprietorship"]
ROLES = ["admin", "cpa", "senior_advisor", "staff", "staff_accountant", "bookkeeper"]
ADVISOR_ROLES = frozenset({"owner", "cpa", "senior_advisor"})
PRIORITY = ("low", "normal", "high", "urgent")


def organizations(ctx: Context, _org: int, n: int) -> Columns:
    rng = ctx.rng("organizations")
    us = created(ctx, rng, n, 1500)
    ids = uuid7(us // 1000, rng)
    names = [
        f"{c} CPAs" if i % 3 else f"{c} & Associates"
        for i, c in enumerate(pick(rng, ctx.pools.companies, n))
    ]
    ctx.org_ids = ids
    return {
        "id": ids,
        "name": names,
        "slug": [
            f"{''.join(ch if ch.isalnum() else '-' for ch in nm.lower())[:40]}-{i}"
            for i, nm in enumerate(names)
        ],
        "subscription_tier": choice(
            rng, ("trial", "starter", "professional", "enterprise"), n, [1, 5, 3, 1]
        ),
        "timezone": sample(rng, ["America/New_York", "America/Chicago", "America/Los_Angeles"], n),
        "created_at": timestamps(us),
        "updated_at": timestamps(us),
    }


def users(ctx: Context, org: int, n: int) -> Columns:
    rng = ctx.rng("users", org)
    us = created(ctx, rng, n, 1400)
    ids = uuid7(us // 1000, rng)
    first = pick(rng, ctx.pools.first_names, n)
    last = pick(rng, ctx.pools.last_names, n)
    roles = ["owner", *sample(rng, ROLES, n - 1)] if n else []
    return {
        "id": ids,
        "organization_id": [ctx.org_ids[org]] * n,
        "email": [
            f"{f.lower()}.{s.lower()}.{i}@firm{org}.example.com"
            for i, (f, s) in enumerate(zip(first, last, strict=True))
        ],
        "name": [f"{f} {s}" for f, s in zip(first, last, strict=True)],
        "role": roles,
        "is_advisor": [r in ADVISOR_ROLES for r in roles],
        "is_active": (rng.random(n) < 0.95).tolist(),
        "last_login_at": timestamps(to_us(ctx.anchor) - rng.integers(0, 30 * DAY_US, n)),
        "created_at": timestamps(us),
        "updated_at": timestamps(us),
    }


def clients(ctx: Context, org: int, n: int) -> Columns:
    rng = ctx.rng("clients", org)
    us = created(ctx, rng, n, 1300)
    ids = uuid7(us // 1000, rng)
    names = pick(rng, ctx.pools.companies, n)
    btype = sample(rng, BUSINESS_TYPES, n)
    contact = zip(
        pick(rng, ctx.pools.first_names, n), pick(rng, ctx.pools.last_names, n), strict=True
    )
    ctx.keep("clients", org, name=names)
    return {
        "id": ids,
        "organization_id": [ctx.org_ids[org]] * n,
        "business_name": names,
        "legal_name": [f"{nm} Holdings LLC" if i % 2 else f"{nm} Inc." for i, nm in enumerate(names)],
        "tax_id": [f"{a:02d}-{b:07d}" for a, b in zip(rng.integers(10, 99, n), rng.integers(0, 9_999_999, n), strict=True)],
        "primary_contact_name": [f"{a} {b}" for a, b in contact],
        "primary_contact_email": [f"office@{nm.split()[0].lower().strip(',')}{i}.example.com" for i, nm in enumerate(names)],
        "business_address": pick(rng, ctx.pools.streets, n),
        "business_type": btype,
        "industry": sample(rng, INDUSTRIES, n),
        "status": choice(rng, ("active", "inactive", "prospect", "archived"), n, [80, 8, 8, 4]),
        "risk_level": choice(rng, ("low", "medium", "high"), n, [60, 30, 10]),
        "annual_revenue": np.round(rng.lognormal(13.5, 1.3, n), 2).tolist(),
        "fiscal_year_end_month": rng.choice([12, 12, 12, 12, 3, 6, 9], n).tolist(),
        "assigned_partner_id": sample(rng, ctx.parents("users", org), n),
        "financial_data": [
            {"basis": b, "books": s}
            for b, s in zip(sample(rng, ["cash", "accrual", "accrual"], n), sample(rng, ["quickbooks", "xero", "spreadsheet"], n), strict=True)
        ],
        "custom_fields": [
            {"entity_state": st, "entity_type": et, "employees": int(e), "payroll_provider": pp}
            for st, et, e, pp in zip(sample(rng, ["DE", "CA", "NY", "TX", "FL", "WA", "IL"], n), btype, rng.integers(1, 400, n), sample(rng, ["gusto", "adp", "paychex", "none"], n), strict=True)
        ],
        "tags": tag_sets(rng, ["vip", "monthly", "quarterly", "payroll", "s-corp", "audit", "new"], n),
        "created_at": timestamps(us),
        "updated_at": timestamps(us),
    }  # fmt: skip


ENGAGEMENT_KINDS = (
    "tax_preparation",
    "bookkeeping",
    "audit",
    "advisory",
    "payroll",
    "cfo_services",
)
ENGAGEMENT_STATUSES = ("planning", "in_progress", "review", "completed", "on_hold", "cancelled")


def engagements(ctx: Context, org: int, n: int) -> Columns:
    rng = ctx.rng("engagements", org)
    us = created(ctx, rng, n, 900)
    ids = Uuids(uuid7_bytes(us // 1000, rng))
    clients = ctx.parents("clients", org)
    client = rng.integers(0, len(clients), n)
    staff = ctx.parents("users", org)
    kind = chosen(rng, ENGAGEMENT_KINDS, n, [40, 25, 5, 12, 13, 5])
    status = chosen(rng, ENGAGEMENT_STATUSES, n, [12, 33, 10, 35, 5, 5])
    start = us + rng.integers(0, 20, n) * DAY_US
    due = start + rng.integers(20, 180, n) * DAY_US
    ago = rng.integers(0, 4, n)
    ctx.keep("engagements", org, client=[clients[i] for i in client.tolist()])
    names = [
        f"{ctx.anchor.year - a} {k.replace('_', ' ').title()}"
        for a in range(4)
        for k in ENGAGEMENT_KINDS
    ]
    r = rng.random(n)
    flags = [
        {"extension_filed": e, "portal_enabled": p} for e in (False, True) for p in (False, True)
    ]
    return {
        "id": ids,
        "organization_id": Pooled(np.zeros(n, dtype=np.int64), [ctx.org_ids[org]]),
        "client_id": Uuids(ctx.parent_bytes("clients", org)[client]),
        "name": Pooled(ago * len(ENGAGEMENT_KINDS) + kind.index, names),
        "type": kind,
        "status": status,
        "priority": chosen(rng, PRIORITY, n, [20, 55, 20, 5]),
        "tax_year": Numbers(ctx.anchor.year - ago),
        "start_date": Micros(start),
        "due_date": Micros(due),
        "completed_at": Micros(due, status.index != ENGAGEMENT_STATUSES.index("completed")),
        "estimated_hours": Numbers(np.round(rng.gamma(2.0, 15.0, n), 1)),
        "fixed_fee": Numbers(rng.integers(10, 300, n) * 50),
        "assigned_to_id": pooled(rng, staff, n),
        "created_by_id": pooled(rng, staff, n),
        "custom_fields": Pooled((r < 0.2) * 2 + (r > 0.5), flags),
        "created_at": Micros(us),
        "updated_at": Micros(us),
    }  # fmt: skip


TASK_STATUSES = ("completed", "in_progress", "blocked", "cancelled", "pending", "review")
INVOICE_STATUSES = ("paid", "overdue", "partial", "sent", "written_off", "viewed", "draft", "void")


def _by_threshold(
    r: np.ndarray, cuts: list[float], labels: list[str], vocab: tuple[str, ...]
) -> np.ndarray:
    """Positions in `vocab` of labels[i] for the first cut r falls under (the last label else)."""
    at = np.searchsorted(np.array(cuts), r, side="right")
    return np.array([vocab.index(label) for label in labels])[at]


def tasks(ctx: Context, org: int, n: int) -> Columns:
    rng = ctx.rng("tasks", org)
    us = created(ctx, rng, n, 700)
    staff = ctx.parents("users", org)
    now = to_us(ctx.anchor)
    due = us + rng.integers(3, 60, n) * DAY_US
    r = rng.random(n)
    # Past-due work is mostly done; what is not is the overdue list.
    past = _by_threshold(
        r,
        [0.72, 0.85, 0.9, 0.93],
        ["completed", "in_progress", "blocked", "cancelled", "pending"],
        TASK_STATUSES,
    )
    ahead = _by_threshold(
        r,
        [0.55, 0.8, 0.88, 0.93],
        ["pending", "in_progress", "review", "blocked", "completed"],
        TASK_STATUSES,
    )
    status = np.where(due < now, past, ahead)
    engagement = parent_ids(ctx, rng, "engagements", org, n)
    assignee = rng.integers(0, len(staff), n)
    unassigned = rng.random(n) < 0.07
    sentences = ctx.pools.sentences
    return {
        "id": Uuids(uuid7_bytes(us // 1000, rng)),
        "organization_id": Pooled(np.zeros(n, dtype=np.int64), [ctx.org_ids[org]]),
        "engagement_id": engagement,
        "assignee_id": Pooled(np.where(unassigned, len(staff), assignee), [*staff, None]),
        "created_by_id": pooled(rng, staff, n),
        "title": Pooled(rng.integers(0, len(sentences), n), truncated(sentences, -1)),
        "description": Pooled(rng.integers(0, len(sentences), n), sentences),
        "status": Pooled(status, TASK_STATUSES),
        "priority": chosen(rng, PRIORITY, n, [25, 45, 22, 8]),
        "due_date": Micros(due),
        "completed_at": Micros(us + rng.integers(1, 40, n) * DAY_US, status != 0),
        "estimated_hours": Numbers(np.round(rng.gamma(1.5, 2.0, n), 1)),
        "tags": tag_pool(rng, ["client-waiting", "review", "signature", "irs", "state", "rush"], n, 2),
        "created_at": Micros(us),
        "updated_at": Micros(us),
    }  # fmt: skip


def invoices(ctx: Context, org: int, n: int) -> Columns:
    rng = ctx.rng("invoices", org)
    us = created(ctx, rng, n, 720)
    eng_ids = ctx.parent_bytes("engagements", org)
    eng_client = ctx.attr("engagements", org, "client")
    pick_idx = rng.integers(0, len(eng_ids), n)
    now = to_us(ctx.anchor)
    due = us + rng.choice([15, 30, 30, 45, 60], n) * DAY_US
    r = rng.random(n)
    past = _by_threshold(
        r,
        [0.8, 0.9, 0.94, 0.97],
        ["paid", "overdue", "partial", "sent", "written_off"],
        INVOICE_STATUSES,
    )
    ahead = _by_threshold(
        r, [0.55, 0.7, 0.88, 0.97], ["sent", "viewed", "paid", "draft", "void"], INVOICE_STATUSES
    )
    status = np.where(due < now, past, ahead)
    amount = np.round(rng.lognormal(7.6, 0.9, n), 2)
    paid, partial = (
        status == INVOICE_STATUSES.index("paid"),
        status == INVOICE_STATUSES.index("partial"),
    )
    issued = Micros(us)
    plan, reminders = rng.random(n) < 0.05, rng.integers(0, 4, n)
    return {
        "id": Uuids(uuid7_bytes(us // 1000, rng)),
        "organization_id": Pooled(np.zeros(n, dtype=np.int64), [ctx.org_ids[org]]),
        "client_id": Pooled(pick_idx, eng_client),
        "engagement_id": Uuids(eng_ids[pick_idx]),
        "invoice_number": [f"INV-{i + 1:07d}" for i in range(n)],
        "status": Pooled(status, INVOICE_STATUSES),
        "issue_date": issued,
        "due_date": Micros(due),
        "subtotal": Numbers(amount),
        "amount": Numbers(amount),
        "amount_paid": Numbers(np.where(paid, amount, np.where(partial, np.round(amount / 3, 2), 0.0))),
        "sent_at": Micros(us, status == INVOICE_STATUSES.index("draft")),
        "paid_at": Micros(us + rng.integers(2, 50, n) * DAY_US, ~paid),
        "terms": Pooled(np.zeros(n, dtype=np.int64), ["Net 30"]),
        "metadata": Pooled(plan * 4 + reminders, [{"payment_plan": p, "reminders_sent": k} for p in (False, True) for k in range(4)]),
        "created_at": issued,
        "updated_at": issued,
    }  # fmt: skip


def notes(ctx: Context, org: int, n: int) -> Columns:
    rng = ctx.rng("notes", org)
    us = created(ctx, rng, n, 900)
    s = ctx.pools.sentences
    reminders = to_us(ctx.anchor) + rng.integers(-10, 20, n) * DAY_US
    lengths = rng.integers(1, 5, n)
    picks = rng.integers(0, len(s), int(lengths.sum())).tolist()
    ends = np.cumsum(lengths).tolist()
    starts = [0, *ends[:-1]]
    return {
        "id": Uuids(uuid7_bytes(us // 1000, rng)),
        "organization_id": Pooled(np.zeros(n, dtype=np.int64), [ctx.org_ids[org]]),
        "client_id": parent_ids(ctx, rng, "clients", org, n),
        "author_id": pooled(rng, ctx.parents("users", org), n),
        "title": Pooled(rng.integers(0, len(s), n), truncated(s, 40)),
        "content": [" ".join(s[i] for i in picks[a:b]) for a, b in zip(starts, ends, strict=True)],
        "note_type": chosen(rng, ("general", "meeting", "call", "reminder", "follow_up"), n, [50, 15, 20, 8, 7]),
        "is_private": Numbers(rng.random(n) < 0.2),
        "reminder_at": Micros(reminders, rng.random(n) >= 0.08),
        "tags": tag_pool(rng, ["irs-notice", "follow-up", "billing", "planning", "personal"], n, 2),
        "created_at": Micros(us),
        "updated_at": Micros(us),
    }  # fmt: skip


def advisor_profiles(ctx: Context, org: int, n: int) -> Columns:
    rng = ctx.rng("advisor_profiles", org)
    staff = ctx.parents("users", org)
    n = min(n, len(staff))
    chosen = [staff[i] for i in sorted(rng.choice(len(staff), n, replace=False))] if n else []
    us = created(ctx, rng, n, 1000)
    return {
        "id": uuid7(us // 1000, rng),
        "organization_id": [ctx.org_ids[org]] * n,
        "user_id": chosen,
        "headline": [f"{c} for {i.replace('_', ' ')} businesses" for c, i in zip(sample(rng, ["CPA", "Fractional CFO", "Tax advisor"], n), sample(rng, INDUSTRIES, n), strict=True)],
        "bio": [" ".join(pick(rng, ctx.pools.sentences, 2)) for _ in range(n)],
        "industries": [list(dict.fromkeys(sample(rng, [*INDUSTRIES, "aviation"], int(k)))) for k in rng.integers(1, 4, n)],
        "specializations": tag_sets(rng, ["tax planning", "audit", "payroll", "cfo services", "estate"], n, 2),
        "certifications": [list(dict.fromkeys(sample(rng, ["CPA", "EA", "CFP", "CMA", "CIA"], int(k)))) for k in rng.integers(1, 3, n)],
        "years_experience": rng.integers(1, 35, n).tolist(),
        "hourly_rate": (rng.integers(8, 45, n) * 10).tolist(),
        "availability": choice(rng, ("available", "limited", "unavailable"), n, [5, 3, 2]),
        "rating": np.round(rng.uniform(3.2, 5.0, n), 2).tolist(),
        "is_listed": (rng.random(n) < 0.6).tolist(),
        "created_at": timestamps(us),
        "updated_at": timestamps(us),
    }  # fmt: skip
