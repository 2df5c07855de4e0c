"""`tour`: a short, real walk through what the system does, on the running servers and demo data."""

from __future__ import annotations

from typing import Any

import psycopg
import typer

from advisoros_db import migrations, partitioning, pooler
from advisoros_db.cli import health, search, servers
from advisoros_db.cli.output import command, console, fail
from advisoros_db.tenancy import tenant_transaction
from advisoros_db.urls import mask

app = typer.Typer()

# The organization the demo embedded documents for: the one with the most chunks.
_DEMO_ORG = """
SELECT organization_id::text FROM document_embeddings
GROUP BY organization_id ORDER BY count(*) DESC, organization_id LIMIT 1
"""


@app.command()
@command
def tour() -> None:
    """Show the servers, the schema, tenant isolation, partitions, routing health and search."""
    target = servers.target()
    console.rule("1. Servers: a primary and streaming replicas")
    console.print(f"primary   {mask(target.admin_url)}")
    for url in target.replica_urls:
        console.print(f"replica   {mask(url)}")

    console.rule("2. Schema: migrated with Alembic, every revision reversible")
    console.print(f"at revision {migrations.current(target.admin_url) or 'base'}")
    with pooler.connect(target.admin_url) as conn:
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition),"
            " count(*) FILTER (WHERE c.relforcerowsecurity AND NOT c.relispartition)"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public'"
        ).fetchone()
        org_row = conn.execute(_DEMO_ORG).fetchone()
        total = conn.execute("SELECT count(*) FROM clients").fetchone()
    assert row is not None and total is not None
    console.print(f"{row[0]} tables in public, {row[1]} with FORCE ROW LEVEL SECURITY")
    if org_row is None:
        fail("no demo data with embeddings; run `advisoros-db up --demo` first")
    org = org_row[0]

    console.rule("3. Tenant isolation, enforced by PostgreSQL")
    with pooler.connect(target.tenant_url) as conn:
        try:
            conn.execute("SELECT count(*) FROM clients")
            unscoped = "rows returned (isolation is NOT enforced)"
        except psycopg.errors.InsufficientPrivilege as exc:
            unscoped = f"refused: {exc.diag.message_primary}"
        conn.rollback()
        with tenant_transaction(conn, org):
            scoped = conn.execute("SELECT count(*) FROM clients").fetchone()
    console.print(f"clients in the database (owner's view):         {total[0]}")
    console.print(f"the app role with no tenant set:                {unscoped}")
    console.print(f"clients the app role sees as organization {org[:8]}…: {scoped and scoped[0]}")

    console.rule("4. Partitions: audit_logs by month, documents by tax year")
    by_parent: dict[str, list[dict[str, Any]]] = {}
    for part in partitioning.stats(target.admin_url):
        by_parent.setdefault(str(part["parent_table"]), []).append(part)
    for parent, parts in sorted(by_parent.items()):
        names = sorted(str(p["partition_name"]) for p in parts)
        rows = sum(int(p["row_estimate"] or 0) for p in parts)
        console.print(
            f"{parent}: {len(parts)} partitions ({names[0]} … {names[-1]}), about {rows:,} rows"
        )
    console.print("details: `advisoros-db partitions stats`")

    console.rule("5. Replica routing: health, lag from WAL positions")
    try:
        health.health(json_out=False)
    except typer.Exit as exc:
        if exc.exit_code:
            raise

    console.rule("6. Search inside one tenant")
    console.print('full-text: "nonemployee compensation"')
    search.text_search("nonemployee compensation", org=org, k=3)
    console.print('semantic: documents about "independent contractor payments"')
    search.similar(org=org, text="independent contractor payments", k=5)
    console.print(
        "\nNext: `advisoros-db --help`, `advisoros-db bench --scale tiny`, `advisoros-db serve`."
    )
