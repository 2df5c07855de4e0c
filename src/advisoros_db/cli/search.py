"""`search text|similar|hybrid|index`: thin shells over advisoros_db.search, as the application role."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from advisoros_db.cli import servers
from advisoros_db.cli.output import JsonOption, command, console, fail, print_json
from advisoros_db.search import fulltext, hybrid, indexes, semantic
from advisoros_db.search.connections import connect
from advisoros_db.search.embedders import DEFAULT_MODEL, get_embedder
from advisoros_db.settings import get_settings

app = typer.Typer(no_args_is_help=True, help="Search one organization's documents and records.")

OrgOption = Annotated[str, typer.Option("--org", help="The organization's id (UUID).")]
KOption = Annotated[int, typer.Option("-k", "--limit", help="How many results.", min=1, max=1000)]
ModelOption = Annotated[
    str | None, typer.Option("--model", help="Embedding model (default: the settings' model).")
]


def _print(results: list[dict[str, Any]], json_out: bool, columns: list[str]) -> None:
    if json_out:
        print_json({"results": results})
        return
    if not results:
        console.print("no results")
        return
    table = Table(*columns)
    for row in results:
        table.add_row(
            *(f"{row[c]:.4f}" if isinstance(row[c], float) else str(row[c]) for c in columns)
        )
    console.print(table)


@app.command("text")
@command
def text_search(
    query: Annotated[str, typer.Argument(help='Words, "phrases", -exclusions, or OR.')],
    *,
    org: OrgOption,
    kinds: Annotated[
        list[str] | None,
        typer.Option("--in", help="documents, clients, tasks, notes or advisors (repeatable)."),
    ] = None,
    prefix: Annotated[bool, typer.Option("--prefix", help="Last word as a prefix.")] = False,
    k: KOption = 10,
    json_out: JsonOption = False,
) -> None:
    """Full-text search: ranked matches with highlighted snippets."""
    chosen = kinds or ["documents"]
    unknown = [kind for kind in chosen if kind not in fulltext.KINDS]
    if unknown:
        fail(f"cannot search in {', '.join(unknown)}; choose from {', '.join(fulltext.KINDS)}")
    with connect(servers.target().tenant_url) as conn:
        hits = fulltext.search_text(conn, org, query, kinds=chosen, k=k, prefix=prefix)  # type: ignore[arg-type]
    rows = [
        {
            "kind": h.kind,
            ("document_id" if h.kind == "documents" else "id"): str(h.id),
            "title": h.title,
            "score": h.score,
            "snippet": h.snippet,
        }
        for h in hits
    ]
    if json_out:
        print_json({"results": rows})
        return
    for row in rows:
        row["id"] = row.get("document_id", row.get("id"))
    _print(rows, False, ["kind", "id", "title", "score", "snippet"])


@app.command("similar")
@command
def similar(
    *,
    org: OrgOption,
    document: Annotated[
        str | None, typer.Option("--document", help="Find documents similar to this one.")
    ] = None,
    text: Annotated[str | None, typer.Option("--text", help="Find documents about this.")] = None,
    k: KOption = 10,
    model: ModelOption = None,
    json_out: JsonOption = False,
) -> None:
    """Semantic search: documents nearest in meaning, one result per document."""
    if (document is None) == (text is None):
        fail('give exactly one of --document ID or --text "..."')
    settings = get_settings()
    with connect(servers.target(settings).tenant_url) as conn:
        if document is not None:
            result = semantic.similar_documents(
                conn, org, document, k, model=model or settings.embedding_model
            )
        else:
            embedder = get_embedder(model, settings)
            result = semantic.similar_to_text(conn, org, text or "", embedder, k)
    rows = [
        {
            "document_id": str(h.document_id),
            "file_name": h.file_name,
            "score": h.score,
            "chunk_index": h.chunk_index,
        }
        for h in result.hits
    ]
    _print(rows, json_out, ["document_id", "file_name", "score"])


@app.command("hybrid")
@command
def hybrid_search(
    query: Annotated[str, typer.Argument(help="What to look for, in any words.")],
    org: OrgOption,
    k: KOption = 10,
    model: ModelOption = None,
    json_out: JsonOption = False,
) -> None:
    """Full-text and semantic results fused by reciprocal rank."""
    settings = get_settings()
    embedder = get_embedder(model, settings)
    with connect(servers.target(settings).tenant_url) as conn:
        hits = hybrid.search_hybrid(conn, org, query, embedder, k)
    rows = [
        {
            "document_id": str(h.document_id),
            "file_name": h.title,
            "score": h.score,
            "text_rank": h.text_rank,
            "semantic_rank": h.semantic_rank,
        }
        for h in hits
    ]
    _print(rows, json_out, ["document_id", "file_name", "score", "text_rank", "semantic_rank"])


@app.command("index")
@command
def build_index(
    model: Annotated[str, typer.Option("--model", help="Embedding model.")] = DEFAULT_MODEL,
    org: Annotated[
        str | None,
        typer.Option("--org", help="Promote this (large) organization to its own partial index."),
    ] = None,
    drop: Annotated[bool, typer.Option("--drop", help="Remove the index instead.")] = False,
    json_out: JsonOption = False,
) -> None:
    """Maintenance: build (CONCURRENTLY) a model's HNSW index, or a large tenant's own one."""
    admin = servers.target().admin_url
    if drop:
        indexes.drop_index(admin, model, org)
        name = indexes.index_name(model, org)
        verb = "dropped"
    else:
        name = indexes.ensure_index(admin, model, org)
        verb = "ready"
    if json_out:
        print_json({"index": name, "status": verb})
    else:
        console.print(f"{name} {verb}")
