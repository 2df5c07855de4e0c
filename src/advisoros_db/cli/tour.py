"""`tour`: a short, real walk through what the system does, on the running servers and demo data."""

from __future__ import annotations

from typing import Any

import typer

from advisoros_db.cli import health, search, servers
from advisoros_db.cli.output import JsonOption, command, console, fail, print_json

app = typer.Typer()

# The organization the demo embedded documents for: the one with the most chunks.
_DEMO_ORG = """
SELECT organization_id::text FROM document_embeddings
GROUP BY organization_id ORDER BY count(*) DESC, organization_id LIMIT 1
"""
_TEXT_QUERY = "nonemployee compensation"
_MEANING_QUERY = "independent contractor payments"


@app.command()
@command
def tour(json_out: JsonOption = False) -> None:
    """Show the servers, the schema, tenant isolation, partitions, routing health and search."""
    import psycopg

    from advisoros_db import migrations, partitioning, pooler
    from advisoros_db.tenancy import tenant_transaction
    from advisoros_db.urls import mask

    def say(text: str) -> None:
        if not json_out:
            console.print(text)

    def rule(title: str) -> None:
        if not json_out:
            console.rule(title)

    target = servers.target()
    facts: dict[str, Any] = {
        "primary": mask(target.admin_url),
        "replicas": [mask(url) for url in target.replica_urls],
    }
    rule("1. Servers: a primary and streaming replicas")
    say(f"primary   {facts['primary']}")
    for url in facts["replicas"]:
        say(f"replica   {url}")

    rule("2. Schema: migrated with Alembic, every revision reversible")
    facts["revision"] = migrations.current(target.admin_url)
    say(f"at revision {facts['revision'] or 'base'}")
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
    facts["tables"], facts["tables_forcing_rls"] = row[0], row[1]
    say(f"{row[0]} tables in public, {row[1]} with FORCE ROW LEVEL SECURITY")
    if org_row is None:
        fail("no demo data with embeddings; run `advisoros-db up --demo` first")
    org = org_row[0]

    rule("3. Tenant isolation, enforced by PostgreSQL")
    with pooler.connect(target.tenant_url) as conn:
        try:
            conn.execute("SELECT count(*) FROM clients")
            unscoped = "rows returned (isolation is NOT enforced)"
        except psycopg.errors.InsufficientPrivilege as exc:
            unscoped = f"refused: {exc.diag.message_primary}"
        conn.rollback()
        with tenant_transaction(conn, org):
            scoped = conn.execute("SELECT count(*) FROM clients").fetchone()
    facts["isolation"] = {
        "organization_id": org,
        "clients_owner_sees": total[0],
        "app_role_without_tenant": unscoped,
        "clients_app_role_sees": scoped[0] if scoped else None,
    }
    say(f"clients in the database (owner's view):         {total[0]}")
    say(f"the app role with no tenant set:                {unscoped}")
    say(f"clients the app role sees as organization {org[:8]}…: {scoped and scoped[0]}")

    rule("4. Partitions: audit_logs by month, documents by tax year")
    by_parent: dict[str, list[dict[str, Any]]] = {}
    for part in partitioning.stats(target.admin_url):
        by_parent.setdefault(str(part["parent_table"]), []).append(part)
    facts["partitions"] = {}
    for parent, parts in sorted(by_parent.items()):
        names = sorted(str(p["partition_name"]) for p in parts)
        rows = sum(int(p["row_estimate"] or 0) for p in parts)
        facts["partitions"][parent] = {
            "partitions": len(parts),
            "first": names[0],
            "last": names[-1],
            "rows_estimate": rows,
        }
        say(f"{parent}: {len(parts)} partitions ({names[0]} … {names[-1]}), about {rows:,} rows")
    say("details: `advisoros-db partitions stats`")

    rule("5. Replica routing: health, lag from WAL positions")
    if json_out:
        facts["health"] = health.as_json(*health.probe())
    else:
        try:
            health.health(json_out=False)
        except typer.Exit as exc:
            if exc.exit_code:
                raise

    rule("6. Search inside one tenant")
    if json_out:
        facts["search"] = {
            "text": {
                "query": _TEXT_QUERY,
                "results": search.text_rows(org, _TEXT_QUERY, ["documents"], k=3),
            },
            "similar": {
                "text": _MEANING_QUERY,
                "results": search.similar_rows(org, document=None, text=_MEANING_QUERY, k=5),
            },
        }
        print_json(facts)
        if not facts["health"]["primary"]["available"]:
            raise typer.Exit(1)  # as `health` and the tour without --json
        return
    console.print(f'full-text: "{_TEXT_QUERY}"')
    search.text_search(_TEXT_QUERY, org=org, k=3)
    console.print(f'semantic: documents about "{_MEANING_QUERY}"')
    search.similar(org=org, text=_MEANING_QUERY, k=5)
    console.print(
        "\nNext: `advisoros-db --help`, `advisoros-db bench --scale tiny`, `advisoros-db serve`."
    )
