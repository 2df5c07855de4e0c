"""The tenant-scoped session API: SQLAlchemy (sync and async) and psycopg, pooled connections."""

from __future__ import annotations

import asyncio
import uuid

import psycopg
import pytest
from psycopg_pool import ConnectionPool
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import Session

from advisoros_db.errors import CheckViolation, TenantError
from advisoros_db.schema import Client
from advisoros_db.tenancy import (
    apply_tenant,
    async_tenant_session,
    async_tenant_transaction,
    scope_session,
    session_tenant,
    tenant_session,
    tenant_transaction,
)
from advisoros_db.urls import to_sqlalchemy
from tests.tenancy.conftest import Seeded

SETTING = "SELECT current_setting('app.organization_id', true)"


def test_sqlalchemy_session_sees_its_tenant_and_leaves_nothing_on_the_pooled_connection(
    seeded: Seeded,
) -> None:
    org_a, _ = seeded.seed.organizations
    engine = create_engine(to_sqlalchemy(seeded.db.app_url), pool_size=1, max_overflow=0)
    try:
        with tenant_session(engine, org_a) as session:
            assert set(session.scalars(select(Client.id))) == {seeded.seed.row("clients", 0)}
            pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() == pid
            assert conn.execute(text(SETTING)).scalar_one() == ""
            with pytest.raises(DBAPIError, match="no tenant is set"):
                conn.execute(select(Client.id)).all()
    finally:
        engine.dispose()


def test_a_scoped_session_reapplies_the_tenant_in_every_transaction(seeded: Seeded) -> None:
    org_a, org_b = seeded.seed.organizations
    engine = create_engine(to_sqlalchemy(seeded.db.app_url))
    try:
        with Session(engine) as session:
            scope_session(session, org_a)
            assert session_tenant(session) == str(org_a)
            assert set(session.scalars(select(Client.id))) == {seeded.seed.row("clients", 0)}
            session.commit()
            assert set(session.scalars(select(Client.id))) == {seeded.seed.row("clients", 0)}
            session.rollback()
            scope_session(session, org_b)
            assert set(session.scalars(select(Client.id))) == {seeded.seed.row("clients", 1)}
    finally:
        engine.dispose()


def test_async_session_is_scoped_the_same_way(seeded: Seeded) -> None:
    org_b = seeded.seed.organizations[1]

    async def run() -> tuple[set[uuid.UUID], str]:
        engine = create_async_engine(to_sqlalchemy(seeded.db.app_url), pool_size=1, max_overflow=0)
        try:
            async with async_tenant_session(engine, org_b) as session:
                ids = set((await session.scalars(select(Client.id))).all())
            async with engine.connect() as conn:
                leftover = (await conn.execute(text(SETTING))).scalar_one()
            return ids, leftover
        finally:
            await engine.dispose()

    ids, leftover = asyncio.run(run())
    assert ids == {seeded.seed.row("clients", 1)}
    assert leftover == ""


def test_async_psycopg_transaction_is_scoped(seeded: Seeded) -> None:
    org_a = seeded.seed.organizations[0]

    async def run() -> list[uuid.UUID]:
        conn = await psycopg.AsyncConnection.connect(seeded.db.app_url)
        async with conn, async_tenant_transaction(conn, org_a):
            cur = await conn.execute("SELECT id FROM clients")
            return [row[0] for row in await cur.fetchall()]

    assert asyncio.run(run()) == [seeded.seed.row("clients", 0)]


def test_psycopg_pool_connection_does_not_leak_the_tenant(seeded: Seeded) -> None:
    org_a = seeded.seed.organizations[0]
    with ConnectionPool(seeded.db.app_url, min_size=1, max_size=1, open=True) as pool:
        with pool.connection() as conn, tenant_transaction(conn, org_a):
            assert conn.execute("SELECT count(*) FROM clients").fetchone() == (1,)
            pid = conn.info.backend_pid
        with pool.connection() as conn:
            assert conn.info.backend_pid == pid
            assert conn.execute(SETTING).fetchone() == ("",)
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="no tenant is set"):
                conn.execute("SELECT count(*) FROM clients")


def test_apply_tenant_works_in_an_explicit_transaction_of_an_autocommit_connection(
    seeded: Seeded,
) -> None:
    # Regression: the autocommit flag alone refused this, although a transaction block is open.
    org_a = seeded.seed.organizations[0]
    with psycopg.connect(seeded.db.app_url, autocommit=True) as conn:
        with pytest.raises(TenantError, match="autocommit"):
            apply_tenant(conn, org_a)
        with conn.transaction():
            apply_tenant(conn, org_a)
            assert conn.execute("SELECT count(*) FROM clients").fetchone() == (1,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="no tenant is set"):
            conn.execute("SELECT count(*) FROM clients")


def test_tenant_transaction_refuses_to_nest_in_an_open_transaction(seeded: Seeded) -> None:
    # Regression: nested, it was a savepoint and the setting outlived the block.
    org_a = seeded.seed.organizations[0]
    with psycopg.connect(seeded.db.app_url) as conn:
        conn.execute("SELECT 1")
        with (
            pytest.raises(TenantError, match="already in a transaction"),
            tenant_transaction(conn, org_a),
        ):
            pass
        assert conn.execute(SETTING).fetchone() in {(None,), ("",)}


def test_a_bad_organization_id_is_refused_before_reaching_the_database(seeded: Seeded) -> None:
    engine = create_engine(to_sqlalchemy(seeded.db.app_url))
    try:
        with (
            pytest.raises(TenantError, match="not an organization id"),
            tenant_session(engine, "acme"),
        ):
            pass
    finally:
        engine.dispose()


def test_errors_inside_a_tenant_session_are_the_packages_own(seeded: Seeded) -> None:
    org_a = seeded.seed.organizations[0]
    engine = create_engine(to_sqlalchemy(seeded.db.app_url))
    try:
        with pytest.raises(CheckViolation) as caught, tenant_session(engine, org_a) as session:
            session.execute(
                text("UPDATE clients SET status = 'bogus' WHERE id = :id"),
                {"id": seeded.seed.row("clients", 0)},
            )
        assert caught.value.constraint == "ck_clients_status"
    finally:
        engine.dispose()
    with psycopg.connect(seeded.db.admin_url) as admin:
        assert admin.execute(
            "SELECT status FROM clients WHERE id = %s", (seeded.seed.row("clients", 0),)
        ).fetchone() == ("active",)
