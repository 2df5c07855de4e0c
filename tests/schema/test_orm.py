"""ORM ergonomics over the real schema: tenant-bound relationships (as the application role and
against forged rows), objects readable after their write session commits, and errors that
SQLAlchemy code still catches with the driver's error as their cause."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import errors as pg_errors
from sqlalchemy import create_engine, event, pool, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, selectinload

from advisoros_db import migrations
from advisoros_db.errors import IntegrityViolation, UniqueViolation
from advisoros_db.routing import AsyncRouter, Router, nodes_from
from advisoros_db.schema.billing import Invoice
from advisoros_db.schema.tenants import Client, User
from advisoros_db.schema.workflow import Engagement, Task
from advisoros_db.urls import to_sqlalchemy
from tests.routing.conftest import FAST
from tests.schema.conftest import SeededDb


@pytest.fixture
def app_router(seeded_db: SeededDb) -> Iterator[Router]:
    """A router over the primary only, logged in as the application role (RLS applies)."""
    with Router(nodes_from(seeded_db.db.app_url, []), FAST) as router:
        yield router


def test_relationships_load_a_tenants_own_rows_as_the_app_role(
    seeded_db: SeededDb, app_router: Router
) -> None:
    seed = seeded_db.seed
    for tenant in (0, 1):
        org = seed.organizations[tenant]
        with app_router.session("read", organization_id=org) as s:
            client = s.get(Client, seed.row("clients", tenant))
            assert client is not None
            assert [d.id for d in client.documents] == [seed.row("documents", tenant)]
            assert [c.id for c in client.contacts] == [seed.row("client_contacts", tenant)]
            assert [e.id for e in client.engagements] == [seed.row("engagements", tenant)]
            engagement = client.engagements[0]
            assert [t.id for t in engagement.tasks] == [seed.row("tasks", tenant)]
            assert engagement.tasks[0].engagement is engagement
            invoice = s.get(Invoice, seed.row("invoices", tenant))
            assert invoice is not None
            assert invoice.client is client
            assert [i.id for i in invoice.line_items] == [seed.row("invoice_line_items", tenant)]
            assert [p.id for p in invoice.payments] == [seed.row("payments", tenant)]
            # The other tenant's client is invisible, so nothing leads to its children.
            assert s.get(Client, seed.row("clients", 1 - tenant)) is None
            loaded = (
                s.execute(select(Client).options(selectinload(Client.documents))).scalars().all()
            )
            assert [c.id for c in loaded] == [client.id]


def test_relationships_join_on_the_organization_too(seeded_db: SeededDb) -> None:
    """Even where row-level security does not apply (the owner), a relationship never returns a
    row of another organization: its join compares organization_id as well as the key. The
    forged rows below bypass the foreign keys (session_replication_role = replica)."""
    seed = seeded_db.seed
    engagement_0, invoice_0 = seed.row("engagements", 0), seed.row("invoices", 0)
    with psycopg.connect(seeded_db.db.admin_url) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(
            "INSERT INTO tasks (organization_id, engagement_id, title) VALUES (%s, %s, 'forged')",
            (seed.organizations[1], engagement_0),
        )
        conn.execute(
            "INSERT INTO invoice_line_items (organization_id, invoice_id, description, "
            "unit_price, amount) VALUES (%s, %s, 'forged', 1, 1)",
            (seed.organizations[1], invoice_0),
        )
    engine = create_engine(to_sqlalchemy(seeded_db.db.admin_url), poolclass=pool.NullPool)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    try:
        with Session(engine) as s:
            engagement = s.get(Engagement, engagement_0)
            invoice = s.get(Invoice, invoice_0)
            assert engagement is not None and invoice is not None
            assert [t.id for t in engagement.tasks] == [seed.row("tasks", 0)]
            assert [i.id for i in invoice.line_items] == [seed.row("invoice_line_items", 0)]
            forged = s.scalars(select(Task).where(Task.title == "forged")).one()
            # From the forged side too: its "engagement" is no row of its own organization.
            assert forged.engagement is None
    finally:
        engine.dispose()
    lazy = [sql for sql in statements if "FROM tasks" in sql and "engagement_id" in sql]
    assert lazy and all("tasks.organization_id" in sql for sql in lazy)


def test_relationships_add_nothing_to_the_schema(seeded_db: SeededDb) -> None:
    assert migrations.drift(seeded_db.db.admin_url) == []


def test_objects_of_a_committed_write_session_stay_readable(
    seeded_db: SeededDb, app_router: Router
) -> None:
    org = seeded_db.seed.organizations[0]
    with app_router.session("write", organization_id=org) as s:
        client = Client(organization_id=org, business_name="Readable Ltd")
        s.add(client)
        existing = s.get(Client, seeded_db.seed.row("clients", 0))
        assert existing is not None
        before = existing.updated_at
        existing.business_name = "Renamed"
    # The session is committed and closed: no DetachedInstanceError, server values present.
    assert isinstance(client.id, uuid.UUID)
    assert client.created_at is not None
    assert client.status == "active"  # a server default, returned by the INSERT
    assert existing.business_name == "Renamed"
    assert existing.updated_at > before  # the UPDATE's onupdate value, returned by it
    with app_router.session("read", organization_id=org, token=app_router.token) as s:
        again = s.get(Client, client.id)
        assert again is not None and again.created_at == client.created_at


def test_async_sessions_keep_objects_readable_after_commit(seeded_db: SeededDb) -> None:
    org = seeded_db.seed.organizations[0]

    async def main() -> Client:
        router = AsyncRouter(nodes_from(seeded_db.db.app_url, []), FAST)
        try:
            async with router.session("write", organization_id=org) as s:
                client = Client(organization_id=org, business_name="Async Readable")
                s.add(client)
            return client
        finally:
            await router.aclose()

    client = asyncio.run(main())
    assert client.business_name == "Async Readable"
    assert client.created_at is not None


def _duplicate_user(router: Router, org: uuid.UUID, email: str) -> None:
    with router.session("write", organization_id=org) as s:
        s.add(User(organization_id=org, email=email, name="Twin"))


def test_integrity_errors_are_sqlalchemys_too_with_the_driver_error_as_cause(
    seeded_db: SeededDb, app_router: Router
) -> None:
    org = seeded_db.seed.organizations[0]
    _duplicate_user(app_router, org, "twin@example.com")
    # Code written against SQLAlchemy catches it as it always did...
    with pytest.raises(sa_exc.IntegrityError) as caught:
        _duplicate_user(app_router, org, "twin@example.com")
    error = caught.value
    # ...and it is the package's own error, naming the constraint.
    assert isinstance(error, UniqueViolation)
    assert error.constraint == "uq_users_organization_id_email"
    assert isinstance(error.__cause__, pg_errors.UniqueViolation)
    assert error.orig is error.__cause__
    assert "uq_users_organization_id_email" in str(error)
    # The psycopg fast path: the same error and cause.
    with (
        pytest.raises(IntegrityViolation) as fast,
        app_router.connection("write", organization_id=org) as conn,
    ):
        conn.execute(
            "INSERT INTO users (organization_id, email, name) VALUES (%s, %s, 'Twin')",
            (org, "twin@example.com"),
        )
    assert isinstance(fast.value, sa_exc.IntegrityError)
    assert isinstance(fast.value.__cause__, pg_errors.UniqueViolation)
    with app_router.session("read", organization_id=org) as s:
        twins = s.scalars(select(User.id).where(User.email == "twin@example.com")).all()
    assert len(twins) == 1  # the first one stayed, nothing else was written
