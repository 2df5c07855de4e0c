"""Differences between the models and a database, as lines a person can read (`advisoros-db check`)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, pool

from advisoros_db import pooler
from advisoros_db.migrations.compare import compare_options, quiet_expression_indexes
from advisoros_db.schema import metadata
from advisoros_db.urls import to_sqlalchemy


def _name(obj: Any) -> str:
    table = getattr(obj, "table", None)
    name = getattr(obj, "name", None) or "(unnamed)"
    return f"{name} on {table.name}" if table is not None else str(name)


def describe(diff: Any) -> str:
    """One readable line for one Alembic diff entry."""
    if isinstance(diff, list):  # column modifications come grouped
        return "; ".join(describe(item) for item in diff)
    kind = diff[0]
    if kind in ("add_table", "remove_table"):
        where = "the models only" if kind == "add_table" else "the database only"
        return f"table {diff[1].name}: in {where}"
    if kind in ("add_column", "remove_column"):
        where = "the models only" if kind == "add_column" else "the database only"
        return f"column {diff[2]}.{diff[3].name}: in {where}"
    if kind in (
        "add_index",
        "remove_index",
        "add_constraint",
        "remove_constraint",
        "add_fk",
        "remove_fk",
    ):
        where = "the models only" if kind.startswith("add") else "the database only"
        what = kind.split("_", 1)[1].replace("fk", "foreign key")
        return f"{what} {_name(diff[1])}: in {where}"
    if kind.startswith("modify_"):
        _, _schema, table, column, _existing, old, new = diff
        what = kind.removeprefix("modify_").replace("_", " ")
        return f"column {table}.{column}: {what} is {old!r} in the database, {new!r} in the models"
    return repr(diff)


def head_revision() -> str | None:
    from advisoros_db.migrations.runner import config

    return ScriptDirectory.from_config(config()).get_current_head()


def drift(url: str, target: MetaData = metadata) -> list[str]:
    """Everything that differs between the models (`target`) and the database at `url`; empty
    means none."""
    lines: list[str] = []
    engine = pooler.engine(to_sqlalchemy(url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
            head = head_revision()
            if current != head:
                lines.append(
                    f"database is at {current or 'base'}, the migrations' head is {head}: "
                    f"run `advisoros-db migrate`"
                )
            context = MigrationContext.configure(
                conn, opts={"target_metadata": target, **compare_options(conn)}
            )
            with quiet_expression_indexes():
                diffs = compare_metadata(context, target)
    finally:
        engine.dispose()
    lines.extend(describe(diff) for diff in diffs)
    return lines
