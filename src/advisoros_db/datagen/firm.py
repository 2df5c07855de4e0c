"""Row models of a firm's practice: organizations, people, clients, engagements, tasks, billing."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from advisoros_db.datagen.context import Context
from advisoros_db.datagen.pools import pick
from advisoros_db.datagen.sampling import Columns, choice, created, sample, tag_sets
from advisoros_db.datagen.values import DAY_US, timestamps, to_us, uuid7

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


def engagements(ctx: Context, org: int, n: int) -> Columns:
    rng = ctx.rng("engagements", org)
    us = created(ctx, rng, n, 900)
    ids = uuid7(us // 1000, rng)
    client = sample(rng, ctx.parents("clients", org), n)
    staff = ctx.parents("users", org)
    kind = choice(
        rng,
        ("tax_preparation", "bookkeeping", "audit", "advisory", "payroll", "cfo_services"),
        n,
        [40, 25, 5, 12, 13, 5],
    )
    status = choice(
        rng,
        ("planning", "in_progress", "review", "completed", "on_hold", "cancelled"),
        n,
        [12, 33, 10, 35, 5, 5],
    )
    start = us + rng.integers(0, 20, n) * DAY_US
    due = start + rng.integers(20, 180, n) * DAY_US
    years = [ctx.anchor.year - int(k) for k in rng.integers(0, 4, n)]
    ctx.keep("engagements", org, client=client)
    return {
        "id": ids,
        "organization_id": [ctx.org_ids[org]] * n,
        "client_id": client,
        "name": [f"{y} {k.replace('_', ' ').title()}" for y, k in zip(years, kind, strict=True)],
        "type": kind,
        "status": status,
        "priority": choice(rng, PRIORITY, n, [20, 55, 20, 5]),
        "tax_year": years,
        "start_date": [t.date() for t in timestamps(start)],
        "due_date": [t.date() for t in timestamps(due)],
        "completed_at": [t if s == "completed" else None for t, s in zip(timestamps(due), status, strict=True)],
        "estimated_hours": np.round(rng.gamma(2.0, 15.0, n), 1).tolist(),
        "fixed_fee": (rng.integers(10, 300, n) * 50).tolist(),
        "assigned_to_id": sample(rng, staff, n),
        "created_by_id": sample(rng, staff, n),
        "custom_fields": [{"extension_filed": bool(r < 0.2), "portal_enabled": bool(r > 0.5)} for r in rng.random(n)],
        "created_at": timestamps(us),
        "updated_at": timestamps(us),
    }  # fmt: skip


def tasks(ctx: Context, org: int, n: int) -> Columns:
    rng = ctx.rng("tasks", org)
    us = created(ctx, rng, n, 700)
    staff = ctx.parents("users", org)
    now = to_us(ctx.anchor)
    due = us + rng.integers(3, 60, n) * DAY_US
    # Past-due work is mostly done; what is not is the overdue list.
    status = [
        (
            "completed"
            if r < 0.72
            else "in_progress"
            if r < 0.85
            else "blocked"
            if r < 0.9
            else "cancelled"
            if r < 0.93
            else "pending"
        )
        if d < now
        else (
            "pending"
            if r < 0.55
            else "in_progress"
            if r < 0.8
            else "review"
            if r < 0.88
            else "blocked"
            if r < 0.93
            else "completed"
        )
        for d, r in zip(due, rng.random(n), strict=True)
    ]
    return {
        "id": uuid7(us // 1000, rng),
        "organization_id": [ctx.org_ids[org]] * n,
        "engagement_id": sample(rng, ctx.parents("engagements", org), n),
        "assignee_id": [None if r < 0.07 else a for a, r in zip(sample(rng, staff, n), rng.random(n), strict=True)],
        "created_by_id": sample(rng, staff, n),
        "title": [s[:-1] for s in pick(rng, ctx.pools.sentences, n)],
        "description": pick(rng, ctx.pools.sentences, n),
        "status": status,
        "priority": choice(rng, PRIORITY, n, [25, 45, 22, 8]),
        "due_date": [t.date() for t in timestamps(due)],
        "completed_at": [t + timedelta(days=int(k)) if s == "completed" else None for s, t, k in zip(status, timestamps(us), rng.integers(1, 40, n), strict=True)],
        "estimated_hours": np.round(rng.gamma(1.5, 2.0, n), 1).tolist(),
        "tags": tag_sets(rng, ["client-waiting", "review", "signature", "irs", "state", "rush"], n, 2),
        "created_at": timestamps(us),
        "updated_at": timestamps(us),
    }  # fmt: skip


def invoices(ctx: Context, org: int, n: int) -> Columns:
    rng = ctx.rng("invoices", org)
    us = created(ctx, rng, n, 720)
    eng_ids = ctx.parents("engagements", org)
    eng_client = ctx.attr("engagements", org, "client")
    pick_idx = rng.integers(0, len(eng_ids), n)
    now = to_us(ctx.anchor)
    due = us + rng.choice([15, 30, 30, 45, 60], n) * DAY_US
    status = [
        (
            "paid"
            if r < 0.8
            else "overdue"
            if r < 0.9
            else "partial"
            if r < 0.94
            else "sent"
            if r < 0.97
            else "written_off"
        )
        if d < now
        else (
            "sent"
            if r < 0.55
            else "viewed"
            if r < 0.7
            else "paid"
            if r < 0.88
            else "draft"
            if r < 0.97
            else "void"
        )
        for d, r in zip(due, rng.random(n), strict=True)
    ]
    amount = np.round(rng.lognormal(7.6, 0.9, n), 2).tolist()
    issued = timestamps(us)
    return {
        "id": uuid7(us // 1000, rng),
        "organization_id": [ctx.org_ids[org]] * n,
        "client_id": [eng_client[i] for i in pick_idx],
        "engagement_id": [eng_ids[i] for i in pick_idx],
        "invoice_number": [f"INV-{i + 1:07d}" for i in range(n)],
        "status": status,
        "issue_date": [t.date() for t in issued],
        "due_date": [t.date() for t in timestamps(due)],
        "subtotal": amount,
        "amount": amount,
        "amount_paid": [a if s == "paid" else round(a / 3, 2) if s == "partial" else 0.0 for a, s in zip(amount, status, strict=True)],
        "sent_at": [None if s == "draft" else t for s, t in zip(status, issued, strict=True)],
        "paid_at": [t + timedelta(days=int(k)) if s == "paid" else None for s, t, k in zip(status, issued, rng.integers(2, 50, n), strict=True)],
        "terms": ["Net 30"] * n,
        "metadata": [{"payment_plan": bool(r < 0.05), "reminders_sent": int(k)} for r, k in zip(rng.random(n), rng.integers(0, 4, n), strict=True)],
        "created_at": issued,
        "updated_at": issued,
    }  # fmt: skip


def notes(ctx: Context, org: int, n: int) -> Columns:
    rng = ctx.rng("notes", org)
    us = created(ctx, rng, n, 900)
    s = ctx.pools.sentences
    reminders = timestamps(to_us(ctx.anchor) + rng.integers(-10, 20, n) * DAY_US)
    return {
        "id": uuid7(us // 1000, rng),
        "organization_id": [ctx.org_ids[org]] * n,
        "client_id": sample(rng, ctx.parents("clients", org), n),
        "author_id": sample(rng, ctx.parents("users", org), n),
        "title": [x[:40] for x in pick(rng, s, n)],
        "content": [" ".join(pick(rng, s, int(k))) for k in rng.integers(1, 5, n)],
        "note_type": choice(rng, ("general", "meeting", "call", "reminder", "follow_up"), n, [50, 15, 20, 8, 7]),
        "is_private": (rng.random(n) < 0.2).tolist(),
        "reminder_at": [t if r < 0.08 else None for t, r in zip(reminders, rng.random(n), strict=True)],
        "tags": tag_sets(rng, ["irs-notice", "follow-up", "billing", "planning", "personal"], n, 2),
        "created_at": timestamps(us),
        "updated_at": timestamps(us),
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
