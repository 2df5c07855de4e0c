"""`embed`: embed documents not yet embedded with a model, with a progress bar."""

from __future__ import annotations

from typing import Annotated

import typer

from advisoros_db.cli import servers
from advisoros_db.cli.output import JsonOption, command, console, hide_progress, print_json

app = typer.Typer()


@app.command()
@command
def embed(
    org: Annotated[
        str | None, typer.Option("--org", help="Only this organization (id); default: all.")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="Embedding model (default: the settings' model).")
    ] = None,
    everything: Annotated[
        bool, typer.Option("--all", help="Re-check every document (unchanged chunks are reused).")
    ] = False,
    json_out: JsonOption = False,
) -> None:
    """Chunk and embed documents' extracted text into document_embeddings."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from advisoros_db.search.pipeline import embed_pending

    target = servers.target()
    # One organization runs as the application role; all of them need the owner's view.
    url = target.tenant_url if org else target.admin_url
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=hide_progress(json_out),
    ) as progress:
        task = progress.add_task("embedding", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        report = embed_pending(url, org, model, everything=everything, progress=advance)
    summary = {
        "documents": len(report.embedded),
        "chunks": report.chunks,
        "computed": report.computed,
        "failed": {str(k): v for k, v in report.failed.items()},
    }
    if json_out:
        print_json(summary)
        return
    console.print(
        f"{summary['documents']} documents, {summary['chunks']} chunks "
        f"({summary['computed']} computed, the rest unchanged), {len(report.failed)} failed"
    )
    for doc, error in report.failed.items():
        console.print(f"  [red]{doc}[/]: {error}")
    if report.failed:
        raise typer.Exit(1)
