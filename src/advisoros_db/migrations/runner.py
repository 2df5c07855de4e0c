"""Run Alembic against a URL from Python: the CLI and the tests call these, never the shell."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import NullPool

from advisoros_db import advisory, pooler
from advisoros_db.errors import AdvisorOSError, LockTimeout, MigrationError, translated
from advisoros_db.migrations import destructive
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


MIGRATION_LOCK = "advisoros_db.migrations"
LOCK_WAIT_S = 600.0
"""How long a migrate or rollback waits for another one to finish before it gives up."""


@contextmanager
def _exclusive(url: str, on_wait: Callable[[], None] | None) -> Iterator[None]:
    # Two runs at once deadlocked on each other's DDL: the second now waits for the first (and
    # then finds nothing left to do) instead.
    acquired = False
    try:
        with advisory.holding(url, MIGRATION_LOCK, wait_s=LOCK_WAIT_S, on_wait=on_wait):
            acquired = True
            yield
    except LockTimeout:
        if acquired:  # the migration's own lock_timeout, not the wait for another run
            raise
        raise MigrationError(
            f"another migrate or rollback has been running for more than {LOCK_WAIT_S:g} s; "
            "let it finish (or stop it), then run this again"
        ) from None


def upgrade(
    url: str,
    revision: str = "heads",
    *,
    on_wait: Callable[[], None] | None = None,
    app_migrations: AppMigrations = None,
) -> None:
    """Upgrade to `revision` ("heads": the library's and the application's newest), one run at a
    time per database (`on_wait()` runs if another one is running)."""
    with _exclusive(url, on_wait), _alembic_errors(f"cannot upgrade to {revision}"):
        command.upgrade(config(url, app_migrations=app_migrations), _target(revision))


@dataclass(frozen=True)
class Rollback:
    """What a rollback did: the revisions undone, newest first, and where the database is."""

    undone: list[str]
    at: str | None


def downgrade(
    url: str,
    revision: str,
    *,
    confirm: bool = False,
    on_wait: Callable[[], None] | None = None,
    app_migrations: AppMigrations = None,
) -> Rollback:
    """Roll back to `revision`, one revision at a time; an application's revisions that depend on
    what goes are undone first.

    A rollback that would drop tables holding rows is refused (listing them) unless `confirm`.
    If a revision's downgrade fails, `MigrationError` says which, why, what was undone before it
    and the revision the database is left at.
    """
    with _exclusive(url, on_wait):
        start = current_heads(url)
        with _alembic_errors(f"cannot downgrade to {revision}"):
            steps = _steps_down(start, revision, app_migrations)
        return _run_steps(url, steps, confirm=confirm, app_migrations=app_migrations)


def downgrade_steps(
    url: str,
    steps: int,
    *,
    confirm: bool = False,
    on_wait: Callable[[], None] | None = None,
    app_migrations: AppMigrations = None,
) -> Rollback:
    """Roll back `steps` revisions, newest first: the application's (which sit on top of the
    library's) before the library's (see `downgrade`)."""
    if steps < 1:
        raise MigrationError(f"--steps must be at least 1, got {steps}")
    with _exclusive(url, on_wait):
        start = current_heads(url)
        with _alembic_errors("cannot roll back"):
            path = _steps_down(start, "base", app_migrations)
        if steps > len(path):
            raise MigrationError(
                f"--steps {steps}: the database is at {', '.join(start) or 'base'}, only "
                f"{len(path)} revision(s) can be rolled back"
            )
        return _run_steps(url, path[:steps], confirm=confirm, app_migrations=app_migrations)


def _steps_down(start: tuple[str, ...], target: str, app_migrations: AppMigrations) -> list[Script]:
    """The applied revisions above `target`, in the order they are undone: the application's
    first (nothing of the library's depends on them), each line newest first."""
    if not start:
        return []
    script = ScriptDirectory.from_config(config(app_migrations=app_migrations))
    applied = list(script.iterate_revisions(start, "base"))
    if target != "base":
        # What depends on the target, directly or through a chain, goes; other lines stay.
        target = script.get_revision(target).revision
        applied = [
            rev
            for rev in applied
            if rev.revision != target
            and target in {r.revision for r in script.iterate_revisions(rev.revision, "base")}
        ]
    library = {rev.revision for rev in script.iterate_revisions(f"{LIBRARY_BRANCH}@head", "base")}
    return [r for r in applied if r.revision not in library] + [
        r for r in applied if r.revision in library
    ]


def _run_steps(
    url: str, steps: list[Script], *, confirm: bool, app_migrations: AppMigrations
) -> Rollback:
    if not steps:
        return Rollback(undone=[], at=current(url))
    if not confirm:
        sql = "".join(_downgrade_sql(step, app_migrations) for step in steps)
        losses = destructive.losses(url, sql)
        if losses:
            last = steps[-1]
            target = _down_of(last)
            if target == "base" and last.dependencies:
                target = f"before {last.revision}"
            raise MigrationError(destructive.refusal(target, losses))
    cfg = config(url, app_migrations=app_migrations)
    undone: list[str] = []
    for step in steps:
        try:
            # "<rev>@-1": one step down that revision's own line, leaving any other line as it is.
            with _alembic_errors(f"cannot undo {step.revision}"):
                command.downgrade(cfg, f"{step.revision}@-1")
        except (AdvisorOSError, sa_exc.DBAPIError) as exc:
            at = current(url)
            reason = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc
            raise MigrationError(
                f"rollback stopped at {at or 'base'}: undoing {step.revision} failed: "
                f"{str(reason).strip().splitlines()[0]}. Undone before it: "
                f"{', '.join(undone) or 'nothing'}; not undone: "
                f"{', '.join(s.revision for s in steps[len(undone) :])}. Fix the cause and run "
                "the rollback again, or `advisoros-db migrate` to return to head"
            ) from exc
        undone.append(step.revision)
    return Rollback(undone=undone, at=current(url))


def _down_of(step: Script) -> str:
    down = step.down_revision
    return down if isinstance(down, str) else "base"


def _downgrade_sql(step: Script, app_migrations: AppMigrations) -> str:
    """The SQL undoing one revision would run (offline mode)."""
    below = _down_of(step)
    if below == "base" and step.dependencies:
        # An application's first revision: "rev:base" would also render the library's
        # downgrades (its dependency is an ancestor); one step down its own line renders it alone.
        below = f"{step.revision}@-1"
    out = io.StringIO()
    with _alembic_errors(f"cannot render the rollback of {step.revision}"):
        command.downgrade(
            config(stdout=out, app_migrations=app_migrations),
            f"{step.revision}:{below}",
            sql=True,
        )
    return out.getvalue()


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
    engine = pooler.engine(to_sqlalchemy(url), poolclass=NullPool)
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
