"""Run Alembic against a URL from Python: the CLI and the tests call these, never the shell."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import create_engine

from advisoros_db.errors import MigrationError, translated
from advisoros_db.urls import to_sqlalchemy

MIGRATIONS_DIR = Path(__file__).parent


def config(url: str | None = None, *, stdout: TextIO | None = None) -> Config:
    """An Alembic config pointing at this package's migrations and (optionally) a database URL."""
    # Offline (--sql) output goes to output_buffer, not stdout: without it the SQL went to the
    # process's stdout and upgrade_sql() returned an empty string.
    cfg = Config(stdout=stdout, output_buffer=stdout) if stdout is not None else Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        cfg.attributes["url"] = to_sqlalchemy(url)
    return cfg


@contextmanager
def _alembic_errors(action: str) -> Iterator[None]:
    # Alembic's own errors (unknown revision, ambiguous target) become a MigrationError that says
    # what was asked; lock timeouts and constraint failures arrive as the package's errors.
    try:
        with translated():
            yield
    except CommandError as exc:
        raise MigrationError(f"{action}: {exc}; `advisoros-db history` lists revisions") from None


def upgrade(url: str, revision: str = "head") -> None:
    with _alembic_errors(f"cannot upgrade to {revision}"):
        command.upgrade(config(url), revision)


def downgrade(url: str, revision: str) -> None:
    with _alembic_errors(f"cannot downgrade to {revision}"):
        command.downgrade(config(url), revision)


def downgrade_steps(url: str, steps: int) -> None:
    """Roll back `steps` revisions from the current one."""
    if steps < 1:
        raise MigrationError(f"--steps must be at least 1, got {steps}")
    downgrade(url, f"-{steps}")


def upgrade_sql(revision: str = "head", *, start: str | None = None) -> str:
    """The SQL an upgrade would run, without connecting (offline mode). Regression-tested."""
    out = io.StringIO()
    target = f"{start}:{revision}" if start else revision
    with _alembic_errors(f"cannot render SQL up to {revision}"):
        command.upgrade(config(stdout=out), target, sql=True)
    return out.getvalue()


def current(url: str) -> str | None:
    """The revision the database is at (None before the first migration)."""
    engine = create_engine(to_sqlalchemy(url))
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def history() -> list[tuple[str, str | None, str]]:
    """(revision, down_revision, message) from base to head."""
    script = ScriptDirectory.from_config(config())
    revisions = list(script.walk_revisions("base", "heads"))
    revisions.reverse()
    return [
        (
            rev.revision,
            rev.down_revision if isinstance(rev.down_revision, str) else None,
            rev.doc or "",
        )
        for rev in revisions
    ]
