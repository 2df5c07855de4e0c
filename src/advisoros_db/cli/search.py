"""`search text|similar|hybrid|index`: thin shells over advisoros_db.search, as the application role."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any

import typer

from advisoros_db.cli import servers
from advisoros_db.cli.output import JsonOption, cell, command, console, fail, id_column, print_json

if TYPE_CHECKING:
    from rich.text import Text

app = typer.Typer(no_args_is_help=True, help="Search one organization's documents and records.")

OrgOption = Annotated[str, typer.Option("--org", help="The organization's id (UUID).")]
KOption = Annotated[int, typer.Option("-k", "--limit", help="How many results.", min=1, max=1000)]
ModelOption = Annotated[
    str | None, typer.Option("--model", help="Embedding model (default: the settings' model).")
]


# Columns a user copies into the next command (`search similar --document ID`): never cut.
_ID_COLUMNS = {"id", "document_id", "kind"}
_MARK = re.compile(r"<mark>(.*?)</mark>", re.DOTALL)


def highlighted(snippet: str) -> Text:
    """A full-text snippet with its matches in terminal styling instead of ts_headline's literal
    `<mark>` tags (the document's own text is never read as Rich markup)."""
    from rich.text import Text

    text = Text()
    last = 0
    for match in _MARK.finditer(snippet):
        text.append(snippet[last : match.start()])
        text.append(match.group(1), style="bold reverse")
        last = match.end()
    text.append(snippet[last:])
    return text


def _shown(value: Any, column: str) -> str | Text:
    if column == "snippet" and isinstance(value, str):
        return highlighted(value)
    if isinstance(value, float):
        return f"{value:.4f}"
    return cell(value)


def _title_and_snippet(row: dict[str, Any]) -> Text:
    """The title, and the snippet under it in the same cell: the widest text gets one column."""
    from rich.text import Text

    shown = Text(cell(row.get("title")), style="bold")
    if row.get("snippet"):
        shown.append("\n")
        shown.append_text(highlighted(row["snippet"]))
    return shown


def _print(results: list[dict[str, Any]], json_out: bool, columns: list[str]) -> None:
    if json_out:
        print_json({"results": results})
        return
    if not results:
        console.print("no results")
        return
    from rich.table import Table

    if len({row.get("kind") for row in results}) == 1 and "kind" in columns:
        columns = [c for c in columns if c != "kind"]  # one kind: said once, in the title
    merge = "title" in columns and "snippet" in columns
    table = Table(title=cell(results[0].get("kind")) if "kind" not in columns else None)
    for column in columns:
        if column == "snippet" and merge:
            continue
        if column in _ID_COLUMNS:
            id_column(table, column, (row.get(column) for row in results))
        elif column in {"title", "file_name", "snippet"}:
            table.add_column(column if not merge else "match", overflow="fold", ratio=1)
        else:
            table.add_column(column, no_wrap=True, justify="right")
    for row in results:
        table.add_row(
            *(
                _title_and_snippet(row) if merge and c == "title" else _shown(row.get(c), c)
                for c in columns
                if not (merge and c == "snippet")
            )
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
    rows = text_rows(org, query, kinds or ["documents"], k=k, prefix=prefix)
    if json_out:
        print_json({"results": rows})
        return
    for row in rows:
        row["id"] = row.get("document_id", row.get("id"))
    _print(rows, False, ["kind", "id", "title", "score", "snippet"])


def text_rows(
    org: str, query: str, chosen: list[str], *, k: int, prefix: bool = False
) -> list[dict[str, Any]]:
    """Full-text hits as rows (what `search text --json` prints)."""
    from advisoros_db.search import fulltext
    from advisoros_db.search.connections import connect

    unknown = [kind for kind in chosen if kind not in fulltext.KINDS]
    if unknown:
        fail(
            f"cannot search in {', '.join(unknown)}; choose from {', '.join(fulltext.KINDS)}",
            code=2,
            kind="usage",
        )
    with connect(servers.target().tenant_url) as conn:
        hits = fulltext.search_text(conn, org, query, kinds=chosen, k=k, prefix=prefix)  # type: ignore[arg-type]
    return [
        {
            "kind": h.kind,
            ("document_id" if h.kind == "documents" else "id"): str(h.id),
            "title": h.title,
            "score": h.score,
            "snippet": h.snippet,
        }
        for h in hits
    ]


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
        fail('give exactly one of --document ID or --text "..."', code=2, kind="usage")
    rows = similar_rows(org, document=document, text=text, k=k, model=model)
    _print(rows, json_out, ["document_id", "file_name", "score"])


def similar_rows(
    org: str, *, document: str | None, text: str | None, k: int, model: str | None = None
) -> list[dict[str, Any]]:
    """Semantic hits as rows (what `search similar --json` prints)."""
    from advisoros_db.search import semantic
    from advisoros_db.search.connections import connect
    from advisoros_db.search.embedders import get_embedder
    from advisoros_db.settings import get_settings

    settings = get_settings()
    with connect(servers.target(settings).tenant_url) as conn:
        if document is not None:
            result = semantic.similar_documents(
                conn, org, document, k, model=model or settings.embedding_model
            )
        else:
            embedder = get_embedder(model, settings)
            result = semantic.similar_to_text(conn, org, text or "", embedder, k)
    return [
        {
            "document_id": str(h.document_id),
            "file_name": h.file_name,
            "score": h.score,
            "chunk_index": h.chunk_index,
        }
        for h in result.hits
    ]


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
    from advisoros_db.search import hybrid
    from advisoros_db.search.connections import connect
    from advisoros_db.search.embedders import get_embedder
    from advisoros_db.settings import get_settings

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
    model: Annotated[
        str | None, typer.Option("--model", help="Embedding model (default: the built-in one).")
    ] = None,
    org: Annotated[
        str | None,
        typer.Option("--org", help="Promote this (large) organization to its own partial index."),
    ] = None,
    drop: Annotated[bool, typer.Option("--drop", help="Remove the index instead.")] = False,
    json_out: JsonOption = False,
) -> None:
    """Maintenance: build (CONCURRENTLY) a model's HNSW index, or a large tenant's own one."""
    from advisoros_db.search import indexes
    from advisoros_db.search.embedders import DEFAULT_MODEL

    model = model or DEFAULT_MODEL
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
