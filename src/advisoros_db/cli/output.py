"""Shared output helpers: JSON for machines, Rich for people, errors on stderr with an exit code.

Exit codes (docs/cli.md): 0 done; 1 the command failed or found a problem (drift, an unhealthy
primary, a broken audit chain...); 2 the command line was wrong (click's usage errors, and
`typer.BadParameter` raised by a command).
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

# Only light modules here: every command module imports this one at `--help` time.
console = Console()
err_console = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]

_mode = {"json": False, "quiet": False}


def set_quiet(quiet: bool) -> None:
    """`advisoros-db --quiet`: progress bars stay hidden (results and errors still print)."""
    _mode["quiet"] = quiet


def hide_progress(json_out: bool) -> bool:
    """Progress bars show for people: not with --json (stdout is the JSON) nor --quiet."""
    return json_out or _mode["quiet"]


def print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")


def fail(message: str, code: int = 1, *, kind: str = "error") -> NoReturn:
    """Print the error on stderr (one JSON object with --json, else one line) and exit `code`."""
    if _mode["json"]:
        sys.stderr.write(json.dumps({"error": message, "kind": kind, "exit_code": code}) + "\n")
    else:
        # Escaped: a message naming "[embedded]" or a value in brackets is text, not Rich markup.
        err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def errors_as_messages() -> Iterator[None]:
    """Turn the package's own errors (and a command's BadParameter) into one clear message and a
    non-zero exit, not a traceback."""
    from advisoros_db.errors import AdvisorOSError
    from advisoros_db.extras import MissingExtra

    try:
        yield
    except (AdvisorOSError, MissingExtra) as exc:  # MissingExtra: e.g. `up` without [embedded]
        fail(str(exc), kind=type(exc).__name__)
    except typer.BadParameter as exc:
        if not _mode["json"]:
            raise  # click prints its usage text and exits 2
        fail(exc.format_message(), code=exc.exit_code, kind="usage")
    except Exception as exc:
        if not _from_driver(exc):
            raise
        _explain_driver_error(exc)


def _from_driver(exc: BaseException) -> bool:
    """A psycopg or SQLAlchemy driver error, or text that is not UTF-8. The drivers are looked up
    in sys.modules, not imported: an error can only come from a driver that is loaded."""
    if isinstance(exc, UnicodeError):
        return True
    psycopg, sa_exc = sys.modules.get("psycopg"), sys.modules.get("sqlalchemy.exc")
    return (psycopg is not None and isinstance(exc, psycopg.Error)) or (
        sa_exc is not None and isinstance(exc, sa_exc.DBAPIError)
    )


def _explain_driver_error(exc: Exception) -> NoReturn:
    from sqlalchemy import exc as sa_exc

    from advisoros_db.errors import explain

    mine = explain(exc)
    if mine is not None:
        fail(str(mine), kind=type(mine).__name__)
    original = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc
    code = getattr(original, "sqlstate", None)
    fail(f"the database refused this ({code or type(original).__name__}): {original}".strip())


def command(func: Callable[..., None]) -> Callable[..., None]:
    """Decorate a command body: AdvisorOSError prints as a message, as JSON when `--json`."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        previous = _mode["json"]
        _mode["json"] = bool(kwargs.get("json_out", False))
        try:
            with errors_as_messages():
                func(*args, **kwargs)
        finally:
            _mode["json"] = previous

    return wrapper


def cell(value: Any) -> str:
    """A table cell: a missing value is blank, not `None`."""
    return "" if value is None else str(value)


def id_column(table: Any, header: str, values: Iterable[Any], **kwargs: Any) -> None:
    """A column of identifiers a user copies (ids, partition names): as wide as its longest value,
    never wrapped or ellipsized; a narrow terminal wraps the other columns instead (and only if
    even that cannot fit, folds the id whole onto the next line rather than cutting it)."""
    width = max([len(header), *(len(cell(v)) for v in values)])
    table.add_column(header, no_wrap=True, overflow="fold", min_width=width, **kwargs)
