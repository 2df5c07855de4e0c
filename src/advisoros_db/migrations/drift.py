"""Differences between the models and a database, as lines a person can read (`advisoros-db check`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
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


def combined(library: MetaData, app: MetaData | None) -> MetaData:
    """One MetaData of the library's tables and the application's: an application table's
    foreign key to `clients.id` then resolves, whichever MetaData the application declared."""
    if app is None or app is library:
        return library
    merged = MetaData(naming_convention=library.naming_convention)
    for table in (*library.tables.values(), *app.tables.values()):
        if table.key not in merged.tables:
            table.to_metadata(merged)
    return merged


def head_revision() -> str | None:
    """The library's newest revision."""
    from advisoros_db.migrations.runner import script_heads

    return script_heads()[0]


def drift(
    url: str,
    target: MetaData = metadata,
    *,
    app_migrations: Path | str | None = None,
    app_metadata: MetaData | None = None,
) -> list[str]:
    """Everything that differs between the models (`target`, plus the application's
    `app_metadata`) and the database at `url`, and whether the database is at every head (the
    library's and, with `app_migrations`, the application's); empty means none."""
    from advisoros_db.migrations.runner import script_heads, unapplied

    lines: list[str] = []
    heads = script_heads(app_migrations)
    models = combined(target, app_metadata)
    engine = pooler.engine(to_sqlalchemy(url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            current = tuple(sorted(MigrationContext.configure(conn).get_current_heads()))
            if unapplied(current, app_migrations):
                at = ", ".join(current) or "base"
                lines.append(
                    f"database is at {at}, the migrations' head is {', '.join(heads)}: "
                    f"run `advisoros-db migrate`"
                )
            context = MigrationContext.configure(
                conn, opts={"target_metadata": models, **compare_options(conn)}
            )
            with quiet_expression_indexes():
                diffs = compare_metadata(context, models)
    finally:
        engine.dispose()
    lines.extend(describe(diff) for diff in diffs)
    return lines
