"""Run Alembic against a URL from Python: the CLI and the tests call these, never the shell."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy import create_engine

from advisoros_db.errors import MigrationError, translated
from advisoros_db.migrations.app import LIBRARY_BRANCH, app_folder
from advisoros_db.urls import to_sqlalchemy

MIGRATIONS_DIR = Path(__file__).parent
AppMigrations = Path | str | None


def config(
    url: str | None = None, *, stdout: TextIO | None = None, app_migrations: AppMigrations = None
) -> Config:
    """An Alembic config pointing at this package's migrations, the application's own revision
    folder if any, and (optionally) a database URL."""
    # Offline (--sql) output goes to output_buffer, not stdout: without it the SQL went to the
    # process's stdout and upgrade_sql() returned an empty string.
    cfg = Config(stdout=stdout, output_buffer=stdout) if stdout is not None else Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    folders = [MIGRATIONS_DIR / "versions"]
    app = app_folder(app_migrations)
    if app is not None:
        folders.append(app)
    # ConfigParser interpolates '%': a folder name holding one must reach Alembic unchanged.
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option(
        "version_locations", os.pathsep.join(str(f).replace("%", "%%") for f in folders)
    )
    if url is not None:
        cfg.attributes["url"] = to_sqlalchemy(url)
    return cfg


def _target(revision: str) -> str:
    # With an application's branch there are two heads; "head" means all of them, as it did with
    # one branch.
    return "heads" if revision == "head" else revision


@contextmanager
def _alembic_errors(action: str) -> Iterator[None]:
    # Alembic's own errors (unknown revision, ambiguous target) become a MigrationError that says
    # what was asked; lock timeouts and constraint failures arrive as the package's errors.
    try:
        with translated():
            yield
    except (CommandError, RevisionError) as exc:
        raise MigrationError(
            f"{action}: {exc}; `advisoros-db history` lists revisions (an application's own "
            "revisions need --app-migrations DIR or ADVISOROS_APP_MIGRATIONS)"
        ) from None


def upgrade(url: str, revision: str = "heads", *, app_migrations: AppMigrations = None) -> None:
    """Upgrade to `revision` ("heads": the library's and the application's newest)."""
    with _alembic_errors(f"cannot upgrade to {revision}"):
        command.upgrade(config(url, app_migrations=app_migrations), _target(revision))


def downgrade(url: str, revision: str, *, app_migrations: AppMigrations = None) -> None:
    """Downgrade to `revision`; application revisions that depend on what goes are undone first."""
    with _alembic_errors(f"cannot downgrade to {revision}"):
        command.downgrade(config(url, app_migrations=app_migrations), revision)


def downgrade_steps(url: str, steps: int, *, app_migrations: AppMigrations = None) -> None:
    """Roll back `steps` revisions, newest first: the application's (which sit on top of the
    library's) before the library's."""
    if steps < 1:
        raise MigrationError(f"--steps must be at least 1, got {steps}")
    cfg = config(url, app_migrations=app_migrations)
    script = ScriptDirectory.from_config(cfg)
    for step in range(steps):
        applied = current_heads(url)
        if not applied:
            raise MigrationError(
                f"cannot roll back {steps} revisions: the database reached base after {step}"
            )
        head = _top(script, applied)
        # "<rev>@-1": one step down that head's own line, leaving any other head where it is.
        with _alembic_errors(f"cannot roll back {head}"):
            command.downgrade(cfg, f"{head}@-1")


def _top(script: ScriptDirectory, heads: tuple[str, ...]) -> str:
    """The applied head to undo first: one no other applied head depends on, the application's
    before the library's."""
    library = {rev.revision for rev in script.walk_revisions("base", f"{LIBRARY_BRANCH}@head")}
    outside = sorted(h for h in heads if h not in library)
    return outside[0] if outside else sorted(heads)[0]


def upgrade_sql(
    revision: str = "heads", *, start: str | None = None, app_migrations: AppMigrations = None
) -> str:
    """The SQL an upgrade would run, without connecting (offline mode). Regression-tested."""
    out = io.StringIO()
    target = f"{start}:{_target(revision)}" if start else _target(revision)
    with _alembic_errors(f"cannot render SQL up to {revision}"):
        command.upgrade(config(stdout=out, app_migrations=app_migrations), target, sql=True)
    return out.getvalue()


def current_heads(url: str) -> tuple[str, ...]:
    """Every revision the database's version table holds (one per branch applied), sorted."""
    engine = create_engine(to_sqlalchemy(url))
    try:
        with engine.connect() as conn:
            return tuple(sorted(MigrationContext.configure(conn).get_current_heads()))
    finally:
        engine.dispose()


def unapplied(current: tuple[str, ...], app_migrations: AppMigrations = None) -> list[str]:
    """Revisions of the folders a database whose version table holds `current` lacks.

    Alembic keeps only the newest revision of each line in the version table: once an
    application revision that `depends_on` the library's head is applied, the library's head
    is no longer listed but is applied all the same.
    """
    script = ScriptDirectory.from_config(config(app_migrations=app_migrations))
    with _alembic_errors(f"the database is at {', '.join(current)}"):
        everything = {rev.revision for rev in script.iterate_revisions("heads", "base")}
        applied = (
            {rev.revision for rev in script.iterate_revisions(current, "base")}
            if current
            else set()
        )
    return sorted(everything - applied)


def current(url: str) -> str | None:
    """The revision the database is at (None before the first migration); the version table's
    revisions joined by ", " when it holds several."""
    return ", ".join(current_heads(url)) or None


def script_heads(app_migrations: AppMigrations = None) -> tuple[str, ...]:
    """The newest revision of each branch in the folders (no connection)."""
    return tuple(
        sorted(ScriptDirectory.from_config(config(app_migrations=app_migrations)).get_heads())
    )


def history(*, app_migrations: AppMigrations = None) -> list[tuple[str, str | None, str]]:
    """(revision, down_revision, message) from base to head."""
    script = ScriptDirectory.from_config(config(app_migrations=app_migrations))
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
