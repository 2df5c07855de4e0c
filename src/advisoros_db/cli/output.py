"""Shared output helpers: JSON for machines, Rich for people, errors on stderr with exit code 1."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import psycopg
import typer
from rich.console import Console
from sqlalchemy import exc as sa_exc

from advisoros_db.errors import AdvisorOSError, explain

console = Console()
err_console = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


@contextmanager
def errors_as_messages() -> Iterator[None]:
    """Turn the package's own errors into one clear line and a non-zero exit, not a traceback."""
    try:
        yield
    except AdvisorOSError as exc:
        fail(str(exc))
    except (psycopg.Error, sa_exc.DBAPIError, UnicodeError) as exc:
        mine = explain(exc)
        if mine is not None:
            fail(str(mine))
        original = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc
        code = getattr(original, "sqlstate", None)
        fail(f"the database refused this ({code or type(original).__name__}): {original}".strip())


def command(func: Callable[..., None]) -> Callable[..., None]:
    """Decorate a command body so AdvisorOSError prints as a message."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        with errors_as_messages():
            func(*args, **kwargs)

    return wrapper
