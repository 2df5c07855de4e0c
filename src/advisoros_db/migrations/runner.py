"""Run Alembic against a URL from Python: the CLI and the tests call these, never the shell."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import NullPool

from advisoros_db import advisory, pooler
from advisoros_db.errors import AdvisorOSError, LockTimeout, MigrationError, translated
from advisoros_db.migrations import destructive
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


def upgrade(url: str, revision: str = "head", *, on_wait: Callable[[], None] | None = None) -> None:
    """Upgrade to `revision`, one run at a time per database (`on_wait()` runs if another runs)."""
    with _exclusive(url, on_wait), _alembic_errors(f"cannot upgrade to {revision}"):
        command.upgrade(config(url), revision)


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
) -> Rollback:
    """Roll back to `revision`, one revision at a time.

    A rollback that would drop tables holding rows is refused (listing them) unless `confirm`.
    If a revision's downgrade fails, `MigrationError` says which, why, what was undone before it
    and the revision the database is left at.
    """
    with _exclusive(url, on_wait):
        start = current(url)
        with _alembic_errors(f"cannot downgrade to {revision}"):
            steps = _steps_down(start, revision)
        return _run_steps(url, start, steps, confirm=confirm)


def downgrade_steps(
    url: str, steps: int, *, confirm: bool = False, on_wait: Callable[[], None] | None = None
) -> Rollback:
    """Roll back `steps` revisions from the current one (see `downgrade`)."""
    if steps < 1:
        raise MigrationError(f"--steps must be at least 1, got {steps}")
    with _exclusive(url, on_wait):
        start = current(url)
        with _alembic_errors("cannot roll back"):
            path = _steps_down(start, "base")
        if steps > len(path):
            raise MigrationError(
                f"--steps {steps}: the database is at {start or 'base'}, only {len(path)} "
                "revision(s) can be rolled back"
            )
        return _run_steps(url, start, path[:steps], confirm=confirm)


def _steps_down(start: str | None, target: str) -> list[Script]:
    if start is None:
        return []
    script = ScriptDirectory.from_config(config())
    if target != "base":
        target = script.get_revision(target).revision
    return list(script.iterate_revisions(start, target))


def _run_steps(url: str, start: str | None, steps: list[Script], *, confirm: bool) -> Rollback:
    if not steps:
        return Rollback(undone=[], at=start)
    target = _down_of(steps[-1])
    if not confirm:
        losses = destructive.losses(url, _downgrade_sql(start or "base", target))
        if losses:
            raise MigrationError(destructive.refusal(target, losses))
    undone: list[str] = []
    for step in steps:
        try:
            with _alembic_errors(f"cannot undo {step.revision}"):
                command.downgrade(config(url), _down_of(step))
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


def _downgrade_sql(start: str, target: str) -> str:
    out = io.StringIO()
    with _alembic_errors(f"cannot render the rollback to {target}"):
        command.downgrade(config(stdout=out), f"{start}:{target}", sql=True)
    return out.getvalue()


def upgrade_sql(revision: str = "head", *, start: str | None = None) -> str:
    """The SQL an upgrade would run, without connecting (offline mode). Regression-tested."""
    out = io.StringIO()
    target = f"{start}:{revision}" if start else revision
    with _alembic_errors(f"cannot render SQL up to {revision}"):
        command.upgrade(config(stdout=out), target, sql=True)
    return out.getvalue()


def current(url: str) -> str | None:
    """The revision the database is at (None before the first migration)."""
    engine = pooler.engine(to_sqlalchemy(url), poolclass=NullPool)
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
